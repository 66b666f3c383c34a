// logjet browser UI. Plain ES modules, no build step.
// Log text is only ever put in the page with textContent / createTextNode.

import { Conn } from './conn.js';
import { parseAnsi, stripAnsi } from './ansi.js';
import { VList } from './vlist.js';
import { Deque } from './deque.js';

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'unknown'];
const STREAMS = ['stdout', 'stderr'];
const COLOURS = ['#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#e377c2', '#8c564b', '#bcbd22', '#7f7f7f', '#005f5f'];
const DEFAULT_BUF = 100000;
const DEFAULT_REPLAY = 1000;
// Work on lines (merging into the buffer, re-filtering) is cut in slices of a few ms with a
// yield between them, so that input, paint and the WebSocket are never kept waiting long.
const SLICE_MS = 4; // one slice of work between frames
const FRAME_WORK_MS = 3; // the slice done inside an animation frame, before painting
const INGEST_CHUNK = 500; // lines merged per step
const FILTER_CHUNK = 1000; // lines re-filtered per step

const $ = (id) => document.getElementById(id);
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

// ---------------------------------------------------------------- state ---

const S = {
  containers: [], levels: [], streams: [], q: '', re: false, cs: false,
  ts: true, utc: false, wrap: false, theme: 'auto',
  buf: DEFAULT_BUF, replay: DEFAULT_REPLAY,
};
let paused = false;

function readUrl() {
  const p = new URLSearchParams(location.search);
  S.containers = p.getAll('c').filter(Boolean);
  S.levels = (p.get('lv') || '').split(',').filter((x) => LEVELS.includes(x));
  S.streams = (p.get('st') || '').split(',').filter((x) => STREAMS.includes(x));
  S.q = p.get('q') || '';
  S.re = p.get('re') === '1';
  S.cs = p.get('cs') === '1';
  S.ts = p.get('ts') !== '0';
  S.utc = p.get('utc') === '1';
  S.wrap = p.get('wrap') === '1';
  S.theme = p.get('theme') || localStorage.getItem('logjet_theme') || 'auto';
  const buf = Number(p.get('buf') || localStorage.getItem('logjet_buf') || DEFAULT_BUF);
  S.buf = Number.isFinite(buf) && buf >= 100 ? Math.min(Math.floor(buf), 5000000) : DEFAULT_BUF;
  const rp = Number(p.get('replay') ?? localStorage.getItem('logjet_replay') ?? DEFAULT_REPLAY);
  S.replay = Number.isFinite(rp) && rp >= 0 ? Math.min(Math.floor(rp), 1000) : DEFAULT_REPLAY;
  const tok = p.get('token');
  if (tok) {
    localStorage.setItem('logjet_token', tok);
    p.delete('token');
  }
}

function writeUrl() {
  const p = new URLSearchParams();
  for (const c of S.containers) p.append('c', c);
  if (S.levels.length) p.set('lv', S.levels.join(','));
  if (S.streams.length) p.set('st', S.streams.join(','));
  if (S.q) p.set('q', S.q);
  if (S.re) p.set('re', '1');
  if (S.cs) p.set('cs', '1');
  if (!S.ts) p.set('ts', '0');
  if (S.utc) p.set('utc', '1');
  if (S.wrap) p.set('wrap', '1');
  if (S.theme !== 'auto') p.set('theme', S.theme);
  if (S.buf !== DEFAULT_BUF) p.set('buf', String(S.buf));
  if (S.replay !== DEFAULT_REPLAY) p.set('replay', String(S.replay));
  const qs = p.toString();
  history.replaceState(null, '', location.pathname + (qs ? '?' + qs : ''));
}

const token = () => localStorage.getItem('logjet_token') || '';

// ---------------------------------------------------------- test hook ---

const stats = {
  received: 0, duplicates: 0, buffered: 0, rows: 0, pending: 0, queued: 0, trimmed: 0, gaps: 0,
  painted: 0, frames: 0, frameMsMax: 0, frameMsLast: 0, reconnects: 0, connected: false,
  subscriptions: 0, errors: 0,
};
const hook = {
  stats,
  receivedAt: new Map(), // seq -> Date.now() when the frame carrying it arrived
  paintedAt: new Map(), // seq -> Date.now() in the animation frame that first put it in the DOM
  latencies: [], // paintedAt - record ts (ms), one per painted line, bounded
  reactions: [], // {what, ms}: from the input event's timestamp to the end of the frame that shows its effect
  state: S,
  errors: [],
};
window.__logjet = hook;
const LAT_MAX = 200000;
let inputMark = null;
/** Notes an input (event timestamp, same clock as performance.now()); the next painted frame closes it. */
function markInput(what, ev) {
  const at = ev && ev.timeStamp ? ev.timeStamp : performance.now();
  if (!inputMark) inputMark = { what, at };
}

// -------------------------------------------------------------- records ---

