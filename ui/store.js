// The line store: every record the page holds (sorted by time, bounded to S.buf), the
// rows shown (all of them, or those the filters pass, with context lines and separators
// around search matches), the queues of lines received but not merged yet (or held while
// paused), and counts kept as lines come and go (per container, per second and level,
// per second and container).
// No DOM: the list it feeds is anything with setRows, invalidateFrom, invalidateAll,
// invalidate and trimFront (the VList).

import { Deque } from './deque.js';
import { cmp, makeSep } from './record.js';
import { LEVELS } from './settings.js';

export const INGEST_CHUNK = 500; // lines merged per step
export const FILTER_CHUNK = 1000; // lines re-filtered per step
const LV_INDEX = new Map(LEVELS.map((l, i) => [l, i]));

export class Store {
  constructor(S, filter, list) {
    this.S = S;
    this.filter = filter;
    this.list = list;
    this.stats = { received: 0, duplicates: 0, trimmed: 0, gaps: 0, events: 0 };
    this.receivedAt = new Map(); // seq -> Date.now() when the frame carrying it arrived
    this.paintedAt = new Map(); // seq -> Date.now() when it was first painted
    this.paused = false;
    this.follow = true;
    this.reset();
  }

  reset() {
    this.buffer = new Deque(cmp); // every record kept, sorted by (k, seq)
    this.rows = this.buffer; // what is shown: the buffer itself, or the records of it that pass
    this.filtered = false;
    // While the rows are rebuilt, buffer[rf.pos ..] has been filtered and rows holds what
    // passed; the rest is done a slice at a time, newest records first.
    this.rf = null;
    this.tail = null; // context mode: the state of the newest rows, for lines appended
    this.seen = new Set(); // seqs in the buffer or queued
    this.incoming = new Deque(cmp); // received, not merged yet (FIFO)
    this.pending = new Deque(cmp); // received while paused (FIFO)
    this.newCount = 0; // rows added while the view is scrolled up
    this.gapsOpen = 0;
    this.eventsHeld = 0; // lifecycle event records in the buffer (not lines)
    this.events = new Set(); // those records (few: a container's starts and ends)
    this.perContainer = new Map(); // container -> lines held
    this.perSecond = new Map(); // second (epoch) -> Uint32Array(levels): lines held
    this.perSecondC = new Map(); // second (epoch) -> Map(container -> lines held)
    this.version = 0; // bumps when perSecond changes
    this.receivedAt.clear();
    this.paintedAt.clear();
  }

  clear() { this.reset(); this.refilter(); }

  // ---- what comes in

  /** True (and remembered) when seq is new to the page. */
  accept(seq) {
    this.stats.received++;
    if (this.seen.has(seq)) { this.stats.duplicates++; return false; }
    this.seen.add(seq);
    return true;
  }

  /** Queues a record (line or gap) for merging. */
  enqueue(r, now) {
    if (r.ev) this.stats.events++;
    else if (!r.g) this.receivedAt.set(r.seq, now);
    else { this.stats.gaps++; this.gapsOpen++; }
    (this.paused ? this.pending : this.incoming).push(r);
  }

  /** A queue past 1.5 x the bound loses its oldest lines (they would be trimmed anyway). */
  dropQueued() {
    const q = this.paused ? this.pending : this.incoming;
    if (q.length <= this.S.buf * 1.5) return;
    this.stats.trimmed += q.shift(q.length - this.S.buf, (r) => this.forget(r, false));
  }

  lastK() { return this.buffer.length ? this.buffer.last().k : Date.now() * 1000; }

  hasWork() { return !!this.rf || (!this.paused && this.incoming.length > 0); }

  /** Merges queued lines and re-filters until `until` (clock()); true if the rows changed. */
  work(until, clock) {
    let did = false;
    do {
      if (this.rf) { this.refilterStep(); did = true; }
      // context rows are built in order: new lines wait for a rebuild to finish
      if (!this.paused && this.incoming.length && !(this.rf && this.filter.context)) { this.ingest(this.incoming.take(INGEST_CHUNK)); did = true; }
    } while (this.hasWork() && clock() < until);
    return did;
  }

