// The volume chart: lines held per time bucket, drawn on a canvas, stacked by level (by
// container in a merged view, in the rows' colours). It reads the store's per-second
// counts (kept as lines come and go) and redraws in a task of its own, at most every
// DRAW_MS and only when they changed, so a flood costs it a few small draws a second and
// a trace can tell its share (every draw runs in this file's loop()). A click on a bucket
// calls onPick with the bucket's start time (µs); a drag over buckets calls onBrush with
// the range [from, to) they cover (µs); the range in view (S.range) is drawn highlighted.
// It does not filter nor scroll: the controller does.

import { LEVELS } from './settings.js';

const DRAW_MS = 250;
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
const BAR_PX = 4; // narrowest bucket
const PAD = 2;
const DRAG_PX = 4; // a press that moves less is a click
// bottom to top; the colours are the theme's
const STACK = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'unknown'];
const VAR = { fatal: '--err', error: '--err', warn: '--warn', info: '--info', debug: '--debug', trace: '--debug', unknown: '--border' };
const fmt = (us) => new Date(us / 1000).toLocaleTimeString();

export class Chart {
  /** o: {onPick(k), onBrush([from, to)), merged() -> bool, colour(c) -> css colour, label(c) -> short name}. */
  constructor(canvas, store, o) {
    this.canvas = canvas;
    this.store = store;
    this.o = o;
    this.drawnKey = '';
    this.drawnVersion = -1; // the store's version drawn last
    this.cw = 0; // the canvas's width in CSS px (0: not shown)
    this.model = null; // what is drawn: {from, width (µs), buckets, byC}
    this.draws = 0;
    this.drawMsMax = 0;
    this.colours = null;
    this.drag = null; // {x0, x1} client x while a brush is dragged
    this.timer = 0;
    new ResizeObserver((es) => { for (const e of es) this.cw = e.contentRect.width; }).observe(canvas);
    canvas.addEventListener('pointerdown', (ev) => this.down(ev));
    canvas.addEventListener('pointermove', (ev) => this.move(ev));
    canvas.addEventListener('pointerup', (ev) => this.up(ev));
    canvas.addEventListener('pointercancel', () => { this.drag = null; this.redraw(); });
  }

  /** Runs the drawing loop: a check every DRAW_MS, a draw when the counts changed. */
  start() {
    const loop = () => {
      this.timer = setTimeout(loop, DRAW_MS);
      if (!document.hidden) this.tick();
    };
    if (!this.timer) this.timer = setTimeout(loop, 0);
  }

  themeChanged() { this.colours = null; this.redraw(); }

  /** Draws again at the next check, whatever changed. */
  redraw() { this.drawnKey = ''; }

  key() {
    const S = this.store.S;
    return `${this.store.version} ${this.cw} ${this.o.merged()} ${S.range ? S.range.join('-') : ''} ${this.drag ? this.drag.x0 + ',' + this.drag.x1 : ''}`;
  }

  /** Draws when something drawn changed; returns whether it drew. */
  tick() {
    const cw = this.cw;
    if (!cw || this.canvas.hidden) return false;
    const key = this.key();
    if (key === this.drawnKey) return false;
    const t0 = performance.now();
    this.drawnKey = key;
    this.drawnVersion = this.store.version;
    this.draw(cw);
    this.draws++;
    const dt = performance.now() - t0;
    if (dt > this.drawMsMax) this.drawMsMax = dt;
    return true;
  }

  /** Bucket width (µs) and first bucket for what the store holds in `px` pixels. */
  layout(px) {
    const span = this.store.span();
    if (!span) return { from: 0, width: 1e6, count: 0 };
    const [lo, hi] = span;
    const most = Math.max(1, Math.floor(px / BAR_PX));
    let w = STEPS[STEPS.length - 1];
    for (const s of STEPS) if (Math.floor(hi / s) - Math.floor(lo / s) + 1 <= most) { w = s; break; }
    const first = Math.floor(lo / w);
    return { from: first * w * 1e6, width: w * 1e6, count: Math.floor(hi / w) - first + 1 };
  }

  compute(px) {
    const l = this.layout(px);
    const byC = this.o.merged();
    return { from: l.from, width: l.width, byC, buckets: this.store.buckets(l.from, l.width, l.count, byC) };
  }

  loadColours() {
    const cs = getComputedStyle(document.documentElement);
    this.colours = {};
    for (const l of STACK) this.colours[l] = cs.getPropertyValue(VAR[l]).trim() || '#888';
    this.colours.text = cs.getPropertyValue('--muted').trim() || '#888';
    this.colours.sel = cs.getPropertyValue('--accent').trim() || '#08f';
  }

  /** The stack of bucket b, bottom to top: [[count, colour]]. */
  stack(b, byC) {
    if (byC) return [...b.byC.keys()].sort().map((c) => [b.byC.get(c), this.o.colour(c)]);
    const out = [];
    for (const l of STACK) out.push([b.lv[LEVELS.indexOf(l)], this.colours[l]]);
    return out;
  }