let tsCacheKey = '';
let tsCacheMs = 0;
/** RFC3339 (any fraction length, Z or offset) -> microseconds since the epoch. */
function parseTs(ts) {
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

function cmp(a, b) { return a.k - b.k || a.seq - b.seq; }

const colourOf = new Map();
function colourFor(c) {
  let i = colourOf.get(c);
  if (i === undefined) { i = colourOf.size % COLOURS.length; colourOf.set(c, i); }
  return COLOURS[i];
}

function makeLine(l) {
  const seq = Number(l.seq) || 0;
  const line = typeof l.line === 'string' ? l.line : String(l.line ?? '');
  return {
    g: false, seq, k: parseTs(l.ts), c: String(l.container || ''), st: l.stream === 'stderr' ? 'stderr' : 'stdout',
    lv: typeof l.level === 'string' ? l.level.toLowerCase() : 'unknown', ln: Number(l.line_no) || 0,
    line, p: null, h: 0, json: undefined, pretty: false, painted: false, m: false,
  };
}

function plainOf(r) {
  if (r.p === null) r.p = stripAnsi(r.line);
  return r.p;
}

// ----------------------------------------------------------- filtering ---

let searchRe = null; // RegExp (no g flag) applied on screen
let searchErr = '';

function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

function buildSearch() {
  searchErr = '';
  searchRe = null;
  if (!S.q) return;
  let src = S.re ? S.q : escapeRe(S.q);
  let flags = S.cs ? '' : 'i';
  if (src.startsWith('(?i)')) { src = src.slice(4); flags = 'i'; }
  try {
    searchRe = new RegExp(src, flags);
  } catch (e) {
    searchErr = 'invalid regular expression';
  }
}

function serverGrep() {
  if (!S.q || searchErr) return undefined;
  const src = S.re ? S.q : escapeRe(S.q);
  return S.cs || src.startsWith('(?i)') ? src : '(?i)' + src;
}

function localFilterActive() {
  return S.levels.length > 0 || S.streams.length > 0 || !!searchRe;
}

function matches(r) {
  if (r.g) return true;
  if (S.levels.length && !S.levels.includes(r.lv)) return false;
  if (S.streams.length && !S.streams.includes(r.st)) return false;
  if (searchRe && !searchRe.test(plainOf(r))) return false;
  return true;
}

// -------------------------------------------------------------- buffers ---

let buffer = new Deque(cmp); // every line kept, sorted by (ts, seq)
let rows = buffer; // what is shown: buffer itself, or the lines of it that match
let filtered = false;
// While the rows are rebuilt for new filters, buffer[rf.pos ..] has been filtered and
// rows holds its matches; the rest is done a slice at a time, newest lines first.
let rf = null;
const seen = new Set(); // seqs in buffer or queued
let incoming = new Deque(cmp); // received, not yet merged (FIFO)
let pending = new Deque(cmp); // received while the stream is paused (FIFO)
let newCount = 0;
let gapsOpen = 0;

function refilter() {
  filtered = localFilterActive();
  if (!filtered) {
    rf = null;
    buffer.forEach((r) => { r.m = true; });
    rows = buffer;
  } else {
    rows = new Deque(cmp);
    rf = { pos: buffer.length };
  }
  vlist.setRows(rows);
  vlist.invalidateAll();
  needsPaint = true;
  if (rf) postWork();
  scheduleFrame();
}

/** Filters the next slice of the buffer (backwards from rf.pos) into rows. */
function refilterStep() {
  let i = rf.pos;
  const stop = Math.max(0, i - FILTER_CHUNK);
  let added = 0;
  while (i > stop) {
    const r = buffer.at(--i);
    r.m = matches(r);
    if (r.m) { rows.unshift(r); added++; }
  }
  rf.pos = i;
  if (added) vlist.invalidateFrom(0);
  if (i === 0) rf = null;
}

function forget(r) {
  if (!r.g) {
    seen.delete(r.seq);
    hook.receivedAt.delete(r.seq);
    hook.paintedAt.delete(r.seq);
  } else if (!r.done) gapsOpen--;
}

function clearAll() {
  buffer = new Deque(cmp);
  rows = buffer;
  filtered = false;
  rf = null;
  seen.clear();
  incoming = new Deque(cmp);
  pending = new Deque(cmp);
  hook.receivedAt.clear();
  hook.paintedAt.clear();
  gapsOpen = 0;
  newCount = 0;
  refilter();
}

// ---------------------------------------------------------- subscriptions ---

const conn = new Conn({
  url: () => {
    const u = new URL('ws', location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    u.search = '';
    u.hash = '';
    const t = token();
    if (t) u.searchParams.set('token', t);
    return u.toString();
  },
  onOpen: () => { stats.connected = true; resubscribeAll(); },
  onClose: (info) => {
    stats.connected = false;
    for (const s of subs.values()) s.active = false;
    if (!info.opened) checkAuth();
  },
  onFrame: (m) => onFrame(m),
  onStatus: (state, extra) => showConn(state, extra),
});

let gen = 0; // bumps when the server-side filters change
let subSeq = 0;
const subs = new Map(); // id -> {id, kind: 'live'|'fill'|'backfill', container, gap?, upto?}
const lastSeq = new Map(); // container spec -> last seq received on its live subscription
const lastLn = new Map(); // container spec -> line_no of that line (the resume's after_line_no)
const lastLine = new Map(); // "host/name" -> {ln, seq, k}: for line_no continuity checks
let lineNoChecks = true;

function baseSpec() {
  const spec = {};
  if (S.levels.length) spec.levels = S.levels.slice();
  if (S.streams.length) spec.streams = S.streams.slice();
  const g = serverGrep();
  if (g) spec.grep = g;
  return spec;
}

function subscribeLive(container) {
  const id = `live-${gen}-${++subSeq}`;
  const s = { id, kind: 'live', container, active: false };
  subs.set(id, s);
  sendSub(s);
}

function sendSub(s) {
  const spec = Object.assign({ op: 'subscribe', id: s.id, container: s.container }, baseSpec());
  if (s.kind === 'live') {
    const after = lastSeq.get(s.container) || 0;
    if (after > 0) spec.after_seq = after;
    // Its line_no lets the gateway count lines lost beyond the store's window exactly,
    // even when it never held that line (a gateway started since). Not for globs: one
    // container's number says nothing of the others.
    if (after > 0 && lastLn.get(s.container) && !/[*?]/.test(s.container)) spec.after_line_no = lastLn.get(s.container);
    else if (S.replay > 0) spec.replay = S.replay;
  } else if (s.kind === 'fill') {
    spec.after_seq = s.after;
  } else if (s.kind === 'backfill') {
    spec.replay = s.replay;
  }
  if (conn.send(spec)) s.active = true;
  stats.subscriptions = subs.size;
}

function unsubscribe(id) {
  if (subs.delete(id)) conn.send({ op: 'unsubscribe', id });
  stats.subscriptions = subs.size;
}

function resubscribeAll() {
  // After a reconnect: every live subscription resumes after the last seq it saw; fills restart.
  for (const s of subs.values()) sendSub(s);
}

/** (Re)build the subscriptions after a change of containers or server-side filters. */
function applySubscriptions({ loosened = false } = {}) {
  const before = new Map();
  for (const s of subs.values()) if (s.kind === 'live') before.set(s.container, s);
  const filtersChanged = specKey() !== lastSpecKey;
  lastSpecKey = specKey();
  if (filtersChanged) gen++;
  lineNoChecks = !S.levels.length && !S.streams.length && !serverGrep();
  if (filtersChanged) lastLine.clear();
  for (const [c, s] of before) {
    if (!S.containers.includes(c) || filtersChanged) unsubscribe(s.id);
  }
  for (const c of S.containers) {
    const old = before.get(c);
    if (old && !filtersChanged) continue;
    subscribeLive(c);
    // Loosened filters: lines that did not match before are not in the page; fetch the
    // retained ones again (duplicates are dropped by seq).
    if (loosened && lastSeq.get(c) && S.replay > 0) {
      const id = `bf-${gen}-${++subSeq}`;
      const s = { id, kind: 'backfill', container: c, replay: S.replay, active: false };
      subs.set(id, s);
      sendSub(s);
    }
  }
  // containers no longer watched: drop their lines from the page
  const watched = new Set(S.containers);
  for (const c of [...lastSeq.keys()]) if (!watched.has(c)) { lastSeq.delete(c); lastLn.delete(c); }
  renderSelected();
}
let lastSpecKey = '';
function specKey() { return JSON.stringify(baseSpec()); }

function onFrame(m) {
  switch (m.type) {
    case 'hello':
      hook.hello = m;
      break;
    case 'lines': onLines(m); break;
    case 'replayed': {
      const s = subs.get(m.id);
      if (!s) break;
      if (s.kind === 'fill') finishFill(s);
      else if (s.kind === 'backfill') unsubscribe(s.id);
      break;
    }
    case 'gap': onGap(m); break;
    case 'error': onError(m); break;
    case 'containers':
      if (Array.isArray(m.containers)) setContainers(m.containers);
      break;
    default: break;
  }
}

function onLines(m) {
  const s = subs.get(m.id);
  if (!s || !Array.isArray(m.lines)) return;
  const now = Date.now();
  const out = paused ? pending : incoming;
  let last = lastSeq.get(s.container) || 0;
  let lastNo = lastLn.get(s.container) || 0;
  for (const l of m.lines) {
    const seq = Number(l.seq) || 0;
    stats.received++;
    if (s.kind === 'fill' && seq >= s.upto) { finishFill(s); break; }
    if (s.kind === 'live' && seq > last) { last = seq; lastNo = Number(l.line_no) || 0; }
    if (seen.has(seq)) { stats.duplicates++; continue; }
    seen.add(seq);
    const r = makeLine(l);
    hook.receivedAt.set(seq, now);
    if (s.kind === 'live' && lineNoChecks && r.ln) checkLineNo(r, out);
    if (s.kind === 'fill') s.got++;
    out.push(r);
  }
  if (s.kind === 'live') { lastSeq.set(s.container, last); lastLn.set(s.container, lastNo); }
  dropQueued(out);
  if (!paused) postWork();
  scheduleFrame();
}

/** A queue past 1.5 x the bound loses its oldest lines (they would be trimmed anyway). */
function dropQueued(q) {
  if (q.length <= S.buf * 1.5) return;
  stats.trimmed += q.shift(q.length - S.buf, forget);
}

function checkLineNo(r, out) {
  const prev = lastLine.get(r.c);
  lastLine.set(r.c, { ln: r.ln, seq: r.seq, k: r.k, reported: false });
  if (!prev || prev.expectGap) return;
  if (r.ln > prev.ln + 1) {
    out.push(makeGap({ container: r.c, after_seq: prev.seq, next_seq: r.seq, lost: r.ln - prev.ln - 1, reason: 'line_no' }, prev.k));
  }
}

function makeGap(m, k) {
  stats.gaps++;
  gapsOpen++;
  return {
    g: true, seq: (Number(m.after_seq) || 0) + 0.5, k, c: String(m.container || ''), after: Number(m.after_seq) || 0,
    upto: Number(m.next_seq) || 0, lost: Number(m.lost) || 0, reason: String(m.reason || ''), got: 0, done: false,
    fetching: false, h: 0, m: true, painted: false,
  };
}

function onGap(m) {
  const s = subs.get(m.id);
  // A fill or backfill re-reads a range: the holes in it were announced to the live
  // subscription when they happened (the marker being filled, or one already shown).
  if (!s || s.kind !== 'live') return;
  const c = String(m.container || s.container);
  const prev = lastLine.get(c);
  if (prev) prev.expectGap = true; // the next line_no jump is this gap: do not report it twice
  const k = prev ? prev.k : (buffer.length ? buffer.last().k : Date.now() * 1000);
  const g = makeGap(Object.assign({}, m, { container: c }), k);
  (paused ? pending : incoming).push(g);
  if (!paused) postWork();
  scheduleFrame();
}

function onError(m) {
  stats.errors++;
  hook.errors.push(m);
  const s = m.id ? subs.get(m.id) : null;
  if (m.code === 'forbidden') {
    if (!token()) { promptToken('This gateway requires a token.'); return; }
    banner(`Not allowed${s ? ' to watch ' + s.container : ''}: ${m.message || 'forbidden'}.`, true);
  } else if (m.code === 'bad_request' && S.q && s) {
    $('q').classList.add('invalid');
    setText('qinfo', m.message || 'the gateway rejected the search');
  } else {
    banner(`${s ? s.container + ': ' : ''}${m.code || 'error'}${m.message ? ' — ' + m.message : ''}`);
  }
  if (s && s.kind === 'fill') finishFill(s);
}

// -------------------------------------------------------------- gaps ---

function fetchGap(g) {
  if (g.fetching || g.done) return;
  g.fetching = true;
  const id = `fill-${++subSeq}`;
  const s = { id, kind: 'fill', container: g.c, after: g.after, upto: g.upto, gap: g, got: 0, active: false };
  subs.set(id, s);
  sendSub(s);
  vlist.invalidate(g);
  scheduleFrame();
}

function finishFill(s) {
  if (!subs.has(s.id)) return;
  unsubscribe(s.id);
  const g = s.gap;
  g.fetching = false;
  g.got += s.got;
  g.done = true;
  gapsOpen--;
  g.h = 0;
  if (g.lost && g.got >= g.lost) removeRec(g);
  else vlist.invalidate(g);
  scheduleFrame();
}

function removeRec(r) {
  const i = buffer.indexOf(r);
  if (i >= 0) {
    buffer.removeAt(i);
    if (rf && i < rf.pos) rf.pos--;
  }
  if (rows !== buffer) { const j = rows.indexOf(r); if (j >= 0) rows.removeAt(j); }
  vlist.invalidateAll();
}

// ------------------------------------------------------------ rendering ---

const viewport = $('viewport');
const vlist = new VList(viewport, $('spacer'), $('layer'), buildRow);
let follow = true;
let frameReq = 0;
let frameTimer = 0;

function scheduleFrame() {
  if (frameReq || frameTimer) return;
  if (document.hidden) frameTimer = setTimeout(frame, 250);
  else frameReq = requestAnimationFrame(frame);
}
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && frameTimer) { clearTimeout(frameTimer); frameTimer = 0; scheduleFrame(); }
});

