// The toolbar and status views: chips of the watched containers, of the JSON fields shown
// as columns and of the time range brushed on the chart, level and stream toggles, the
// toggles' pressed states, the connection badge, the banner and the status line. Texts
// are set only when they change (no style or layout work otherwise). What a click does is
// given by the controller.

import { el } from './rows.js';

const $ = (id) => document.getElementById(id);

export class Toolbar {
  constructor() {
    this.shown = new Map();
    this.bannerTimer = 0;
    this.statusAt = 0;
    this.rate = 0;
    this.rateCount = 0;
    this.rateAt = performance.now();
  }

  setText(id, t) {
    if (this.shown.get(id) === t) return;
    this.shown.set(id, t);
    $(id).textContent = t;
  }

  setHidden(e, h) { if (e.hidden !== h) e.hidden = h; }

  pressed(id, v) { $(id).setAttribute('aria-pressed', String(!!v)); }

  banner(text, sticky) {
    const b = $('banner');
    b.textContent = text;
    b.hidden = !text;
    clearTimeout(this.bannerTimer);
    if (text && !sticky) this.bannerTimer = setTimeout(() => { b.hidden = true; }, 8000);
  }

  conn(state, extra) {
    const c = $('conn');
    c.classList.toggle('open', state === 'open');
    c.classList.toggle('down', state === 'waiting' || state === 'closed');
    const t = state === 'open' ? 'live' : state === 'waiting' ? `offline, retry in ${Math.ceil(extra.delay / 1000)}s`
      : state === 'reconnecting' ? 'reconnecting…' : state === 'connecting' ? 'connecting…' : state;
    $('conn-text').textContent = t;
    c.dataset.state = state;
    if (state === 'open') this.banner('');
  }

  /** Chips of the watched specs; colour(c) or null; onRemove(spec). */
  selected(specs, colour, onRemove) {
    const box = $('selected');
    box.replaceChildren();
    for (const c of specs) {
      const chip = el('span', 'chip');
      const sw = el('span', 'sw');
      sw.style.background = colour ? colour(c) : 'transparent';
      chip.appendChild(sw);
      chip.appendChild(el('span', null, c));
      const x = el('button', 'x', '×');
      x.title = 'stop watching';
      x.setAttribute('aria-label', `stop watching ${c}`);
      x.addEventListener('click', () => onRemove(c));
      chip.appendChild(x);
      box.appendChild(chip);
    }
  }

  /** Chips of the JSON fields shown as columns (in their order); onRemove(path). */
  columns(cols, onRemove) {
    const box = $('cols');
    box.replaceChildren();
    box.hidden = !cols.length;
    if (!cols.length) return;
    box.appendChild(el('span', 'muted', 'columns:'));
    cols.forEach((c, i) => {
      const chip = el('span', 'chip col');
      chip.dataset.col = String(i);
      chip.appendChild(el('span', null, c));
      const x = el('button', 'x', '×');
      x.title = 'hide this column';
      x.setAttribute('aria-label', `hide the column ${c}`);
      x.addEventListener('click', () => onRemove(c));
      chip.appendChild(x);
      box.appendChild(chip);
    });
  }

  /** The chip of the time range brushed on the chart ([from, to) µs, or null); onClear(). */
  range(range, utc, onClear) {
    const box = $('range');
    box.replaceChildren();
    box.hidden = !range;
    if (!range) return;
    const t = (us) => { const d = new Date(us / 1000); return utc ? d.toISOString().slice(11, 19) + 'Z' : d.toLocaleTimeString(); };
    box.appendChild(el('span', null, `time ${t(range[0])} – ${t(range[1])}`));
    const x = el('button', 'x', '×');
    x.title = 'show all times again (Esc)';
    x.setAttribute('aria-label', 'clear the time range');
    x.addEventListener('click', onClear);
    box.appendChild(x);
  }

  /** Toggle chips for values; on(v) -> pressed; onClick(v, button). */
  toggles(boxId, values, on, title, onClick) {
    const box = $(boxId);
    for (const v of values) {
      const b = el('button', 'tog chip', v);
      b.dataset.v = v;
      b.setAttribute('aria-pressed', String(on(v)));
      b.title = title;
      b.addEventListener('click', () => { onClick(v); b.setAttribute('aria-pressed', String(on(v))); });
      box.appendChild(b);
    }
  }

  /** m: {store, S, follow, paused, filterErr, received, searching, busy}. */
  status(m) {
    const { store, S } = m;
    const now = performance.now();
    const nl = $('newlines');
    this.setHidden(nl, m.follow || store.newCount === 0);
    if (!nl.hidden) this.setText('newlines', `${store.newCount.toLocaleString()} new line${store.newCount === 1 ? '' : 's'} ↓`);
    const pb = $('pause');
    if (pb.classList.contains('paused') !== m.paused) pb.classList.toggle('paused', m.paused);
    this.setText('pause', m.paused ? `Resume (${store.pending.length.toLocaleString()})` : 'Pause');
    this.setText('st-paused', m.paused ? `paused: ${store.pending.length.toLocaleString()} lines waiting` : '');
    this.setText('st-follow', m.follow ? 'following' : 'scrolled (End to follow)');
    this.setHidden($('empty'), S.containers.length > 0 || store.rows.length > 0);
    if (now - this.statusAt < 250) return;
    this.statusAt = now;
    const dt = (now - this.rateAt) / 1000;
    if (dt >= 1) { this.rate = (store.stats.received - this.rateCount) / dt; this.rateCount = store.stats.received; this.rateAt = now; }
    const rf = !!store.rf;
    let shownRows = store.rowLineCount;
    if (store.filtered && store.filter.context) shownRows = m.hits;
    this.setText('st-lines', store.filtered
      ? `${shownRows.toLocaleString()} of ${store.lineCount.toLocaleString()} lines match${rf ? ' (searching…)' : ''} (max ${S.buf.toLocaleString()})`
      : `${store.lineCount.toLocaleString()} lines (max ${S.buf.toLocaleString()})`);
    this.setText('st-rate', `${Math.round(this.rate).toLocaleString()} lines/s`);
    this.setText('st-gaps', store.gapsOpen > 0 ? `${store.gapsOpen} gap${store.gapsOpen === 1 ? '' : 's'}` : '');
    if (!m.serverErr) this.setText('qinfo', m.filterErr || (S.q ? `${shownRows.toLocaleString()}${rf ? '+' : ''} match` : ''));
  }
}
