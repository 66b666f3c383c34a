// Virtualised list: only the rows in (and just around) the viewport are in the DOM.
// Row heights are measured once painted (estimated before), positions are prefix sums
// recomputed lazily from the first changed index.

const OVERSCAN = 6;

export class VList {
  constructor(viewport, spacer, layer, build) {
    this.viewport = viewport;
    this.spacer = spacer;
    this.layer = layer;
    this.build = build;
    this.rows = [];
    this.tops = new Float64Array(1024);
    this.dirty = 0;
    this.els = new Map(); // rec -> element currently in the layer
    this.recs = new WeakMap(); // element -> rec
    this.wrap = false;
    this.rowH = 18;
    this.charW = 7.2;
    this.total = 0;
    this.needsAnotherFrame = false;
    this.first = 0;
    this.measureFont();
  }

  measureFont() {
    const probe = document.createElement('div');
    probe.className = 'row';
    probe.style.position = 'absolute';
    probe.style.visibility = 'hidden';
    const tx = document.createElement('span');
    tx.className = 'tx';
    tx.textContent = 'x'.repeat(100);
    probe.appendChild(tx);
    this.layer.appendChild(probe);
    const r = tx.getBoundingClientRect();
    if (r.width > 0) this.charW = r.width / 100;
    if (probe.offsetHeight > 0) this.rowH = probe.offsetHeight;
    probe.remove();
  }

  setRows(rows) { this.rows = rows; this.dirty = 0; }
  invalidateFrom(i) { if (i < this.dirty) this.dirty = i; }
  invalidateAll() {
    for (const e of this.els.values()) e.remove();
    this.els.clear();
    this.dirty = 0;
  }
  invalidate(rec) {
    const e = this.els.get(rec);
    if (e) { e.remove(); this.els.delete(rec); }
    this.dirty = 0;
  }
  recOf(e) { return e ? this.recs.get(e) : undefined; }

  heightOf(r) {
    if (r.h) return r.h;
    if (!this.wrap || r.g) return this.rowH;
    const w = Math.max(200, this.viewport.clientWidth - 330);
    const len = r.p !== null && r.p !== undefined ? r.p.length : r.line.length;
    return this.rowH * Math.max(1, Math.ceil((len * this.charW) / w));
  }

  ensureTops() {
    const n = this.rows.length;
    if (this.tops.length < n + 1) {
      let cap = this.tops.length;
      while (cap < n + 1) cap *= 2;
      const t = new Float64Array(cap);
      t.set(this.tops.subarray(0, Math.min(this.dirty + 1, this.tops.length)));
      this.tops = t;
    }
    if (this.dirty <= n) {
      const tops = this.tops;
      const rows = this.rows;
      let y = this.dirty === 0 ? 0 : tops[this.dirty];
      for (let i = this.dirty; i < n; i++) { tops[i] = y; y += this.heightOf(rows[i]); }
      tops[n] = y;
      this.total = y;
    }
    this.dirty = Infinity;
  }

  /** index of the row containing y */
  indexAt(y) {
    const tops = this.tops;
    let lo = 0, hi = this.rows.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (tops[mid + 1] <= y) lo = mid + 1; else hi = mid; }
    return lo;
  }

  /** The first visible row and the offset of the viewport into it (to keep the view still). */
  anchor() {
    if (!this.rows.length || this.dirty !== Infinity) {
      const r = this.firstRec;
      return r ? { rec: r, off: this.firstOff } : null;
    }
    const st = this.viewport.scrollTop;
    const i = Math.min(this.indexAt(st), this.rows.length - 1);
    return { rec: this.rows[i], off: st - this.tops[i] };
  }

  findIndex(rec) {
    const rows = this.rows;
    let lo = 0, hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = rows[mid];
      if (m.k < rec.k || (m.k === rec.k && m.seq < rec.seq)) lo = mid + 1; else hi = mid;
    }
    return lo < rows.length && rows[lo] === rec ? lo : -1;
  }

  /** Lay out and paint; returns the records whose element was created in this frame. */
  render(follow, anchor) {
    this.needsAnotherFrame = false;
    this.ensureTops();
    const vp = this.viewport;
    const n = this.rows.length;
    const h = Math.ceil(this.total) + 'px';
    if (this.spacer.style.height !== h) this.spacer.style.height = h;
    const vh = vp.clientHeight;
    if (follow) {
      const target = Math.max(0, this.total - vh);
      if (Math.abs(vp.scrollTop - target) > 1) vp.scrollTop = target;
      this.followTop = vp.scrollTop;
    } else if (anchor) {
      const i = this.findIndex(anchor.rec);
      if (i >= 0) {
        const want = this.tops[i] + anchor.off;
        if (Math.abs(vp.scrollTop - want) > 1) vp.scrollTop = want;
      }
    }
    const st = vp.scrollTop;
    let first = 0, last = -1;
    if (n) {
      first = Math.max(0, this.indexAt(st) - OVERSCAN);
      last = Math.min(n - 1, this.indexAt(st + vh) + OVERSCAN);
    }
    const want = new Set();
    for (let i = first; i <= last; i++) want.add(this.rows[i]);
    for (const [rec, e] of this.els) if (!want.has(rec)) { e.remove(); this.els.delete(rec); }
    const created = [];
    let cur = this.layer.firstChild;
    for (let i = first; i <= last; i++) {
      const rec = this.rows[i];
      let e = this.els.get(rec);
      if (!e) {
        e = this.build(rec);
        this.els.set(rec, e);
        this.recs.set(e, rec);
        created.push(rec);
      }
      if (e === cur) cur = cur.nextSibling;
      else this.layer.insertBefore(e, cur);
    }
    const y = n ? this.tops[first] : 0;
    const tf = `translateY(${y}px)`;
    if (this.layer.style.transform !== tf) this.layer.style.transform = tf;
    // measure what is painted; correct the estimates
    let changedAt = Infinity;
    for (let i = first; i <= last; i++) {
      const rec = this.rows[i];
      const e = this.els.get(rec);
      const eh = e.offsetHeight;
      if (eh > 0 && eh !== this.heightOf(rec)) { rec.h = eh; if (i < changedAt) changedAt = i; }
      else if (eh > 0) rec.h = eh;
    }
    if (changedAt !== Infinity) { this.dirty = changedAt; this.needsAnotherFrame = true; }
    this.first = first;
    if (n) {
      const i = Math.min(this.indexAt(st), n - 1);
      this.firstRec = this.rows[i];
      this.firstOff = st - this.tops[i];
    } else this.firstRec = null;
    return created;
  }
}