let rateCount = 0;
let rateAt = performance.now();
let rate = 0;

let lastRenderAt = 0;
let lastCreated = 0;
let needsPaint = false; // an input asks for the next frame to paint, whatever the rate
const FLOOD_FRAME_MS = 50;

function frame() {
  frameReq = 0;
  frameTimer = 0;
  const t0 = performance.now();
  const anchor = follow ? null : vlist.anchor();
  work(t0 + FRAME_WORK_MS);
  trim(); // (the bound may have been lowered in the settings)
  // Under a flood every frame would replace every row on screen; nobody reads 60 screens
  // a second, so a following view that was wholly replaced is repainted at most ~20 times
  // a second (the main thread's time goes to input and to the stream instead).
  if (follow && lastCreated * 2 > vlist.windowSize && t0 - lastRenderAt < FLOOD_FRAME_MS && !needsPaint) {
    updateStatus();
    scheduleFrame();
    if (hasWork()) postWork();
    return;
  }
  needsPaint = false;
  lastRenderAt = t0;
  const painted = vlist.render(follow, anchor);
  lastCreated = painted.length;
  if (inputMark) {
    hook.reactions.push({ what: inputMark.what, ms: performance.now() - inputMark.at });
    if (hook.reactions.length > 1000) hook.reactions.splice(0, 500);
    inputMark = null;
  }
  if (painted.length) {
    const now = Date.now();
    for (const r of painted) {
      if (r.g || r.painted) continue;
      r.painted = true;
      stats.painted++;
      hook.paintedAt.set(r.seq, now);
      hook.latencies.push(now - r.k / 1000);
    }
    if (hook.latencies.length > LAT_MAX) hook.latencies.splice(0, hook.latencies.length - LAT_MAX / 2);
  }
  updateStatus();
  const dt = performance.now() - t0;
  stats.frames++;
  stats.frameMsLast = dt;
  if (dt > stats.frameMsMax) stats.frameMsMax = dt;
  if (vlist.needsAnotherFrame) scheduleFrame();
  if (hasWork()) postWork();
}

