// The protocol session with the gateway (docs/protocol.md, version 1): one live
// subscription per watched container spec, resumed after the last seq it saw when the
// connection comes back; fills of gaps and backfills after filters loosen; line_no
// continuity checks that mark lines lost; lifecycle events placed among their
// container's lines. Lines go to the store; what the user must be told goes to the
// callbacks. No DOM: it talks through `send` (Conn.send).

import { makeLine, makeGap, makeEvent, parseTs, opensRun } from './record.js';
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
    this.newestK = new Map(); // "host/name" -> time (µs) of its newest line received
    this.eventK = new Map(); // "host/name" -> sort time of its newest event placed
    this.eventsSeen = new Set(); // container|event|ts of events placed (resends are dropped)
    this.heldEvents = []; // ends of runs waiting for their last lines: {m, due}
    this.holdTimer = 0;
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
      else if (after > 0) { /* a resume */ } else if (S.since) spec.since = S.since; // a time jump
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

  /**
   * Starts over from S.since (a time jump, or back to the newest lines when it is ''):
   * every subscription is made again without a resume; the caller has cleared the store.
   */
  jump() {
    for (const s of [...this.subs.values()]) this.unsubscribe(s.id);
    for (const m of [this.lastSeq, this.lastLn, this.lastLine, this.newestK, this.eventK]) m.clear();
    this.eventsSeen.clear();
    this.heldEvents = [];
    this.gen++;
    this.jumping = true;
    for (const c of this.o.S.containers) this.add({ id: `live-${this.gen}-${++this.subSeq}`, kind: 'live', container: c, active: false });
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
        else if (this.jumping) { this.jumping = false; if (this.o.onJumped) this.o.onJumped(); }
        break;
      }
      case 'gap': this.onGap(m); break;
      case 'event': this.onEvent(m); break;
      case 'retention': {
        const s = this.subs.get(m.id);
        if (s && s.kind === 'live' && this.o.onRetention) this.o.onRetention(m, s);
        break;
      }
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
    const newest = this.newestK;
    for (const l of m.lines) {
      const seq = Number(l.seq) || 0;
      if (s.kind === 'fill' && seq >= s.upto) { store.stats.received++; this.finishFill(s); break; }
      if (s.kind === 'live' && seq > last) { last = seq; lastNo = Number(l.line_no) || 0; }
      if (!store.accept(seq)) continue;
      const r = makeLine(l);
      if (!(newest.get(r.c) >= r.k)) newest.set(r.c, r.k);
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

  /**
   * A lifecycle event (docs/protocol.md `event`). Docker's times do not order an event
   * exactly among the lines: StartedAt is taken after the process runs (its first lines
   * can carry earlier stamps) and the last lines of a run can be stamped after
   * FinishedAt, and the registry hears of an exit before those lines come through. So a
   * start goes in at once, a second before StartedAt (but after the end of the run
   * before); an end waits HOLD_MS for the last lines and goes after them.
   */
  onEvent(m) {
    const s = this.subs.get(m.id);
    if (!s || s.kind !== 'live' || typeof m.container !== 'string') return;
    const key = `${m.container}|${m.event}|${m.ts}`;
    if (this.eventsSeen.has(key)) return;
    if (opensRun(String(m.event))) {
      this.releaseEvents(m.container); // the run before ended first
      this.placeEvent(m);
      return;
    }
    this.heldEvents.push({ m, due: Date.now() + Session.HOLD_MS }); // (a wall clock wait, whatever now() says)
    if (!this.holdTimer) this.holdTimer = setTimeout(() => { this.holdTimer = 0; this.releaseEvents(null); }, Session.HOLD_MS + 20);
  }

  /** Places the held events that are due (all of container c's when c is given). */
  releaseEvents(c) {
    const now = Date.now();
    const keep = [];
    for (const h of this.heldEvents) {
      if (c ? h.m.container === c : h.due <= now) this.placeEvent(h.m);
      else keep.push(h);
    }
    this.heldEvents = keep;
    if (keep.length && !this.holdTimer) this.holdTimer = setTimeout(() => { this.holdTimer = 0; this.releaseEvents(null); }, Math.max(20, keep[0].due - now + 20));
  }

  placeEvent(m) {
    const c = m.container;
    const key = `${c}|${m.event}|${m.ts}`;
    if (this.eventsSeen.has(key)) return;
    if (this.eventsSeen.size > 10000) this.eventsSeen.clear();
    this.eventsSeen.add(key);
    const ts = parseTs(m.ts);
    // A start goes after the container's events so far (the end of the run before, which
    // went after that run's lines), not after its lines: the run's first line may have
    // come before the event. An end goes after its events and every line received.
    const evK = (this.eventK.get(c) ?? -Infinity) + 1;
    const k = opensRun(String(m.event)) ? Math.max(ts - 1e6, evK) : Math.max(ts, evK, (this.newestK.get(c) ?? -Infinity) + 1);
    this.eventK.set(c, k);
    this.store.enqueue(makeEvent(m, k), this.o.now());
    this.o.onChange();
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

Session.HOLD_MS = 1500;
