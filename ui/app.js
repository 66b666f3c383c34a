// logjet browser UI: wires the settings, the protocol session, the line store and the
// views (list, sidebar, toolbar), and runs the frame loop. Plain ES modules, no build step.
// Log text is only ever put in the page through text nodes (rows.js).

import { Conn } from './conn.js';
import { VList } from './vlist.js';
import { Store } from './store.js';
import { Session } from './session.js';
import { Filter, serverGrep, isGlob } from './filter.js';
import { defaults, readParams, toQuery } from './settings.js';
import { labels } from './names.js';
import { rowBuilder } from './rows.js';
import { Sidebar } from './sidebar.js';
import { Toolbar } from './toolbar.js';
import { bindControls } from './controls.js';
import { Chart } from './chart.js';
import { TimeJump } from './timejump.js';

const COLOURS = ['#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf', '#e377c2', '#8c564b', '#bcbd22', '#7f7f7f', '#005f5f'];
// Work on lines (merging, re-filtering) is cut in slices of a few ms with a yield between
// them, so that input, paint and the WebSocket are never kept waiting long.
const SLICE_MS = 4; // one slice of work between frames
const FRAME_WORK_MS = 3; // the slice done inside an animation frame, before painting
const FLOOD_FRAME_MS = 50;
const LAT_MAX = 200000;
const $ = (id) => document.getElementById(id);

const S = defaults();
readParams(S, new URLSearchParams(location.search), localStorage);
const token = () => localStorage.getItem('logjet_token') || '';
const writeUrl = () => { const q = toQuery(S); history.replaceState(null, '', location.pathname + (q ? '?' + q : '')); };

// ---- model
const filter = new Filter();
filter.set(S);
const viewport = $('viewport');
const colourOf = new Map();
const colourFor = (c) => { let i = colourOf.get(c); if (i === undefined) { i = colourOf.size % COLOURS.length; colourOf.set(c, i); } return COLOURS[i]; };
const view = { merged: false, label: (c) => c.slice(c.indexOf('/') + 1), colour: colourFor, ts: S.ts, utc: S.utc, re: null, context: 0, cols: S.cols };
const vlist = new VList(viewport, $('spacer'), $('layer'), rowBuilder(view));
const store = new Store(S, filter, vlist);
const bar = new Toolbar();
const side = new Sidebar($('clist'), $('cfilter'), $('ccount'));
const chart = new Chart($('chart'), store, {
  onPick: (k) => ctl.scrollToTime(k), onBrush: (r) => ctl.setRange(r), merged: () => view.merged, colour: colourFor, label: (c) => view.label(c),
});
let serverErr = '';

const conn = new Conn({
  url: () => {
    const u = new URL('ws', location.href);
    u.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    u.search = '';
    u.hash = '';
    if (token()) u.searchParams.set('token', token());
    return u.toString();
  },
  onOpen: () => { stats.connected = true; session.opened(); },
  onClose: (info) => { stats.connected = false; session.closed(); if (!info.opened) checkAuth(); },
  onFrame: (m) => session.frame(m),
  onStatus: (state, extra) => { bar.conn(state, extra); stats.reconnects = conn.reconnects; },
});

const session = new Session({
  send: (o) => conn.send(o),
  store, S,
  spec: () => {
    const spec = {};
    if (S.levels.length) spec.levels = S.levels.slice();
    if (S.streams.length) spec.streams = S.streams.slice();
    // context lines are lines that do not match: with context, the search stays in the page
    const g = filter.context ? undefined : serverGrep(S, filter.err);
    if (g) spec.grep = g;
    return spec;
  },
  now: () => Date.now(),
  onChange: () => { postWork(); scheduleFrame(); },
  onInvalidate: (r) => { vlist.invalidate(r); scheduleFrame(); },
  onContainers: (list) => { side.setContainers(list); side.render(S.containers); },
  onHello: (m) => { hook.hello = m; },
  onRetention: (m) => { hook.retention.push(m); jump.retention(m); },
  onJumped: () => jump.replayed(),
  onError: (m, s) => {
    stats.errors++;
    hook.errors.push(m);
    if (m.code === 'forbidden') {
      if (!token()) { ctl.promptToken('This gateway requires a token.'); return; }
      bar.banner(`Not allowed${s ? ' to watch ' + s.container : ''}: ${m.message || 'forbidden'}.`, true);
    } else if (m.code === 'bad_request' && S.q && s) {
      $('q').classList.add('invalid');
      serverErr = m.message || 'the gateway rejected the search';
      bar.setText('qinfo', serverErr);
    } else {
      bar.banner(`${s ? s.container + ': ' : ''}${m.code || 'error'}${m.message ? ' — ' + m.message : ''}`);
    }
  },
});

