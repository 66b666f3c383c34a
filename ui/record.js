// The page's records: a log line, a gap marker (lines known to be missing), a container's
// lifecycle event and a context separator, built from the gateway's frames; their order, and derived text (ANSI-free,
// parsed JSON) computed once and cached on the record. No DOM.

import { stripAnsi } from './ansi.js';

let tsCacheKey = '';
let tsCacheMs = 0;
/** RFC3339 (any fraction length, Z or offset) -> microseconds since the epoch. */
export function parseTs(ts) {
  if (typeof ts !== 'string' || ts.length < 20) return Date.now() * 1000;
  let j = 19;
  let frac = 0;
  if (ts.charCodeAt(19) === 46) { // '.'
    j = 20;
    let digits = 0;
    while (j < ts.length) {
      const c = ts.charCodeAt(j);
      if (c < 48 || c > 57) break;
      if (digits < 6) { frac = frac * 10 + (c - 48); digits++; }
      j++;
    }
    while (digits < 6) { frac *= 10; digits++; }
  }
  const key = ts.slice(0, 19) + ts.slice(j);
  if (key !== tsCacheKey) {
    tsCacheKey = key;
    tsCacheMs = Date.parse(key);
    if (!Number.isFinite(tsCacheMs)) tsCacheMs = Date.now();
  }
  return tsCacheMs * 1000 + frac;
}

/** Page order: time, then stream sequence. */
export function cmp(a, b) { return a.k - b.k || a.seq - b.seq; }

/** A line of a `lines` frame. */
export function makeLine(l) {
  const seq = Number(l.seq) || 0;
  const line = typeof l.line === 'string' ? l.line : String(l.line ?? '');
  return {
    g: false, sep: false, seq, k: parseTs(l.ts), c: String(l.container || ''), st: l.stream === 'stderr' ? 'stderr' : 'stdout',
    lv: typeof l.level === 'string' ? l.level.toLowerCase() : 'unknown', ln: Number(l.line_no) || 0,
    line, p: null, h: 0, json: undefined, pretty: false, painted: false, m: false, hit: false,
  };
}

/** A gap marker from a `gap` frame (or a line_no jump), placed at time k. */
export function makeGap(m, k) {
  return {
    g: true, sep: false, seq: (Number(m.after_seq) || 0) + 0.5, k, c: String(m.container || ''), after: Number(m.after_seq) || 0,
    upto: Number(m.next_seq) || 0, lost: Number(m.lost) || 0, reason: String(m.reason || ''), got: 0, done: false,
    fetching: false, h: 0, m: true, hit: false, painted: false,
  };
}

// Lifecycle events sort among the lines by time; at equal times a start goes before the
// lines and an end after them, each kind in the order it came (the counter).
const EV_START = -(2 ** 52);
const EV_END = 2 ** 52;
let evCount = 0;
export const EVENT_TEXT = {
  started: 'started', restarted: 'restarted', oom_killed: 'OOM-killed (out of memory)',
  exited: 'exited', removed: 'removed', renamed: 'renamed',
};
/** Whether an event of this kind opens a run (sorted before the lines at its time). */
export const opensRun = (kind) => kind === 'started' || kind === 'restarted';

/** The text of an `event` frame, as shown and searched. */
export function eventText(m) {
  const kind = String(m.event || '');
  let t = EVENT_TEXT[kind] || kind;
  if (kind === 'exited') t += ` with code ${Number(m.exit_code) || 0}${m.oom_killed ? ' (OOM-killed)' : ''}`;
  if (kind === 'renamed' && m.new_container) { const n = String(m.new_container); t += ` to ${n.slice(n.indexOf('/') + 1)}`; }
  return 'container ' + t;
}

/** A lifecycle event from an `event` frame, placed at time k (µs; its own time is ts). */
export function makeEvent(m, k) {
  const kind = String(m.event || '');
  return {
    g: false, sep: false, ev: true, kind, seq: (opensRun(kind) ? EV_START : EV_END) + (++evCount), k, ts: parseTs(m.ts),
    c: String(m.container || ''), st: 'event', lv: 'event', ln: 0, line: eventText(m), p: null, h: 0, m: true, hit: false,
    painted: false, code: Number(m.exit_code) || 0, current: !!m.current,
  };
}

/** A context separator ('--' of grep -C), sorted just before the record `next`. */
export function makeSep(next) {
  return { g: false, sep: true, seq: next.seq - 0.25, k: next.k, c: '', line: '', p: '', h: 0, m: true, painted: false };
}

export function plainOf(r) {
  if (r.p === null) r.p = stripAnsi(r.line);
  return r.p;
}

/** The line parsed as a JSON object or array, or null. */
export function jsonOf(r) {
  if (r.json !== undefined) return r.json;
  r.json = null;
  const t = plainOf(r).trim();
  if (t.length >= 2 && t.length < 1 << 20 && ((t[0] === '{' && t[t.length - 1] === '}') || (t[0] === '[' && t[t.length - 1] === ']'))) {
    try { const v = JSON.parse(t); if (v && typeof v === 'object') r.json = v; } catch (_) { /* not JSON */ }
  }
  return r.json;
}
