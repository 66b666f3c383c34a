// The volume chart: lines held per time bucket, stacked by level, drawn on a canvas. It
// reads the store's per-second counts (kept as lines come and go) and redraws at most
// every DRAW_MS and only when they changed, so a flood costs it a few small draws a
// second. A click on a bucket calls onPick with the bucket's start time (µs).

import { LEVELS } from './settings.js';

const DRAW_MS = 250;
const STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400];
const BAR_PX = 4; // narrowest bucket
const PAD = 2;
// bottom to top; the colours are the theme's
const STACK = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'unknown'];
const VAR = { fatal: '--err', error: '--err', warn: '--warn', info: '--info', debug: '--debug', trace: '--debug', unknown: '--border' };

export class Chart {
  constructor(canvas, store, onPick) {
    this.canvas = canvas;
    this.store = store;
    this.onPick = onPick;
    this.drawnVersion = -1;
    this.drawnWidth = 0;
    this.lastDraw = 0;
    this.model = null; // what is drawn: {from, width (µs), buckets}
    this.draws = 0;
    this.drawMsMax = 0;
    this.colours = null;
    canvas.addEventListener('click', (ev) => {
      const i = this.indexAt(ev.clientX);
      if (i >= 0 && this.model.buckets[i].n > 0) this.onPick(this.model.buckets[i].t);
    });
    canvas.addEventListener('mousemove', (ev) => {
      const i = this.indexAt(ev.clientX);
      const t = i >= 0 ? this.describe(i) : '';
      if (canvas.title !== t) canvas.title = t;
    });
  }

  themeChanged() { this.colours = null; this.drawnVersion = -1; }

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
    return { from: l.from, width: l.width, buckets: this.store.buckets(l.from, l.width, l.count) };
  }

  /** Redraws when the counts changed and DRAW_MS passed (force: now). */
  tick(now, force) {
    const cw = this.canvas.clientWidth;
    if (!cw) return;
    if (!force && (this.store.version === this.drawnVersion && cw === this.drawnWidth)) return;
    if (!force && now - this.lastDraw < DRAW_MS) return;
    const t0 = performance.now();
    this.lastDraw = now;
    this.drawnVersion = this.store.version;
    this.drawnWidth = cw;
    this.draw(cw);
    this.draws++;
    const dt = performance.now() - t0;
    if (dt > this.drawMsMax) this.drawMsMax = dt;
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
    if (!this.colours) {
      const cs = getComputedStyle(document.documentElement);
      this.colours = {};
      for (const l of STACK) this.colours[l] = cs.getPropertyValue(VAR[l]).trim() || '#888';
      this.colours.text = cs.getPropertyValue('--muted').trim() || '#888';
    }
    const n = m.buckets.length;
    c.setAttribute('aria-label', n ? `lines per ${m.width / 1e6} s, ${n} buckets; click a bar to go there` : 'no lines');
    if (!n) return;
    let max = 1;
    for (const b of m.buckets) if (b.n > max) max = b.n;
    const bw = (cw - 2 * PAD) / n;
    const top = 12;
    const h = ch - top - 1;
    for (let i = 0; i < n; i++) {
      const b = m.buckets[i];
      if (!b.n) continue;
      let y = ch - 1;
      for (const l of STACK) {
        const v = b.lv[LEVELS.indexOf(l)];
        if (!v) continue;
        const bh = Math.max(1, (v / max) * h);
        g.fillStyle = this.colours[l];
        g.fillRect(PAD + i * bw, y - bh, Math.max(1, bw - 1), bh);
        y -= bh;
      }
    }
    g.fillStyle = this.colours.text;
    g.font = '10px system-ui, sans-serif';
    g.textBaseline = 'top';
    const t = (us) => new Date(us / 1000).toLocaleTimeString();
    g.textAlign = 'left';
    g.fillText(`${t(m.from)}  ·  max ${max.toLocaleString()} lines / ${m.width / 1e6} s`, PAD, 1);
    g.textAlign = 'right';
    g.fillText(t(m.from + n * m.width), cw - PAD, 1);
  }

  /** The bucket under the client x, or -1. */
  indexAt(x) {
    if (!this.model || !this.model.buckets.length) return -1;
    const r = this.canvas.getBoundingClientRect();
    const i = Math.floor(((x - r.left - PAD) / (r.width - 2 * PAD)) * this.model.buckets.length);
    return i >= 0 && i < this.model.buckets.length ? i : -1;
  }

  /** Client x of the middle of bucket i (for tests). */
  xOf(i) {
    const r = this.canvas.getBoundingClientRect();
    return r.left + PAD + ((i + 0.5) / this.model.buckets.length) * (r.width - 2 * PAD);
  }

  describe(i) {
    const b = this.model.buckets[i];
    const parts = LEVELS.map((l, j) => (b.lv[j] ? `${l} ${b.lv[j]}` : '')).filter(Boolean);
    const t = (us) => new Date(us / 1000).toLocaleTimeString();
    return `${t(b.t)} – ${t(b.t + this.model.width)}: ${b.n.toLocaleString()} line${b.n === 1 ? '' : 's'}${parts.length ? ' (' + parts.join(', ') + ')' : ''}`;
  }
}