// ---- test hook
const stats = Object.assign(store.stats, {
  buffered: 0, rows: 0, pending: 0, queued: 0, painted: 0, frames: 0, frameMsMax: 0, frameMsLast: 0,
  reconnects: 0, connected: false, subscriptions: 0, errors: 0,
});
const hook = {
  stats, receivedAt: store.receivedAt, paintedAt: store.paintedAt, latencies: [], reactions: [], state: S, errors: [], store, chart, retention: [],
};
window.__logjet = hook;
let inputMark = null;
/** Notes an input (event timestamp, same clock as performance.now()); the next painted frame closes it. */
const markInput = (what, ev) => { if (!inputMark) inputMark = { what, at: ev && ev.timeStamp ? ev.timeStamp : performance.now() }; };

// ---- the views of the model
let labelKey = '';
/** Container labels for what the page holds: distinct in a merged view. */
function relabel() {
  const keys = [...store.perContainer.keys()].sort();
  const merged = S.containers.length !== 1 || isGlob(S.containers[0]);
  const key = merged + keys.join('\n');
  if (key === labelKey) return;
  labelKey = key;
  const names = labels(keys);
  view.merged = merged;
  view.label = (c) => names.get(c) || c.slice(c.indexOf('/') + 1);
  let w = 4;
  for (const l of names.values()) w = Math.max(w, l.length);
  for (const c of S.containers) if (!isGlob(c)) w = Math.max(w, Math.min(names.get(c)?.length ?? c.length - c.indexOf('/') - 1, 24));
  document.documentElement.style.setProperty('--cn-w', Math.min(w, 32) + 1 + 'ch');
  vlist.invalidateAll();
  ctl.head(); // (the header over the JSON columns: with or without the label column)
}

function updateStatus() {
  stats.buffered = store.lineCount; // (lines: lifecycle events left out)
  stats.rows = store.rowLineCount; // (lines: lifecycle events left out)
  stats.pending = store.pending.length;
  stats.queued = store.incoming.length;
  stats.subscriptions = session.count;
  let hits = 0;
  if (filter.context && store.filtered) store.rows.forEach((r) => { if (r.hit) hits++; });
  bar.status({ store, S, follow: store.follow, paused: store.paused, filterErr: filter.err, serverErr, hits });
}
setInterval(() => { if (!frameReq) updateStatus(); ctl.sizeColumns(performance.now()); }, 1000);

// ---- frame loop
let frameReq = 0;
let frameTimer = 0;
let lastRenderAt = 0;
let lastCreated = 0;
let needsPaint = false; // an input asks for the next frame to paint, whatever the rate

function scheduleFrame() {
  if (frameReq || frameTimer) return;
  if (document.hidden) frameTimer = setTimeout(frame, 250);
  else frameReq = requestAnimationFrame(frame);
}
document.addEventListener('visibilitychange', () => {
  if (!document.hidden && frameTimer) { clearTimeout(frameTimer); frameTimer = 0; scheduleFrame(); }
});