// Slices of work between frames: a MessageChannel message is a task of its own, so input
// events, WebSocket messages and animation frames get their turn between two slices.
const workChan = new MessageChannel();
let workPosted = false;
workChan.port1.onmessage = () => {
  workPosted = false;
  if (work(performance.now() + SLICE_MS)) scheduleFrame();
  if (hasWork()) postWork();
};
function postWork() {
  if (workPosted || !hasWork()) return;
  workPosted = true;
  workChan.port2.postMessage(0);
}
function hasWork() { return !!rf || (!paused && incoming.length > 0); }

/** Merges queued lines and re-filters until `until` (performance.now()); true if the rows changed. */
function work(until) {
  let did = false;
  do {
    if (rf) { refilterStep(); did = true; }
    if (!paused && incoming.length) { ingest(incoming.take(INGEST_CHUNK)); did = true; }
  } while (hasWork() && performance.now() < until);
  return did;
}

function ingest(batch) {
  batch.sort(cmp);
  // with a re-filter under way, lines that land before its cursor are filtered when it gets there
  let low = 0;
  if (rf) {
    const bound = rf.pos < buffer.length ? buffer.at(rf.pos) : null;
    const last = buffer.last();
    for (const r of batch) if (bound ? cmp(r, bound) < 0 : (last && cmp(r, last) < 0)) low++;
  }
  let at = buffer.merge(batch);
  if (rows === buffer) {
    for (const r of batch) r.m = true;
    if (!follow) newCount += batch.length;
  } else {
    const shown = [];
    for (let i = low; i < batch.length; i++) { const r = batch[i]; r.m = matches(r); if (r.m) shown.push(r); }
    if (rf) rf.pos += low;
    if (!follow) newCount += shown.length;
    at = shown.length ? rows.merge(shown) : rows.length;
  }
  vlist.invalidateFrom(at);
  trim();
}

/** Keeps the buffer within its bound: O(lines removed), the rest does not move. */
function trim() {
  const excess = buffer.length - S.buf;
  if (excess <= 0) return;
  const unscanned = rf ? Math.min(rf.pos, excess) : 0;
  let idx = 0;
  let shown = 0;
  buffer.shift(excess, (r) => {
    forget(r);
    if (rows !== buffer && idx >= unscanned && r.m) shown++;
    idx++;
  });
  stats.trimmed += excess;
  if (rf) { rf.pos -= unscanned; if (rf.pos === 0 && rows !== buffer) rf = null; }
  if (rows === buffer) vlist.trimFront(excess);
  else if (shown) { rows.shift(shown); vlist.trimFront(shown); }
}

function resume() {
  if (pending.length) {
    if (!incoming.length) { const t = incoming; incoming = pending; pending = t; } else { incoming.pushAll(pending.toArray()); pending.clear(); }
  }
  postWork();
}

// ---- row building