  setPaused(p) {
    this.paused = p;
    if (!p && this.pending.length) {
      if (!this.incoming.length) { const t = this.incoming; this.incoming = this.pending; this.pending = t; } else { this.incoming.pushAll(this.pending.toArray()); this.pending.clear(); }
    }
  }

  // ---- counts

  count(r, d) {
    if (r.ev) { this.eventsHeld += d; if (d > 0) this.events.add(r); else this.events.delete(r); } // (not lines)
    if (r.g || r.ev) return;
    this.perContainer.set(r.c, (this.perContainer.get(r.c) || 0) + d);
    if (this.perContainer.get(r.c) <= 0) this.perContainer.delete(r.c);
    const s = Math.floor(r.k / 1e6);
    let a = this.perSecond.get(s);
    if (!a) { if (d < 0) return; a = new Uint32Array(LEVELS.length); this.perSecond.set(s, a); }
    a[LV_INDEX.get(r.lv) ?? LEVELS.length - 1] += d;
    if (d < 0) { let z = true; for (let i = 0; i < a.length; i++) if (a[i]) { z = false; break; } if (z) this.perSecond.delete(s); }
    let pc = this.perSecondC.get(s);
    if (!pc) { pc = new Map(); this.perSecondC.set(s, pc); }
    const v = (pc.get(r.c) || 0) + d;
    if (v > 0) pc.set(r.c, v); else { pc.delete(r.c); if (!pc.size) this.perSecondC.delete(s); }
    this.version++;
  }

  /** A record leaves the page (inBuffer: it was counted). */
  forget(r, inBuffer = true) {
    if (r.ev) { if (inBuffer) this.count(r, -1); return; }
    if (!r.g) {
      this.seen.delete(r.seq);
      this.receivedAt.delete(r.seq);
      this.paintedAt.delete(r.seq);
      if (inBuffer) this.count(r, -1);
    } else if (!r.done) this.gapsOpen--;
  }

  // ---- filtering

  /** Rebuilds the rows for the current filters (a slice at a time, see refilterStep). */
  refilter() {
    this.filtered = this.filter.active;
    this.tail = null;
    if (!this.filtered) {
      this.rf = null;
      this.buffer.forEach((r) => { r.m = true; r.hit = false; });
      this.rows = this.buffer;
    } else {
      this.rows = new Deque(cmp);
      this.rf = { pos: this.buffer.length, held: [], before: 0, cut: false };
    }
    this.list.setRows(this.rows);
    this.list.invalidateAll();
  }

  /** Filters the next slice of the buffer (backwards from rf.pos) into rows. */
  refilterStep() {
    const rf = this.rf;
    const buffer = this.buffer;
    const rows = this.rows;
    const n = this.filter.context;
    let i = rf.pos;
    const stop = Math.max(0, i - FILTER_CHUNK);
    let added = 0;
    while (i > stop) {
      const r = buffer.at(--i);
      if (!n) {
        r.m = this.filter.matches(r);
        r.hit = r.m && !!this.filter.re;
        if (r.m) { rows.unshift(r); added++; }
        continue;
      }
      // With context: held are the lines just after this one, not shown yet; a match shows
      // the n nearest of them and the n before it; a line n past every match is never shown.
      r.m = false;
      r.hit = false;
      if (!this.filter.base(r)) continue;
      if (this.filter.matches(r)) {
        // lines were left out between this group and the next (newer) one
        if (rf.cut && rows.length && !rows.at(0).sep) { rows.unshift(makeSep(rows.at(0))); added++; }
        rf.cut = false;
        for (const h of rf.held) { h.m = true; rows.unshift(h); added++; }
        rf.held = [];
        r.m = true;
        r.hit = true;
        rows.unshift(r);
        added++;
        rf.before = n;
      } else if (rf.before > 0) {
        r.m = true;
        rows.unshift(r);
        added++;
        rf.before--;
      } else {
        rf.held.push(r);
        if (rf.held.length > n) { rf.held.shift(); rf.cut = true; }
      }
    }
    rf.pos = i;
    if (added) this.list.invalidateFrom(0);
    if (i === 0) this.rf = null;
  }

