// The DOM of JSON fields: a row's cells for the fields chosen as columns (their widths,
// the header over them), and the table of an expanded JSON line's fields, each with its button to show it as a column. Values
// and keys are line data: they go in as text nodes only. What the values are is
// fields.js's; which fields are columns, and what a button press does, the controller's.

import { flatten, lookup, show, cellText, widths, TITLE_CHARS } from './fields.js';

const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};

/** Appends to row one cell per column of cols (empty for a line that is not JSON: json null). */
export function appendCells(row, json, cols) {
  for (let i = 0; i < cols.length; i++) {
    const t = cellText(json, cols[i]);
    const cell = el('span', 'fc', t);
    cell.dataset.col = String(i);
    cell.style.width = `calc(var(--fc${i}, 12ch) + 13px)`;
    // (the title holds more of the value than the cell)
    if (t) cell.title = `${cols[i]}: ${show(lookup(json, cols[i]), TITLE_CHARS)}`;
    row.appendChild(cell);
  }
}

/** The table of json's fields; cols: the paths shown as columns (their buttons are pressed). */
export function fieldTable(json, cols) {
  const box = el('div', 'fields');
  box.setAttribute('role', 'table');
  box.setAttribute('aria-label', 'fields of this JSON line');
  const { fields, more } = flatten(json);
  for (const f of fields) {
    const tr = el('div', 'fr');
    tr.setAttribute('role', 'row');
    const k = el('span', 'fk', f.path);
    k.setAttribute('role', 'cell');
    const v = el('span', 'fv' + (typeof f.value === 'string' ? '' : ' lit'), show(f.value, TITLE_CHARS));
    v.setAttribute('role', 'cell');
    const on = cols.includes(f.path);
    const b = el('button', 'fcol', on ? '✓ column' : '+ column');
    b.dataset.act = 'col';
    b.dataset.path = f.path;
    b.setAttribute('aria-pressed', String(on));
    b.setAttribute('aria-label', `${on ? 'hide' : 'show'} ${f.path} as a column`);
    const bc = el('span', 'fb');
    bc.setAttribute('role', 'cell');
    bc.appendChild(b);
    tr.append(k, v, bc);
    box.appendChild(tr);
  }
  if (more) box.appendChild(el('div', 'fr more', `… ${more} more field${more === 1 ? '' : 's'}`));
  return box;
}

/**
 * Sizes the columns for the values of jsons (parsed lines, null skipped): sets --fc<i> on
 * the root, which every cell's width reads, so rows already built follow. prev: the widths
 * set before for the same columns (they only grow), or null. Returns the widths (chars).
 */
export function sizeColumns(cols, jsons, prev) {
  const w = widths(cols, jsons, prev);
  const root = document.documentElement.style;
  w.forEach((n, i) => { if (!prev || prev[i] !== n) root.setProperty(`--fc${i}`, n + 'ch'); });
  return w;
}

/**
 * The header over the columns: a row of the rows' own shape (container label, time, stream
 * and level, laid out but not shown) and then the columns' names, so that each name sits
 * over its column. view: the rows' view (merged, ts, cols); tsText: a time as rows show it.
 */
export function headRow(view, tsText) {
  const row = el('div', 'row head');
  if (view.merged) row.appendChild(el('span', 'cn', ' '));
  if (view.ts) row.appendChild(el('span', 'ts', tsText));
  row.appendChild(el('span', 'sm', ' '));
  row.appendChild(el('span', 'lv', ' '));
  view.cols.forEach((c, i) => {
    const h = el('span', 'fc fh', c);
    h.style.width = `calc(var(--fc${i}, 12ch) + 13px)`;
    h.title = c;
    row.appendChild(h);
  });
  return row;
}
