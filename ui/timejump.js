// The time jump: the time picker (and `since=` in the URL) ask the gateway for the lines
// from a time on, within what the stream keeps (docs/protocol.md, subscribe `since`);
// the page starts over from there, showing that time at the top, and says beside the
// picker when the time is older than what is kept (`retention` frames). "Latest" goes
// back to the newest lines. It does not place lines (store.js) nor speak the protocol
// (session.js).

import { fmtTs } from './rows.js';
import { parseTs } from './record.js';

const $ = (id) => document.getElementById(id);
const p2 = (n) => String(n).padStart(2, '0');

/** A time (ms) as a datetime-local input's value, in local time or UTC. */
function pickerValue(ms, utc) {
  const d = new Date(ms);
  const g = (f) => d[(utc ? 'getUTC' : 'get') + f]();
  return `${g('FullYear')}-${p2(g('Month') + 1)}-${p2(g('Date'))}T${p2(g('Hours'))}:${p2(g('Minutes'))}:${p2(g('Seconds'))}`;
}

/** A datetime-local value (local time, or UTC when utc) as ISO UTC, or '' when invalid. */
export function isoOfPicker(v, utc) {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(v)) return '';
  const t = Date.parse(utc ? v + 'Z' : v);
  return Number.isFinite(t) ? new Date(t).toISOString() : '';
}

export class TimeJump {
  /** a: {S, store, session, writeUrl, paint, scrollToTime(k µs), jumpBottom()} */
  constructor(a) {
    this.a = a;
    this.notices = new Map(); // container -> retention frame
    this.scrollPending = !!a.S.since; // show the time at the top once its lines are in
    $('since-go').addEventListener('click', () => this.fromPicker());
    $('since').addEventListener('keydown', (ev) => { if (ev.key === 'Enter') { ev.preventDefault(); this.fromPicker(); } });
    $('since-live').addEventListener('click', () => this.jump(''));
    this.render();
  }

  fromPicker() {
    const iso = isoOfPicker($('since').value, this.a.S.utc);
    if (!iso) { $('since-info').textContent = 'Pick a date and time first.'; return; }
    this.jump(iso);
  }

  /** Starts the page over from iso ('' = the newest lines). */
  jump(iso) {
    const { S, store, session } = this.a;
    S.since = iso;
    this.a.writeUrl();
    this.notices.clear();
    store.clear();
    this.scrollPending = !!iso;
    session.jump();
    if (!iso) this.a.jumpBottom();
    this.render();
    this.a.paint();
  }

  /** A `retention` frame: the time is older than what is kept for that container. */
  retention(m) {
    if (typeof m.container === 'string') this.notices.set(m.container, m);
    this.render();
  }

  /** The jump's first replay is complete: the time goes to the top once merged. */
  replayed() {
    if (!this.scrollPending) return;
    const settle = (n) => {
      if (this.a.store.hasWork() && n < 100) { requestAnimationFrame(() => settle(n + 1)); return; }
      this.scrollPending = false;
      this.a.scrollToTime(Date.parse(this.a.S.since) * 1000);
    };
    requestAnimationFrame(() => settle(0));
  }

  render() {
    const { S } = this.a;
    const info = $('since-info');
    $('since-live').hidden = !S.since;
    if (!S.since) { info.textContent = ''; return; }
    const ms = Date.parse(S.since);
    if (document.activeElement !== $('since')) $('since').value = pickerValue(ms, S.utc);
    const at = fmtTs(ms * 1000, S.utc);
    if (!this.notices.size) { info.textContent = `Lines from ${at} on.`; info.classList.remove('warn'); return; }
    const parts = [...this.notices.values()].map((m) => {
      const c = String(m.container);
      return `${c.slice(c.indexOf('/') + 1)}: kept from ${fmtTs(parseTs(m.first_ts), S.utc)}`;
    });
    info.textContent = `⚠ ${at} is older than what is kept (${parts.join('; ')}); earlier lines are no longer stored.`;
    info.classList.add('warn');
  }
}