  /** Context mode: where the newest rows stand, for lines appended after them. */
  tailState() {
    const n = this.filter.context;
    const buffer = this.buffer;
    const held = [];
    let after = 0;
    let cut = false;
    let i = buffer.length - 1;
    for (; i >= 0; i--) {
      const r = buffer.at(i);
      if (!this.filter.base(r)) continue;
      if (r.m) break;
      held.unshift(r);
      if (held.length > n) { held.shift(); cut = true; break; }
    }
    if (i >= 0 && !cut && held.length === 0) {
      // the newest line passing the filters is shown: after-context left after it
      let c = 0;
      for (let j = i; j >= 0; j--) {
        const r = buffer.at(j);
        if (!this.filter.base(r)) continue;
        if (!r.m || r.hit) break;
        c++;
      }
      after = Math.max(0, n - c);
    }
    if (i < 0 && !this.rows.length) cut = false;
    return { held, after, cut };
  }

  // ---- merging

  ingest(batch) {
    batch.sort(cmp);
    const buffer = this.buffer;
    for (const r of batch) this.count(r, 1);
    if (this.filter.context && this.filtered) { this.ingestContext(batch); return; }
    // with a re-filter under way, lines that land before its cursor are filtered when it gets there
    let low = 0;
    if (this.rf) {
      const bound = this.rf.pos < buffer.length ? buffer.at(this.rf.pos) : null;
      const last = buffer.last();
      for (const r of batch) if (bound ? cmp(r, bound) < 0 : (last && cmp(r, last) < 0)) low++;
    }
    let at = buffer.merge(batch);
    if (this.rows === buffer) {
      for (const r of batch) r.m = true;
      if (!this.follow) this.newCount += batch.length;
    } else {
      const shown = [];
      for (let i = low; i < batch.length; i++) {
        const r = batch[i];
        r.m = this.filter.matches(r);
        r.hit = r.m && !!this.filter.re;
        if (r.m) shown.push(r);
      }
      if (this.rf) this.rf.pos += low;
      if (!this.follow) this.newCount += shown.length;
      at = shown.length ? this.rows.merge(shown) : this.rows.length;
    }
    this.list.invalidateFrom(at);
    this.trim();
  }

  ingestContext(batch) {
    const buffer = this.buffer;
    const len = buffer.length;
    const t = this.tail || this.tailState(); // (of the rows before this batch)
    const at = buffer.merge(batch);
    if (at < len) { this.refilter(); return; } // out of order: rebuilt (rare: clocks of several hosts)
    const n = this.filter.context;
    const rows = this.rows;
    const from = rows.length;
    for (const r of batch) {
      r.m = false;
      r.hit = false;
      if (!this.filter.base(r)) continue;
      if (this.filter.matches(r)) {
        if (t.cut && rows.length) rows.push(makeSep(t.held[0] || r));
        for (const h of t.held) { h.m = true; rows.push(h); }
        t.held = [];
        t.cut = false;
        r.m = true;
        r.hit = true;
        rows.push(r);
        t.after = n;
      } else if (t.after > 0) {
        r.m = true;
        rows.push(r);
        t.after--;
      } else {
        t.held.push(r);
        if (t.held.length > n) { t.held.shift(); t.cut = true; }
      }
    }
    this.tail = t;
    if (!this.follow) this.newCount += rows.length - from;
    this.list.invalidateFrom(from);
    this.trim();
  }