function fmtTs(k) {
  const d = new Date(Math.floor(k / 1000));
  const p2 = (n) => (n < 10 ? '0' : '') + n;
  const ms = d[S.utc ? 'getUTCMilliseconds' : 'getMilliseconds']();
  const s = S.utc
    ? `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`
    : `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  return `${s}.${String(ms).padStart(3, '0')}${S.utc ? 'Z' : ''}`;
}

function jsonOf(r) {
  if (r.json !== undefined) return r.json;
  r.json = null;
  const t = plainOf(r).trim();
  if (t.length >= 2 && t.length < 1 << 20 && ((t[0] === '{' && t[t.length - 1] === '}') || (t[0] === '[' && t[t.length - 1] === ']'))) {
    try { const v = JSON.parse(t); if (v && typeof v === 'object') r.json = v; } catch (_) { /* not JSON */ }
  }
  return r.json;
}

/** Append `text` to `parent`, wrapping search matches in <mark>; all via text nodes. */
function appendHighlighted(parent, segs) {
  let plain = '';
  for (const s of segs) plain += s.text;
  let ranges = null;
  if (searchRe) {
    ranges = [];
    const re = new RegExp(searchRe.source, searchRe.flags + 'g');
    let m;
    let guard = 0;
    while ((m = re.exec(plain)) !== null && guard++ < 1000) {
      if (m[0].length === 0) { re.lastIndex++; continue; }
      ranges.push(m.index, m.index + m[0].length);
    }
  }
  let off = 0;
  let ri = 0;
  for (const s of segs) {
    const target = s.cls || s.fg || s.bg ? el('span', s.cls || null) : null;
    if (target) {
      if (s.fg) target.style.color = s.fg;
      if (s.bg) target.style.backgroundColor = s.bg;
    }
    const dst = target || parent;
    const end = off + s.text.length;
    let pos = off;
    while (ranges && ri < ranges.length && ranges[ri] < end) {
      const a = Math.max(ranges[ri], pos);
      const b = Math.min(ranges[ri + 1], end);
      if (a > pos) dst.appendChild(document.createTextNode(s.text.slice(pos - off, a - off)));
      if (b > a) dst.appendChild(el('mark', null, s.text.slice(a - off, b - off)));
      pos = Math.max(pos, b);
      if (ranges[ri + 1] <= end) ri += 2; else break;
    }
    if (pos < end) dst.appendChild(document.createTextNode(s.text.slice(pos - off)));
    if (target) parent.appendChild(target);
    off = end;
  }
}

function buildRow(r) {
  if (r.g) return buildGap(r);
  const row = el('div', 'row ' + r.st);
  row.dataset.seq = String(r.seq);
  row.dataset.lineNo = String(r.ln);
  row.dataset.container = r.c;
  row.dataset.level = r.lv;
  if (S.containers.length !== 1 || S.containers[0].includes('*')) {
    const col = colourFor(r.c);
    const cn = el('span', 'cn', r.c.slice(r.c.indexOf('/') + 1));
    cn.style.color = col;
    cn.style.setProperty('--cc', col);
    cn.title = r.c;
    row.appendChild(cn);
  }
  if (S.ts) row.appendChild(el('span', 'ts', fmtTs(r.k)));
  const sm = el('span', 'sm', r.st === 'stderr' ? 'E' : ' ');
  sm.title = r.st;
  row.appendChild(sm);
  const lv = el('span', 'lv ' + r.lv, r.lv === 'unknown' ? '' : r.lv);
  lv.title = 'level detected from the text (a hint, can be wrong)';
  row.appendChild(lv);
  const tx = el('span', 'tx');
  const js = jsonOf(r);
  if (js && r.pretty) {
    row.classList.add('pretty');
    appendHighlighted(tx, [{ text: JSON.stringify(js, null, 2), cls: '', fg: null, bg: null }]);
  } else {
    appendHighlighted(tx, parseAnsi(r.line));
  }
  row.appendChild(tx);
  if (js) {
    const b = el('button', 'jt', r.pretty ? 'raw' : '{ }');
    b.title = r.pretty ? 'show the line as it was written' : 'pretty-print this JSON line';
    b.dataset.act = 'json';
    row.appendChild(b);
  }
  return row;
}

function buildGap(g) {
  const row = el('div', 'row gap');
  row.dataset.gap = '1';
  row.dataset.lost = String(g.lost);
  row.dataset.afterSeq = String(g.after);
  const why = g.reason === 'slow_client' ? 'the page fell behind' : g.reason === 'expired' ? 'no longer retained'
    : g.reason === 'line_no' ? 'line numbers jump' : g.reason;
  let text = `⚠ ${g.lost} line${g.lost === 1 ? '' : 's'} missing in ${g.c}${why ? ' (' + why + ')' : ''}`;
  if (g.done) text += g.got ? ` — fetched ${g.got}; the rest are no longer retained or do not match the filters` : ' — none could be fetched (no longer retained)';
  row.appendChild(el('span', null, text));
  if (!g.done) {
    const b = el('button', null, g.fetching ? 'fetching…' : 'Fetch missing lines');
    b.dataset.act = 'fetch';
    b.disabled = g.fetching;
    row.appendChild(b);
  }
  return row;
}

$('layer').addEventListener('click', (ev) => {
  const b = ev.target.closest('button[data-act]');
  if (!b) return;
  const r = vlist.recOf(b.closest('.row'));
  if (!r) return;
  if (b.dataset.act === 'json') {
    r.pretty = !r.pretty;
    r.h = 0;
    vlist.invalidate(r);
  } else if (b.dataset.act === 'fetch') {
    fetchGap(r);
  }
  scheduleFrame();
});

viewport.addEventListener('wheel', (ev) => markInput('wheel', ev), { passive: true });
viewport.addEventListener('scroll', () => {
  let atBottom = viewport.scrollTop + viewport.clientHeight >= viewport.scrollHeight - 24;
  // Following, and not moved up from where the page itself put the view: still following
  // (the content may have grown or been trimmed meanwhile).
  if (follow && vlist.followTop !== undefined && viewport.scrollTop >= vlist.followTop - 2) atBottom = true;
  if (atBottom !== follow) {
    follow = atBottom;
    if (follow) newCount = 0;
    updateStatus();
  }
  scheduleFrame();
}, { passive: true });

function jumpBottom() {
  follow = true;
  newCount = 0;
  // to the bottom now: a scroll event still on its way (a wheel animation) then finds the
  // view where following puts it and does not end the following again
  vlist.toBottom();
  needsPaint = true;
  scheduleFrame();
  updateStatus();
}

// -------------------------------------------------------------- status ---

function showConn(state, extra) {
  const c = $('conn');
  c.classList.toggle('open', state === 'open');
  c.classList.toggle('down', state === 'waiting' || state === 'closed');
  const t = state === 'open' ? 'live' : state === 'waiting' ? `offline, retry in ${Math.ceil(extra.delay / 1000)}s`
    : state === 'reconnecting' ? 'reconnecting…' : state === 'connecting' ? 'connecting…' : state;
  $('conn-text').textContent = t;
  c.dataset.state = state;
  stats.reconnects = conn.reconnects;
  if (state === 'open') banner('');
}

let bannerTimer = 0;
function banner(text, sticky) {
  const b = $('banner');
  b.textContent = text;
  b.hidden = !text;
  clearTimeout(bannerTimer);
  if (text && !sticky) bannerTimer = setTimeout(() => { b.hidden = true; }, 8000);
}

const shownText = new Map();
/** Sets an element's text only when it changes (no style or layout work for the same text). */
function setText(id, t) {
  if (shownText.get(id) === t) return;
  shownText.set(id, t);
  $(id).textContent = t;
}
function setHidden(e, h) { if (e.hidden !== h) e.hidden = h; }

let statusAt = 0;
function updateStatus() {
  stats.buffered = buffer.length;
  stats.rows = rows.length;
  stats.pending = pending.length;
  stats.queued = incoming.length;
  const now = performance.now();
  const nl = $('newlines');
  setHidden(nl, follow || newCount === 0);
  if (!nl.hidden) setText('newlines', `${newCount.toLocaleString()} new line${newCount === 1 ? '' : 's'} ↓`);
  const pb = $('pause');
  if (pb.classList.contains('paused') !== paused) pb.classList.toggle('paused', paused);
  setText('pause', paused ? `Resume (${pending.length.toLocaleString()})` : 'Pause');
  setText('st-paused', paused ? `paused: ${pending.length.toLocaleString()} lines waiting` : '');
  setText('st-follow', follow ? 'following' : 'scrolled (End to follow)');
  setHidden($('empty'), S.containers.length > 0 || rows.length > 0);
  if (now - statusAt < 250) return;
  statusAt = now;
  const dt = (now - rateAt) / 1000;
  if (dt >= 1) { rate = (stats.received - rateCount) / dt; rateCount = stats.received; rateAt = now; }
  setText('st-lines', filtered
    ? `${rows.length.toLocaleString()} of ${buffer.length.toLocaleString()} lines match${rf ? ' (searching…)' : ''} (max ${S.buf.toLocaleString()})`
    : `${buffer.length.toLocaleString()} lines (max ${S.buf.toLocaleString()})`);
  setText('st-rate', `${Math.round(rate).toLocaleString()} lines/s`);
  setText('st-gaps', gapsOpen > 0 ? `${gapsOpen} gap${gapsOpen === 1 ? '' : 's'}` : '');
  setText('qinfo', searchErr || (S.q ? `${rows.length.toLocaleString()}${rf ? '+' : ''} match` : ''));
}
setInterval(() => { if (!frameReq) updateStatus(); }, 1000);

// ---------------------------------------------------------- containers ---

let containers = [];
let containersErr = '';

async function pollContainers() {
  try {
    const t = token();
    const r = await fetch('api/containers', { headers: t ? { Authorization: 'Bearer ' + t } : {}, cache: 'no-store' });
    if (r.status === 401 || r.status === 403) {
      containersErr = 'access token required';
      if (r.status === 401) promptToken(t ? 'The token was refused.' : 'This gateway requires a token.');
    } else if (r.ok) {
      const j = await r.json();
      containersErr = '';
      setContainers(Array.isArray(j.containers) ? j.containers : []);
    } else containersErr = `containers: HTTP ${r.status}`;
  } catch (e) {
    containersErr = 'gateway unreachable';
  }
  if (containersErr) $('ccount').textContent = containersErr;
}

async function checkAuth() {
  // The WebSocket closed before opening: find out whether a token is missing.
  try {
    const t = token();
    const r = await fetch('api/containers', { headers: t ? { Authorization: 'Bearer ' + t } : {}, cache: 'no-store' });
    if (r.status === 401) promptToken(t ? 'The token was refused.' : 'This gateway requires a token.');
  } catch (_) { /* gateway away: keep retrying */ }
}

function setContainers(list) {
  containers = list.filter((c) => c && typeof c.name === 'string').map((c) => ({
    host: String(c.host || ''), name: c.name, image: String(c.image || ''), state: String(c.state || ''),
    key: `${c.host || ''}/${c.name}`,
  }));
  containers.sort((a, b) => a.host.localeCompare(b.host) || (a.state === 'running' ? 0 : 1) - (b.state === 'running' ? 0 : 1) || a.name.localeCompare(b.name));
  renderContainers();
}

let lastListKey = '';
function renderContainers() {
  const f = $('cfilter').value.trim().toLowerCase();
  const shown = containers.filter((c) => !f || c.name.toLowerCase().includes(f) || c.host.toLowerCase().includes(f));
  const key = f + '\n' + S.containers.join(',') + '\n' + shown.map((c) => c.key + c.state + c.image).join(',');
  const running = containers.filter((c) => c.state === 'running').length;
  $('ccount').textContent = `${containers.length} containers, ${running} running`;
  if (key === lastListKey) return;
  lastListKey = key;
  const list = $('clist');
  const frag = document.createDocumentFragment();
  let host = null;
  for (const c of shown) {
    if (c.host !== host) { host = c.host; frag.appendChild(el('div', 'host', host)); }
    const running = c.state === 'running';
    const item = el('div', 'citem ' + (running ? 'running' : 'stopped') + (S.containers.includes(c.key) ? ' sel' : ''));
    item.dataset.key = c.key;
    item.setAttribute('role', 'option');
    item.setAttribute('aria-selected', String(S.containers.includes(c.key)));
    item.title = `${c.key}\n${c.image}\n${c.state}\nclick: watch only this; ctrl/⌘-click or the box: add to the view`;
    const cb = document.createElement('input');
    cb.type = 'checkbox';
    cb.checked = S.containers.includes(c.key);
    cb.tabIndex = -1;
    item.appendChild(cb);
    item.appendChild(el('span', 'dot'));
    item.appendChild(el('span', 'name', c.name));
    item.appendChild(el('span', 'img', c.image));
    frag.appendChild(item);
  }
  list.replaceChildren(frag);
}

$('clist').addEventListener('click', (ev) => {
  const item = ev.target.closest('.citem');
  if (!item) return;
  const key = item.dataset.key;
  const multi = ev.target.tagName === 'INPUT' || ev.ctrlKey || ev.metaKey || ev.shiftKey;
  if (multi) {
    if (S.containers.includes(key)) S.containers = S.containers.filter((c) => c !== key);
    else S.containers = S.containers.concat(key);
  } else {
    if (S.containers.length === 1 && S.containers[0] === key) return;
    S.containers = [key];
  }
  containersChanged();
});

$('cfilter').addEventListener('input', () => renderContainers());
$('cfilter').addEventListener('keydown', (ev) => {
  if (ev.key !== 'Enter') return;
  const v = $('cfilter').value.trim();
  if (v.includes('/') && !S.containers.includes(v)) {
    S.containers = S.containers.concat(v);
    $('cfilter').value = '';
    containersChanged();
  }
});

function containersChanged() {
  // lines of containers no longer watched leave the page
  const watched = new Set(S.containers);
  const keep = (r) => {
    for (const w of watched) if (w === r.c || (w.includes('*') && globMatch(w, r.c))) return true;
    return false;
  };
  if (buffer.some((r) => !keep(r))) {
    const old = buffer;
    buffer = new Deque(cmp);
    old.forEach((r) => { if (keep(r)) buffer.push(r); else forget(r); });
    refilter();
  }
  applySubscriptions();
  writeUrl();
  renderContainers();
  vlist.invalidateAll();
  scheduleFrame();
}

function globMatch(glob, s) {
  const re = new RegExp('^' + glob.split('*').map(escapeRe).join('.*') + '$');
  return re.test(s);
}

function renderSelected() {
  let w = 4;
  for (const c of S.containers) w = Math.max(w, c.length - c.indexOf('/') - 1);
  document.documentElement.style.setProperty('--cn-w', Math.min(w, 24) + 1 + 'ch');
  const box = $('selected');
  box.replaceChildren();
  for (const c of S.containers) {
    const chip = el('span', 'chip');
    const sw = el('span', 'sw');
    sw.style.background = S.containers.length > 1 ? colourFor(c) : 'transparent';
    chip.appendChild(sw);
    chip.appendChild(el('span', null, c));
    const x = el('button', 'x', '×');
    x.title = 'stop watching';
    x.addEventListener('click', () => { S.containers = S.containers.filter((k) => k !== c); containersChanged(); });
    chip.appendChild(x);
    box.appendChild(chip);
  }
}

// ------------------------------------------------------------- controls ---

function buildToggles(boxId, values, key) {
  const box = $(boxId);
  for (const v of values) {
    const b = el('button', 'tog chip', v);
    b.dataset.v = v;
    b.setAttribute('aria-pressed', String(S[key].includes(v)));
    b.title = key === 'levels' ? `show only the selected levels (none selected: all)` : `show only the selected streams (none selected: both)`;
    b.addEventListener('click', () => {
      const was = S[key].slice();
      S[key] = S[key].includes(v) ? S[key].filter((x) => x !== v) : S[key].concat(v);
      b.setAttribute('aria-pressed', String(S[key].includes(v)));
      filtersChanged(was.length > 0 && (S[key].length === 0 || S[key].length > was.length || !S[key].every((x) => was.includes(x))));
    });
    box.appendChild(b);
  }
}

function filtersChanged(loosened) {
  buildSearch();
  $('q').classList.toggle('invalid', !!searchErr);
  refilter();
  applySubscriptions({ loosened });
  writeUrl();
  updateStatus();
}

let qTimer = 0;
let lastQ = { q: '', re: false, cs: false };
$('q').addEventListener('input', () => {
  clearTimeout(qTimer);
  qTimer = setTimeout(searchChanged, 250);
});
$('q').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') { clearTimeout(qTimer); markInput($('q').value ? 'search' : 'search cleared', ev); searchChanged(); }
  if (ev.key === 'Escape') { $('q').blur(); viewport.focus(); }
});
function searchChanged() {
  S.q = $('q').value;
  if (S.q === lastQ.q && S.re === lastQ.re && S.cs === lastQ.cs) return;
  const loosened = !!lastQ.q && (S.q === '' || S.re !== lastQ.re || S.cs !== lastQ.cs || !S.q.includes(lastQ.q) || S.re);
  lastQ = { q: S.q, re: S.re, cs: S.cs };
  filtersChanged(loosened);
}
$('cs').addEventListener('click', () => {
  S.cs = !S.cs;
  $('cs').setAttribute('aria-pressed', String(S.cs));
  searchChanged();
});
$('re').addEventListener('click', () => {
  S.re = !S.re;
  $('re').setAttribute('aria-pressed', String(S.re));
  searchChanged();
});

function togglePause() {
  paused = !paused;
  if (!paused) resume();
  needsPaint = true;
  scheduleFrame();
  updateStatus();
}
$('pause').addEventListener('click', togglePause);
$('clear').addEventListener('click', () => { clearAll(); updateStatus(); });

function setOpt(key, v) {
  S[key] = v;
  $(key).setAttribute('aria-pressed', String(v));
  document.documentElement.classList.toggle('wrap', S.wrap);
  viewport.classList.toggle('wrap', S.wrap);
  vlist.wrap = S.wrap;
  buffer.forEach((r) => { r.h = 0; });
  vlist.invalidateAll();
  writeUrl();
  scheduleFrame();
}
$('ts').addEventListener('click', () => setOpt('ts', !S.ts));
$('utc').addEventListener('click', () => setOpt('utc', !S.utc));
$('wrap').addEventListener('click', () => setOpt('wrap', !S.wrap));
$('newlines').addEventListener('click', jumpBottom);

function applyTheme() {
  const dark = S.theme === 'dark' || (S.theme === 'auto' && matchMedia('(prefers-color-scheme: dark)').matches);
  document.documentElement.dataset.theme = dark ? 'dark' : 'light';
  $('theme').textContent = S.theme === 'auto' ? 'Theme: auto' : S.theme === 'dark' ? 'Theme: dark' : 'Theme: light';
}
matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
$('theme').addEventListener('click', () => {
  S.theme = S.theme === 'auto' ? 'light' : S.theme === 'light' ? 'dark' : 'auto';
  localStorage.setItem('logjet_theme', S.theme);
  applyTheme();
  writeUrl();
});

$('dl').addEventListener('click', () => {
  while (rf) refilterStep(); // every match, not only those found so far
  const parts = [];
  rows.forEach((r) => {
    if (r.g) { parts.push(`# ${r.lost} lines missing in ${r.c}\n`); return; }
    const ts = new Date(Math.floor(r.k / 1000)).toISOString();
    parts.push(`${ts} ${r.c} ${r.st} ${plainOf(r)}\n`);
  });
  const blob = new Blob(parts, { type: 'text/plain;charset=utf-8' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `logjet-${new Date().toISOString().replace(/[:.]/g, '-')}.log`;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10000);
});

