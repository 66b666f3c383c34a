// The list view's rows: a record turned into its element (container label, time, stream
// mark, level, JSON field cells and table (columns.js), text with ANSI colours and search
// marks; gap markers with their button; a container's lifecycle events; context
// separators). Log text only ever goes in through text nodes. It does not lay the rows
// out (vlist.js does) nor decide which rows are shown (store.js does).

import { parseAnsi } from './ansi.js';
import { jsonOf } from './record.js';
import { appendCells, fieldTable } from './columns.js';

export const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

export function fmtTs(k, utc) {
  const d = new Date(Math.floor(k / 1000));
  const p2 = (n) => (n < 10 ? '0' : '') + n;
  const ms = d[utc ? 'getUTCMilliseconds' : 'getMilliseconds']();
  const s = utc
    ? `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`
    : `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())} ${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
  return `${s}.${String(ms).padStart(3, '0')}${utc ? 'Z' : ''}`;
}

/** Appends the segments to parent, wrapping matches of re in <mark>; all via text nodes. */
function appendHighlighted(parent, segs, re) {
  let plain = '';
  for (const s of segs) plain += s.text;
  let ranges = null;
  if (re) {
    ranges = [];
    const g = new RegExp(re.source, re.flags + 'g');
    let m;
    let guard = 0;
    while ((m = g.exec(plain)) !== null && guard++ < 1000) {
      if (m[0].length === 0) { g.lastIndex++; continue; }
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

/**
 * view: {merged: bool, label(c) -> short name, colour(c), ts, utc, re (search RegExp),
 * cols (JSON field paths shown as columns)}.
 * Returns build(rec) -> element for the VList.
 */
export function rowBuilder(view) {
  return function build(r) {
    if (r.g) return buildGap(r);
    if (r.ev) return buildEvent(r, view);
    if (r.sep) {
      const row = el('div', 'row sep', '--');
      row.dataset.sep = '1';
      row.setAttribute('aria-label', 'lines left out');
      return row;
    }
    const row = el('div', 'row ' + r.st + (r.m && !r.hit && view.re && view.context ? ' ctx' : ''));
    row.dataset.seq = String(r.seq);
    row.dataset.lineNo = String(r.ln);
    row.dataset.container = r.c;
    row.dataset.level = r.lv;
    if (view.merged) row.appendChild(nameCell(r, view));
    if (view.ts) row.appendChild(el('span', 'ts', fmtTs(r.k, view.utc)));
    const sm = el('span', 'sm', r.st === 'stderr' ? 'E' : ' ');
    sm.title = r.st;
    row.appendChild(sm);
    const lv = el('span', 'lv ' + r.lv, r.lv === 'unknown' ? '' : r.lv);
    lv.title = 'level detected from the text (a hint, can be wrong)';
    row.appendChild(lv);
    const js = jsonOf(r);
    if (view.cols && view.cols.length) appendCells(row, js, view.cols);
    const tx = el('span', 'tx');
    const re = r.hit || !view.context ? view.re : null;
    appendHighlighted(tx, parseAnsi(r.line), re);
    row.appendChild(tx);
    if (js) {
      // expanded: the line's fields in a table under it, each can become a column
      const b = el('button', 'jt', '{ }');
      b.title = r.pretty ? 'hide the fields' : 'show the fields of this JSON line';
      b.setAttribute('aria-expanded', String(!!r.pretty));
      b.dataset.act = 'json';
      row.appendChild(b);
      if (r.pretty) {
        row.classList.add('pretty');
        row.appendChild(fieldTable(js, view.cols || []));
      }
    }
    return row;
  };
}

/** The container column of a merged view: the short label shown, the full name for
 * screen readers and on hover. */
function nameCell(r, view) {
  const col = view.colour(r.c);
  const cn = el('span', 'cn');
  cn.style.color = col;
  cn.style.setProperty('--cc', col);
  cn.title = r.c;
  const shown = el('span', 'cl', view.label(r.c));
  shown.setAttribute('aria-hidden', 'true');
  cn.appendChild(shown);
  cn.appendChild(el('span', 'sr', r.c)); // the full name, for screen readers
  return cn;
}

const EVENT_MARK = { started: '▶', restarted: '↻', oom_killed: '✖', exited: '■', removed: '⌫', renamed: '✎' };

/** A lifecycle event: a row of its own, not a log line (its time is Docker's). */
function buildEvent(r, view) {
  const row = el('div', 'row event ev-' + r.kind + (r.kind === 'exited' && r.code !== 0 ? ' ev-fail' : ''));
  row.dataset.event = r.kind;
  row.dataset.container = r.c;
  row.setAttribute('role', 'note');
  row.setAttribute('aria-label', `${r.c}: ${r.line}, ${fmtTs(r.ts, view.utc)}`);
  if (view.merged) row.appendChild(nameCell(r, view));
  if (view.ts) row.appendChild(el('span', 'ts', fmtTs(r.ts, view.utc)));
  const mark = el('span', 'evm', EVENT_MARK[r.kind] || '•');
  mark.setAttribute('aria-hidden', 'true');
  row.appendChild(mark);
  const re = view.re && (r.hit || !view.context) ? view.re : null;
  const tx = el('span', 'tx');
  appendHighlighted(tx, [{ text: r.line, cls: '', fg: null, bg: null }], re);
  row.appendChild(tx);
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