function frame() {
  frameReq = 0;
  frameTimer = 0;
  const t0 = performance.now();
  const anchor = store.follow ? null : vlist.anchor();
  store.work(t0 + FRAME_WORK_MS, () => performance.now());
  store.trim(); // (the bound may have been lowered in the settings)
  relabel();
  ctl.sizeColumns(t0); // (JSON columns as wide as their values: at most twice a second)
  // Under a flood every frame would replace every row on screen; nobody reads 60 screens
  // a second, so a following view that was wholly replaced is repainted at most ~20 times
  // a second (the main thread's time goes to input and to the stream instead).
  if (store.follow && lastCreated * 2 > vlist.windowSize && t0 - lastRenderAt < FLOOD_FRAME_MS && !needsPaint) {
    updateStatus();
    scheduleFrame();
    postWork();
    return;
  }
  needsPaint = false;
  lastRenderAt = t0;
  const painted = vlist.render(store.follow, anchor);
  lastCreated = painted.length;
  if (inputMark) {
    hook.reactions.push({ what: inputMark.what, ms: performance.now() - inputMark.at });
    if (hook.reactions.length > 1000) hook.reactions.splice(0, 500);
    inputMark = null;
  }
  if (painted.length) {
    const now = Date.now();
    for (const r of painted) {
      if (r.g || r.sep || r.ev || r.painted) continue;
      r.painted = true;
      stats.painted++;
      store.paintedAt.set(r.seq, now);
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
  postWork();
}

// Slices of work between frames: a MessageChannel message is a task of its own, so input
// events, WebSocket messages and animation frames get their turn between two slices.
const workChan = new MessageChannel();
let workPosted = false;
workChan.port1.onmessage = () => {
  workPosted = false;
  if (store.work(performance.now() + SLICE_MS, () => performance.now())) scheduleFrame();
  postWork();
};
function postWork() {
  if (workPosted || !store.hasWork()) return;
  workPosted = true;
  workChan.port2.postMessage(0);
}

// ---- containers over HTTP (the sidebar's list; a 401 asks for a token)
async function fetchContainers() {
  const t = token();
  return fetch('api/containers', { headers: t ? { Authorization: 'Bearer ' + t } : {}, cache: 'no-store' });
}
async function pollContainers() {
  let err = '';
  try {
    const r = await fetchContainers();
    if (r.status === 401 || r.status === 403) {
      err = 'access token required';
      if (r.status === 401) ctl.promptToken(token() ? 'The token was refused.' : 'This gateway requires a token.');
    } else if (r.ok) {
      const j = await r.json();
      side.setContainers(Array.isArray(j.containers) ? j.containers : []);
    } else err = `containers: HTTP ${r.status}`;
  } catch (e) {
    err = 'gateway unreachable';
  }
  side.setError(err);
  side.render(S.containers);
}
async function checkAuth() {
  // The WebSocket closed before opening: find out whether a token is missing.
  try {
    const r = await fetchContainers();
    if (r.status === 401) ctl.promptToken(token() ? 'The token was refused.' : 'This gateway requires a token.');
  } catch (_) { /* gateway away: keep retrying */ }
}

// ---- controller
const ctl = bindControls({
  S, store, session, conn, filter, vlist, view, bar, side, viewport, hook,
  writeUrl, scheduleFrame, postWork, updateStatus, markInput, pollContainers,
  paint: () => { needsPaint = true; scheduleFrame(); },
  clearServerErr: () => { serverErr = ''; },
  colourFor, chart,
});

const jump = new TimeJump({
  S, store, session, writeUrl, paint: () => { needsPaint = true; scheduleFrame(); },
  scrollToTime: (k) => ctl.scrollToTime(k), jumpBottom: () => ctl.jumpBottom(),
});

// ---- start
writeUrl();
store.refilter();
session.settle();
session.apply();
ctl.selectedChanged();
conn.connect();
chart.start(); // (its own task, at most a few times a second, only when the counts changed)
pollContainers();
setInterval(pollContainers, 3000);
updateStatus();
viewport.focus();

/** A compact copy of what the page holds (for tests and debugging). */
hook.timeline = () => store.buffer.toArray().map((r) => (r.g
  ? { gap: true, c: r.c, lost: r.lost, after: r.after, upto: r.upto, done: r.done, got: r.got }
  : r.ev ? { event: r.kind, c: r.c, ts: r.ts / 1000, k: r.k / 1000, text: r.line, code: r.code, current: r.current, shown: r.m }
  : { seq: r.seq, ln: r.ln, c: r.c, st: r.st, lv: r.lv, ts: r.k / 1000, line: r.line, shown: r.m,
    receivedAt: store.receivedAt.get(r.seq), paintedAt: store.paintedAt.get(r.seq) }));
hook.snapshot = () => hook.timeline().filter((r) => !r.event); // (lines and gaps)
hook.api = {
  jumpBottom: () => ctl.jumpBottom(), togglePause: () => ctl.togglePause(), clear: () => ctl.clear(),
  get paused() { return store.paused; }, get follow() { return store.follow; },
};