// ---- dialogs

let tokenPromptOpen = false;
function promptToken(msg) {
  const d = $('token-dlg');
  $('token-err').textContent = msg || '';
  if (tokenPromptOpen) return;
  tokenPromptOpen = true;
  $('token-in').value = '';
  d.showModal();
}
$('token-dlg').addEventListener('close', () => {
  tokenPromptOpen = false;
  if ($('token-dlg').returnValue === 'ok') {
    const v = $('token-in').value.trim();
    if (v) localStorage.setItem('logjet_token', v);
    conn.reconnectNow();
    pollContainers();
  }
});

$('settings').addEventListener('click', () => {
  $('set-buf').value = String(S.buf);
  $('set-replay').value = String(S.replay);
  $('settings-dlg').showModal();
});
$('settings-dlg').addEventListener('close', () => {
  if ($('settings-dlg').returnValue !== 'ok') return;
  const b = Number($('set-buf').value);
  const rp = Number($('set-replay').value);
  if (Number.isFinite(b) && b >= 100) { S.buf = Math.min(Math.floor(b), 5000000); localStorage.setItem('logjet_buf', String(S.buf)); }
  if (Number.isFinite(rp) && rp >= 0) { S.replay = Math.min(Math.floor(rp), 1000); localStorage.setItem('logjet_replay', String(S.replay)); }
  writeUrl();
  scheduleFrame();
});
$('set-token').addEventListener('click', () => { $('settings-dlg').close(); promptToken(''); });
$('help').addEventListener('click', () => $('help-dlg').showModal());

