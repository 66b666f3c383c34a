// View settings: their defaults, and how they are read from and written to the page's
// query string (and the few kept in local storage). No DOM: the caller passes the
// URLSearchParams and a storage object and puts the result in the address bar.

export const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'unknown'];
export const STREAMS = ['stdout', 'stderr'];
export const DEFAULT_BUF = 100000;
export const DEFAULT_REPLAY = 1000;
export const MAX_CONTEXT = 50;
export const MAX_COLS = 12; // JSON fields shown as columns, at most
const MAX_COL_LEN = 200;

export function defaults() {
  return {
    containers: [], levels: [], streams: [], q: '', re: false, cs: false,
    ts: true, utc: false, wrap: false, theme: 'auto', ctx: 0,
    cols: [], range: null, chart: true,
    buf: DEFAULT_BUF, replay: DEFAULT_REPLAY, since: '',
  };
}

/** Fills S from p (URLSearchParams) and store (getItem); a token in p moves to store and out of p. */
export function readParams(S, p, store) {
  S.containers = p.getAll('c').filter(Boolean);
  S.levels = (p.get('lv') || '').split(',').filter((x) => LEVELS.includes(x));
  S.streams = (p.get('st') || '').split(',').filter((x) => STREAMS.includes(x));
  S.q = p.get('q') || '';
  S.re = p.get('re') === '1';
  S.cs = p.get('cs') === '1';
  S.ts = p.get('ts') !== '0';
  S.utc = p.get('utc') === '1';
  S.wrap = p.get('wrap') === '1';
  const cx = Number(p.get('ctx') || 0);
  S.ctx = Number.isInteger(cx) && cx > 0 ? Math.min(cx, MAX_CONTEXT) : 0;
  S.cols = [...new Set(p.getAll('col').filter((x) => x && x.length <= MAX_COL_LEN))].slice(0, MAX_COLS);
  S.range = readRange(p.get('range'));
  S.chart = p.get('chart') !== '0';
  S.theme = p.get('theme') || store.getItem('logjet_theme') || 'auto';
  const buf = Number(p.get('buf') || store.getItem('logjet_buf') || DEFAULT_BUF);
  S.buf = Number.isFinite(buf) && buf >= 100 ? Math.min(Math.floor(buf), 5000000) : DEFAULT_BUF;
  const rp = Number(p.get('replay') ?? store.getItem('logjet_replay') ?? DEFAULT_REPLAY);
  S.replay = Number.isFinite(rp) && rp >= 0 ? Math.min(Math.floor(rp), 1000) : DEFAULT_REPLAY;
  S.since = sinceOf(p.get('since'));
  const tok = p.get('token');
  if (tok) {
    store.setItem('logjet_token', tok);
    p.delete('token');
  }
  return S;
}

/** A time jump's time as the gateway takes it (RFC 3339 UTC, ms), or '' when v is none. */
export function sinceOf(v) {
  if (!v) return '';
  const t = /^\d+$/.test(v) ? Number(v) * 1000 : Date.parse(v);
  return Number.isFinite(t) && t > 0 ? new Date(t).toISOString() : '';
}

/** The query string (without '?') that readParams reads back to S. */
export function toQuery(S) {
  const p = new URLSearchParams();
  for (const c of S.containers) p.append('c', c);
  if (S.levels.length) p.set('lv', S.levels.join(','));
  if (S.streams.length) p.set('st', S.streams.join(','));
  if (S.q) p.set('q', S.q);
  if (S.re) p.set('re', '1');
  if (S.cs) p.set('cs', '1');
  if (S.ctx) p.set('ctx', String(S.ctx));
  if (!S.ts) p.set('ts', '0');
  if (S.utc) p.set('utc', '1');
  if (S.wrap) p.set('wrap', '1');
  for (const c of S.cols) p.append('col', c);
  if (S.range) p.set('range', `${isoOf(S.range[0])}/${isoOf(S.range[1])}`);
  if (!S.chart) p.set('chart', '0');
  if (S.theme !== 'auto') p.set('theme', S.theme);
  if (S.buf !== DEFAULT_BUF) p.set('buf', String(S.buf));
  if (S.replay !== DEFAULT_REPLAY) p.set('replay', String(S.replay));
  if (S.since) p.set('since', S.since);
  return p.toString();
}

// A time range [from, to) in µs since the epoch, written as two ISO times with ms: the
// chart's brush works in whole buckets (at least a second), so nothing finer is lost.
const isoOf = (us) => new Date(Math.floor(us / 1000)).toISOString();

/** "ISO/ISO" -> [fromUs, toUs] with from < to, or null. */
export function readRange(v) {
  if (!v) return null;
  const [a, b] = v.split('/');
  const f = Date.parse(a);
  const t = Date.parse(b);
  if (!Number.isFinite(f) || !Number.isFinite(t) || f >= t) return null;
  return [f * 1000, t * 1000];
}
