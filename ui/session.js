// The protocol session with the gateway (docs/protocol.md, version 1): one live
// subscription per watched container spec, resumed after the last seq it saw when the
// connection comes back; fills of gaps and backfills after filters loosen; line_no
// continuity checks that mark lines lost. Lines go to the store; what the user must be
// told goes to the callbacks. No DOM: it talks through `send` (Conn.send).

import { makeLine, makeGap } from './record.js';
import { isGlob } from './filter.js';

export class Session {
  /**
   * opts: {send(obj) -> bool, store, S, spec() -> {levels?, streams?, grep?},
   *        onChange(), onError(m, sub), onContainers(list), onHello(m), onInvalidate(rec), now()}
   */
  constructor(opts) {
    this.o = opts;
    this.store = opts.store;
    this.gen = 0; // bumps when the server-side filters change
    this.subSeq = 0;
    this.subs = new Map(); // id -> {id, kind: 'live'|'fill'|'backfill', container, active, ...}
    this.lastSeq = new Map(); // container spec -> last seq received on its live subscription
    this.lastLn = new Map(); // container spec -> line_no of that line (the resume's after_line_no)
    this.lastLine = new Map(); // "host/name" -> {ln, seq, k, expectGap}: line_no continuity
    this.lineNoChecks = true;
    this.specKey = '';
    this.hello = null;
  }

  get count() { return this.subs.size; }

  send(spec) { return this.o.send(spec); }

  sendSub(s) {
    const S = this.o.S;
    const spec = Object.assign({ op: 'subscribe', id: s.id, container: s.container }, this.o.spec());
    if (s.kind === 'live') {
      const after = this.lastSeq.get(s.container) || 0;
      if (after > 0) spec.after_seq = after;
      // Its line_no lets the gateway count lines lost beyond the store's window exactly,
      // even when it never held that line (a gateway started since). Not for globs: one
      // container's number says nothing of the others.
      if (after > 0 && this.lastLn.get(s.container) && !isGlob(s.container)) spec.after_line_no = this.lastLn.get(s.container);
      else if (S.replay > 0) spec.replay = S.replay;
    } else if (s.kind === 'fill') {
      spec.after_seq = s.after;
    } else if (s.kind === 'backfill') {
      spec.replay = s.replay;
    }
    if (this.send(spec)) s.active = true;
  }

  add(s) { this.subs.set(s.id, s); this.sendSub(s); }

  unsubscribe(id) {
    if (this.subs.delete(id)) this.send({ op: 'unsubscribe', id });
  }

  /** The connection (re)opened: every live subscription resumes after the last seq it saw; fills restart. */
  opened() { for (const s of this.subs.values()) this.sendSub(s); }

  closed() { for (const s of this.subs.values()) s.active = false; }

  /** (Re)builds the subscriptions for S.containers and the current server-side filters. */
  apply({ loosened = false } = {}) {
    const S = this.o.S;
    const before = new Map();
    for (const s of this.subs.values()) if (s.kind === 'live') before.set(s.container, s);
    const key = JSON.stringify(this.o.spec());
    const filtersChanged = key !== this.specKey;
    this.specKey = key;
    if (filtersChanged) { this.gen++; this.lastLine.clear(); }
    const spec = this.o.spec();
    this.lineNoChecks = !spec.levels && !spec.streams && !spec.grep;
    for (const [c, s] of before) if (!S.containers.includes(c) || filtersChanged) this.unsubscribe(s.id);
    for (const c of S.containers) {
      if (before.get(c) && !filtersChanged) continue;
      this.add({ id: `live-${this.gen}-${++this.subSeq}`, kind: 'live', container: c, active: false });
      // Loosened filters: lines that did not match before are not in the page; fetch the
      // retained ones again (duplicates are dropped by seq).
      if (loosened && this.lastSeq.get(c) && S.replay > 0) {
        this.add({ id: `bf-${this.gen}-${++this.subSeq}`, kind: 'backfill', container: c, replay: S.replay, active: false });
      }
    }
    const watched = new Set(S.containers);
    for (const c of [...this.lastSeq.keys()]) if (!watched.has(c)) { this.lastSeq.delete(c); this.lastLn.delete(c); }
  }