// ---- keyboard

// A mouse click on a toolbar button should not leave the focus there: Space would then
// press the button again instead of pausing the stream.
for (const id of ['bar', 'newlines']) {
  $(id).addEventListener('click', (ev) => {
    if (ev.detail > 0 && ev.target.closest('button')) viewport.focus({ preventScroll: true });
  });
}

document.addEventListener('keydown', (ev) => {
  if (document.querySelector('dialog[open]')) return;
  const t = ev.target;
  const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
  if (typing) return;
  if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
  if (ev.key === '/') { ev.preventDefault(); $('q').focus(); $('q').select(); }
  else if (ev.key === ' ' && t.tagName !== 'BUTTON') { ev.preventDefault(); markInput(paused ? 'resume' : 'pause', ev); togglePause(); }
  else if (ev.key === 'End') { ev.preventDefault(); markInput('end', ev); jumpBottom(); }
  else if (ev.key === 'Home') { ev.preventDefault(); follow = false; viewport.scrollTop = 0; scheduleFrame(); }
  else if (ev.key === '?') { ev.preventDefault(); $('help-dlg').showModal(); }
  else if (ev.key === 'w') setOpt('wrap', !S.wrap);
  else if (ev.key === 't') setOpt('ts', !S.ts);
});

// ---------------------------------------------------------------- start ---