  draw(cw) {
    const c = this.canvas;
    const dpr = window.devicePixelRatio || 1;
    const ch = c.clientHeight;
    if (c.width !== Math.round(cw * dpr) || c.height !== Math.round(ch * dpr)) { c.width = Math.round(cw * dpr); c.height = Math.round(ch * dpr); }
    const g = c.getContext('2d');
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, cw, ch);
    const m = this.compute(cw - 2 * PAD);
    this.model = m;
    if (!this.colours) this.loadColours();
    const n = m.buckets.length;
    c.setAttribute('aria-label', n ? `lines per ${m.width / 1e6} s by ${m.byC ? 'container' : 'level'}, ${n} buckets; ` +
      'click a bar to go there, drag over bars to show only that time' : 'no lines');
    if (!n) return;
    let max = 1;
    for (const b of m.buckets) if (b.n > max) max = b.n;
    const bw = (cw - 2 * PAD) / n;
    const top = 12;
    const h = ch - top - 1;
    const sel = this.selection();
    for (let i = 0; i < n; i++) {
      const b = m.buckets[i];
      if (!b.n) continue;
      g.globalAlpha = sel && (b.t + m.width <= sel[0] || b.t >= sel[1]) ? 0.3 : 1;
      let y = ch - 1;
      for (const [v, col] of this.stack(b, m.byC)) {
        if (!v) continue;
        const bh = Math.max(1, (v / max) * h);
        g.fillStyle = col;
        g.fillRect(PAD + i * bw, y - bh, Math.max(1, bw - 1), bh);
        y -= bh;
      }
    }
    g.globalAlpha = 1;
    if (sel) {
      // the range's edges, where they fall in the buckets drawn
      g.fillStyle = this.colours.sel;
      for (const t of sel) {
        const x = PAD + ((t - m.from) / (m.width * n)) * (cw - 2 * PAD);
        if (x >= 0 && x <= cw) g.fillRect(Math.round(x) - 1, top, 2, h + 1);
      }
    }
    g.fillStyle = this.colours.text;
    g.font = '10px system-ui, sans-serif';
    g.textBaseline = 'top';
    g.textAlign = 'left';
    g.fillText(`${fmt(m.from)}  ·  max ${max.toLocaleString()} lines / ${m.width / 1e6} s${m.byC ? ' · by container' : ''}`, PAD, 1);
    g.textAlign = 'right';
    g.fillText(fmt(m.from + n * m.width), cw - PAD, 1);
  }

  /** The range highlighted: the one being dragged, else the one in view; [from, to) µs or null. */
  selection() {
    if (this.drag && Math.abs(this.drag.x1 - this.drag.x0) >= DRAG_PX) return this.rangeOf(this.drag.x0, this.drag.x1);
    return this.store.S.range;
  }

  /** The buckets between client x0 and x1 (either order) as [from, to) µs, or null. */
  rangeOf(x0, x1) {
    const a = this.indexAt(Math.min(x0, x1), true);
    const b = this.indexAt(Math.max(x0, x1), true);
    if (a < 0 || b < 0) return null;
    const m = this.model;
    return [m.buckets[a].t, m.buckets[b].t + m.width];
  }

  down(ev) {
    if (ev.button !== 0 || !this.model) return;
    this.drag = { x0: ev.clientX, x1: ev.clientX };
    this.canvas.setPointerCapture(ev.pointerId);
  }

  move(ev) {
    if (this.drag) {
      this.drag.x1 = ev.clientX;
      this.tick(); // the brush follows the pointer (a draw is a few hundred rectangles)
      return;
    }
    const i = this.indexAt(ev.clientX);
    const t = i >= 0 ? this.describe(i) : '';
    if (this.canvas.title !== t) this.canvas.title = t;
  }

  up(ev) {
    const d = this.drag;
    this.drag = null;
    if (!d) return;
    d.x1 = ev.clientX;
    if (Math.abs(d.x1 - d.x0) < DRAG_PX) {
      const i = this.indexAt(d.x0);
      if (i >= 0 && this.model.buckets[i].n > 0) this.o.onPick(this.model.buckets[i].t);
      this.redraw();
      return;
    }
    const r = this.rangeOf(d.x0, d.x1);
    this.redraw();
    if (r) this.o.onBrush(r);
  }

  /** The bucket under the client x, or -1 (clamp: the nearest bucket for an x past either end). */
  indexAt(x, clamp = false) {
    if (!this.model || !this.model.buckets.length) return -1;
    const r = this.canvas.getBoundingClientRect();
    const n = this.model.buckets.length;
    let i = Math.floor(((x - r.left - PAD) / (r.width - 2 * PAD)) * n);
    if (clamp) i = Math.max(0, Math.min(n - 1, i));
    return i >= 0 && i < n ? i : -1;
  }

  /** Client x of the middle of bucket i (for tests). */
  xOf(i) {
    const r = this.canvas.getBoundingClientRect();
    return r.left + PAD + ((i + 0.5) / this.model.buckets.length) * (r.width - 2 * PAD);
  }

  describe(i) {
    const b = this.model.buckets[i];
    const parts = this.model.byC
      ? [...b.byC.keys()].sort().map((c) => `${this.o.label(c)} ${b.byC.get(c)}`)
      : LEVELS.map((l, j) => (b.lv[j] ? `${l} ${b.lv[j]}` : '')).filter(Boolean);
    return `${fmt(b.t)} – ${fmt(b.t + this.model.width)}: ${b.n.toLocaleString()} line${b.n === 1 ? '' : 's'}${parts.length ? ' (' + parts.join(', ') + ')' : ''}`;
  }
}