  /** Initial spec key (the filters read from the URL are not a change). */
  settle() { this.specKey = JSON.stringify(this.o.spec()); }

  frame(m) {
    switch (m.type) {
      case 'hello': this.hello = m; if (this.o.onHello) this.o.onHello(m); break;
      case 'lines': this.onLines(m); break;
      case 'replayed': {
        const s = this.subs.get(m.id);
        if (!s) break;
        if (s.kind === 'fill') this.finishFill(s);
        else if (s.kind === 'backfill') this.unsubscribe(s.id);
        break;
      }
      case 'gap': this.onGap(m); break;
      case 'error': this.onError(m); break;
      case 'containers':
        if (Array.isArray(m.containers)) this.o.onContainers(m.containers);
        break;
      default: break; // unknown frames are ignored (newer gateways)
    }
  }

  onLines(m) {
    const s = this.subs.get(m.id);
    if (!s || !Array.isArray(m.lines)) return;
    const store = this.store;
    const now = this.o.now();
    let last = this.lastSeq.get(s.container) || 0;
    let lastNo = this.lastLn.get(s.container) || 0;
    for (const l of m.lines) {
      const seq = Number(l.seq) || 0;
      if (s.kind === 'fill' && seq >= s.upto) { store.stats.received++; this.finishFill(s); break; }
      if (s.kind === 'live' && seq > last) { last = seq; lastNo = Number(l.line_no) || 0; }
      if (!store.accept(seq)) continue;
      const r = makeLine(l);
      if (s.kind === 'live' && this.lineNoChecks && r.ln) this.checkLineNo(r, now);
      if (s.kind === 'fill') s.got++;
      store.enqueue(r, now);
    }
    if (s.kind === 'live') { this.lastSeq.set(s.container, last); this.lastLn.set(s.container, lastNo); }
    store.dropQueued();
    this.o.onChange();
  }

  checkLineNo(r, now) {
    const prev = this.lastLine.get(r.c);
    this.lastLine.set(r.c, { ln: r.ln, seq: r.seq, k: r.k });
    if (!prev || prev.expectGap) return;
    if (r.ln > prev.ln + 1) {
      this.store.enqueue(makeGap({ container: r.c, after_seq: prev.seq, next_seq: r.seq, lost: r.ln - prev.ln - 1, reason: 'line_no' }, prev.k), now);
    }
  }

  onGap(m) {
    const s = this.subs.get(m.id);
    // A fill or backfill re-reads a range: the holes in it were announced to the live
    // subscription when they happened (the marker being filled, or one already shown).
    if (!s || s.kind !== 'live') return;
    const c = String(m.container || s.container);
    const prev = this.lastLine.get(c);
    if (prev) prev.expectGap = true; // the next line_no jump is this gap: do not report it twice
    const k = prev ? prev.k : this.store.lastK();
    this.store.enqueue(makeGap(Object.assign({}, m, { container: c }), k), this.o.now());
    this.o.onChange();
  }

  onError(m) {
    const s = m.id ? this.subs.get(m.id) : null;
    this.o.onError(m, s);
    if (s && s.kind === 'fill') this.finishFill(s);
  }

  /** Asks for the lines a gap marker stands for. */
  fetchGap(g) {
    if (g.fetching || g.done) return;
    g.fetching = true;
    this.add({ id: `fill-${++this.subSeq}`, kind: 'fill', container: g.c, after: g.after, upto: g.upto, gap: g, got: 0, active: false });
    this.o.onInvalidate(g);
  }

  finishFill(s) {
    if (!this.subs.has(s.id)) return;
    this.unsubscribe(s.id);
    const g = s.gap;
    g.fetching = false;
    g.got += s.got;
    g.done = true;
    this.store.gapsOpen--;
    g.h = 0;
    if (g.lost && g.got >= g.lost) this.store.remove(g);
    else this.o.onInvalidate(g);
    this.o.onChange();
  }
}