readUrl();
writeUrl();
applyTheme();
buildToggles('levels', LEVELS, 'levels');
buildToggles('streams', STREAMS, 'streams');
$('q').value = S.q;
lastQ = { q: S.q, re: S.re, cs: S.cs };
$('re').setAttribute('aria-pressed', String(S.re));
$('cs').setAttribute('aria-pressed', String(S.cs));
$('ts').setAttribute('aria-pressed', String(S.ts));
$('utc').setAttribute('aria-pressed', String(S.utc));
$('wrap').setAttribute('aria-pressed', String(S.wrap));
viewport.classList.toggle('wrap', S.wrap);
vlist.wrap = S.wrap;
buildSearch();
refilter();
lastSpecKey = specKey();
applySubscriptions();
renderSelected();
conn.connect();
pollContainers();
setInterval(pollContainers, 3000);
updateStatus();
viewport.focus();

/** A compact copy of what the page holds (for tests and debugging). */
hook.snapshot = () => buffer.toArray().map((r) => (r.g
  ? { gap: true, c: r.c, lost: r.lost, after: r.after, upto: r.upto, done: r.done, got: r.got }
  : { seq: r.seq, ln: r.ln, c: r.c, st: r.st, lv: r.lv, ts: r.k / 1000, line: r.line, shown: r.m,
    receivedAt: hook.receivedAt.get(r.seq), paintedAt: hook.paintedAt.get(r.seq) }));
hook.api = { jumpBottom, togglePause, clear: clearAll, get paused() { return paused; }, get follow() { return follow; } };
