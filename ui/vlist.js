// Virtualised list: only the rows in (and just around) the viewport are in the DOM.
// Row heights are estimated (one line height, or the wrapped length) and measured once
// when a row is first painted (cached on the record); positions are prefix sums recomputed
// lazily from the first changed index, and rows leaving the front only move their origin.

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
    this.base = 0; // tops[base] is row 0: removing rows from the front only moves it
    this.shown = null;
    this.lastTotal = 0;
    this.vh = 0;
    this.measureFont();
    new ResizeObserver(() => { this.vh = 0; }).observe(viewport);
  }

  measureFont() {
    const probe = document.createElement('div');
    probe.className = 'row';
    probe.style.position = 'absolute';
    probe.style.visibility = 'hidden';
    for (const [cls, text] of [['ts', '2026-01-01 00:00:00.000'], ['sm', 'E'], ['lv', 'info']]) {
      const s = document.createElement('span');
      s.className = cls;
      s.textContent = text;
      probe.appendChild(s);
    }
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

  /** rows: anything with .length and .at(i), sorted by (k, seq). */
  setRows(rows) { this.rows = rows; this.dirty = 0; this.base = 0; }
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
  /** The first k rows left the front of this.rows: O(1), the prefix sums only move their origin. */
  trimFront(k) {
    if (k <= 0) return;
    if (this.dirty === Infinity || this.dirty >= k) {
      this.base += k;
      if (this.dirty !== Infinity) this.dirty -= k;
    } else {
      this.base = 0;
      this.dirty = 0;
    }
  }
  recOf(e) { return e ? this.recs.get(e) : undefined; }

  heightOf(r) {
    if (r.h) return r.h;
    if (!this.wrap || r.g) return this.rowH;
    const w = Math.max(200, this.viewport.clientWidth - 330);
    const len = r.p !== null && r.p !== undefined ? r.p.length : r.line.length;
    return this.rowH * Math.max(1, Math.ceil((len * this.charW) / w));
  }

  /** Prefix sums of the row heights from the first changed row on (tops[base + i] - tops[base]). */
  ensureTops() {
    const n = this.rows.length;
    if (this.dirty > n && this.dirty !== Infinity) this.dirty = n;
    if (this.dirty === Infinity) return;
    if (this.base + n + 1 > this.tops.length) {
      const keep = Math.min(this.dirty, n) + 1; // valid entries from base on
      if (n + 1 <= this.tops.length && this.base > 0) {
        this.tops.copyWithin(0, this.base, this.base + keep);
      } else {
        let cap = this.tops.length;
        while (cap < n + 1) cap *= 2;
        const t = new Float64Array(cap * 2);
        t.set(this.tops.subarray(this.base, this.base + keep));
        this.tops = t;
      }
      this.base = 0;
    }
    const tops = this.tops;
    const rows = this.rows;
    const b = this.base;
    if (this.dirty === 0) tops[b] = 0;
    let y = tops[b + this.dirty];
    for (let i = this.dirty; i < n; i++) { tops[b + i] = y; y += this.heightOf(rows.at(i)); }
    tops[b + n] = y;
    this.total = y - tops[b];
    this.dirty = Infinity;
  }

  top(i) { return this.tops[this.base + i] - this.tops[this.base]; }

  /** index of the row containing y (tops must be valid) */
  indexAt(y) {
    const tops = this.tops;
    const b = this.base;
    const y0 = tops[b] + y;
    let lo = 0, hi = this.rows.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (tops[b + mid + 1] <= y0) lo = mid + 1; else hi = mid; }
    return lo;
  }

  /** The row at the top of the view and the offset into it, from what was painted last
   *  (the rows may have changed since; the record is what keeps the view still). */
  anchor() {
    const st = this.viewport.scrollTop;
    const sh = this.shown;
    if (sh && sh.recs.length) {
      const j = sh.recs.length - 1;
      if (st >= sh.tops[0] && st < sh.tops[j] + sh.hs[j]) {
        let lo = 0, hi = j;
        while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (sh.tops[mid] <= st) lo = mid; else hi = mid - 1; }
        return { rec: sh.recs[lo], off: st - sh.tops[lo] };
      }
    }
    // far from what was painted (scrollbar dragged): same proportion of the current rows
    if (!this.rows.length) return null;
    const frac = this.lastTotal > 0 ? Math.min(1, st / this.lastTotal) : 0;
    return { rec: this.rows.at(Math.min(this.rows.length - 1, Math.floor(frac * this.rows.length))), off: 0 };
  }

  findIndex(rec) {
    const rows = this.rows;
    let lo = 0, hi = rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const m = rows.at(mid);
      if (m.k < rec.k || (m.k === rec.k && m.seq < rec.seq)) lo = mid + 1; else hi = mid;
    }
    for (let i = lo; i < rows.length; i++) {
      const m = rows.at(i);
      if (m === rec) return i;
      if (m.k !== rec.k || m.seq !== rec.seq) break;
    }
    return -1;
  }

  /** Puts the view at the bottom now (before the next paint), so that scroll events
   *  in between see it at the bottom. */
  toBottom() {
    this.ensureTops();
    const h = Math.ceil(this.total) + 'px';
    if (this.spacer.style.height !== h) this.spacer.style.height = h;
    const target = Math.max(0, this.total - this.viewport.clientHeight);
    this.viewport.scrollTop = target;
    this.followTop = this.viewport.scrollTop;
  }

  /** Lay out and paint; returns the records whose element was created in this frame.
   *  DOM writes first, then one read pass over the new rows only (their measured height
   *  is cached on the record). */
  render(follow, anchor) {
    this.needsAnotherFrame = false;
    this.ensureTops();
    const vp = this.viewport;
    const n = this.rows.length;
    const vh = this.vh || (this.vh = vp.clientHeight); // reads before the first write
    const cur = vp.scrollTop;
    const h = Math.ceil(this.total) + 'px';
    if (this.spacer.style.height !== h) this.spacer.style.height = h;
    let st;
    if (follow) {
      st = Math.max(0, this.total - vh);
      if (Math.abs(cur - st) > 1) vp.scrollTop = st;
      this.followTop = st;
    } else {
      st = cur;
      if (anchor) {
        const i = this.findIndex(anchor.rec);
        if (i >= 0) {
          const want = Math.max(0, Math.min(this.top(i) + anchor.off, this.total - vh));
          if (Math.abs(st - want) > 1) { vp.scrollTop = want; st = want; }
        }
      }
      st = Math.max(0, Math.min(st, this.total - vh));
    }
    let first = 0, last = -1;
    if (n) {
      first = Math.max(0, this.indexAt(st) - OVERSCAN);
      last = Math.min(n - 1, this.indexAt(st + vh) + OVERSCAN);
    }
    const want = new Set();
    for (let i = first; i <= last; i++) want.add(this.rows.at(i));
    for (const [rec, e] of this.els) if (!want.has(rec)) { e.remove(); this.els.delete(rec); }
    const created = [];
    const createdAt = [];
    let at = this.layer.firstChild;
    for (let i = first; i <= last; i++) {
      const rec = this.rows.at(i);
      let e = this.els.get(rec);
      if (!e) {
        e = this.build(rec);
        this.els.set(rec, e);
        this.recs.set(e, rec);
        created.push(rec);
        createdAt.push(i);
      }
      if (e === at) at = at.nextSibling;
      else this.layer.insertBefore(e, at);
    }
    const y = n ? this.top(first) : 0;
    const tf = `translateY(${y}px)`;
    if (this.layer.style.transform !== tf) this.layer.style.transform = tf;
    // measure the rows created now (one layout for all of them); the others are cached.
    // Without wrapping, a plain line is one line high (.row has a fixed line height):
    // no read, no forced layout.
    let changedAt = Infinity;
    for (let j = 0; j < created.length; j++) {
      const rec = created[j];
      if (!this.wrap && !rec.g && !rec.pretty) { rec.h = this.rowH; continue; }
      const eh = this.els.get(rec).offsetHeight;
      if (eh > 0 && eh !== this.heightOf(rec)) { if (createdAt[j] < changedAt) changedAt = createdAt[j]; }
      if (eh > 0) rec.h = eh;
    }
    if (changedAt !== Infinity) { this.dirty = Math.min(this.dirty, changedAt); this.needsAnotherFrame = true; }
    this.first = first;
    // what is painted, for anchor()
    const sh = { recs: [], tops: [], hs: [] };
    for (let i = first; i <= last; i++) { const r = this.rows.at(i); sh.recs.push(r); sh.tops.push(this.top(i)); sh.hs.push(this.heightOf(r)); }
    this.shown = sh;
    this.lastTotal = this.total;
    this.windowSize = last - first + 1;
    return created;
  }
}