  /** Keeps the buffer within its bound: O(lines removed), the rest does not move. */
  trim() {
    const buffer = this.buffer;
    const excess = buffer.length - this.S.buf;
    if (excess <= 0) return;
    const unscanned = this.rf ? Math.min(this.rf.pos, excess) : 0;
    let idx = 0;
    let shown = 0;
    const filtered = this.rows !== buffer;
    buffer.shift(excess, (r) => {
      this.forget(r);
      if (filtered && idx >= unscanned && r.m) shown++;
      idx++;
    });
    this.stats.trimmed += excess;
    if (this.rf) { this.rf.pos -= unscanned; if (this.rf.pos === 0 && filtered) this.rf = null; }
    if (this.tail) this.tail.held = this.tail.held.filter((r) => this.seen.has(r.seq));
    if (!filtered) { this.list.trimFront(excess); return; }
    // separators in front of the trimmed rows (and one left leading) go with them
    let k = 0;
    while (k < this.rows.length && (shown > 0 || this.rows.at(k).sep)) { if (!this.rows.at(k).sep) shown--; k++; }
    if (k) { this.rows.shift(k); this.list.trimFront(k); }
  }

  /** Removes one record (a gap marker that was filled). */
  remove(r) {
    const i = this.buffer.indexOf(r);
    if (i >= 0) {
      this.buffer.removeAt(i);
      if (this.rf && i < this.rf.pos) this.rf.pos--;
    }
    if (this.rows !== this.buffer) { const j = this.rows.indexOf(r); if (j >= 0) this.rows.removeAt(j); }
    this.tail = null;
    this.list.invalidateAll();
  }

  /** Keeps only the records keep(r) accepts (containers no longer watched leave the page). */
  retain(keep) {
    if (!this.buffer.some((r) => !keep(r))) return false;
    const old = this.buffer;
    this.buffer = new Deque(cmp);
    old.forEach((r) => { if (keep(r)) this.buffer.push(r); else this.forget(r); });
    this.refilter();
    return true;
  }

  /** Lines held (the buffer less its lifecycle events). */
  get lineCount() { return this.buffer.length - this.eventsHeld; }

  /** Lines among the rows shown (the rows less the lifecycle events shown). */
  get rowLineCount() {
    if (this.rows === this.buffer) return this.lineCount;
    let shown = 0;
    for (const r of this.events) if (r.m) shown++;
    return this.rows.length - shown;
  }

  /** Lines held per time bucket of `width` µs from `from` (µs): [{t, n, lv: Uint32Array}];
   *  byContainer: each bucket also has byC, Map(container -> lines). */
  buckets(from, width, count, byContainer = false) {
    const out = [];
    for (let i = 0; i < count; i++) out.push({ t: from + i * width, n: 0, lv: new Uint32Array(LEVELS.length), byC: byContainer ? new Map() : null });
    for (const [s, a] of this.perSecond) {
      const b = Math.floor((s * 1e6 - from) / width);
      if (b < 0 || b >= count) continue;
      const o = out[b];
      for (let i = 0; i < a.length; i++) { o.lv[i] += a[i]; o.n += a[i]; }
    }
    if (byContainer) {
      for (const [s, pc] of this.perSecondC) {
        const b = Math.floor((s * 1e6 - from) / width);
        if (b < 0 || b >= count) continue;
        const m = out[b].byC;
        for (const [c, n] of pc) m.set(c, (m.get(c) || 0) + n);
      }
    }
    return out;
  }

  /** The time span held, in whole seconds: [first, last] or null. */
  span() {
    if (!this.perSecond.size) return null;
    let lo = Infinity, hi = -Infinity;
    for (const s of this.perSecond.keys()) { if (s < lo) lo = s; if (s > hi) hi = s; }
    return [lo, hi];
  }

  /** Index in rows of the first row at or after time k (µs). */
  rowAt(k) {
    const rows = this.rows;
    let lo = 0, hi = rows.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (rows.at(mid).k < k) lo = mid + 1; else hi = mid; }
    return lo;
  }
}
