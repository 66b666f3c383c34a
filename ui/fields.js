// A JSON line's fields: its leaves flattened into dotted paths ("user.id", "tags.0"), a
// path looked up again in another line, and a field's value as the short text a cell
// shows. No DOM: what is built from them is columns.js's; which fields are columns is the
// view's settings (settings.js).

export const MAX_FIELDS = 200; // fields listed for one line (the rest are counted)
export const MAX_DEPTH = 4; // nested objects deeper than this are one value
export const CELL_CHARS = 120; // a cell's text is cut here (the title holds more)
export const TITLE_CHARS = 2000;
export const MAX_WIDTH = 40; // a column's width in characters, at most

const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The fields of a parsed JSON value: [{path, value}] in document order, nested objects
 * descended into (up to MAX_DEPTH), arrays and deeper objects kept whole as one value.
 * A top-level array lists its items by index. Returns {fields, more}: more is how many
 * fields past MAX_FIELDS were left out.
 */
export function flatten(json) {
  const fields = [];
  let more = 0;
  const walk = (v, path, depth) => {
    if (path === null && isObj(v) && !Object.keys(v).length) return; // {}: no fields
    if (isObj(v) && depth < MAX_DEPTH && Object.keys(v).length) {
      for (const k of Object.keys(v)) walk(v[k], path === null ? k : `${path}.${k}`, depth + 1);
      return;
    }
    if (fields.length < MAX_FIELDS) fields.push({ path: path === null ? '' : path, value: v });
    else more++;
  };
  if (Array.isArray(json)) json.forEach((v, i) => walk(v, String(i), 1));
  else walk(json, null, 0);
  return { fields, more };
}

/**
 * The value at path in json, or undefined. A key holding dots is found too: at each level
 * the longest run of path words that is a key of that object wins ("a.b" before "a"; a
 * line holding both {"a.b": 1} and {"a": {"b": 2}} has two fields of one path, and the
 * column shows the key holding the dot).
 */
export function lookup(json, path) {
  if (json === null || typeof json !== 'object' || typeof path !== 'string') return undefined;
  if (own(json, path)) return json[path];
  const words = path.split('.');
  let v = json;
  let i = 0;
  while (i < words.length) {
    if (v === null || typeof v !== 'object') return undefined;
    let j = words.length;
    for (; j > i; j--) if (own(v, words.slice(i, j).join('.'))) break;
    if (j === i) return undefined;
    v = v[words.slice(i, j).join('.')];
    i = j;
  }
  return v;
}

/** A value as text: a string as it is, anything else as compact JSON; max characters at most (… marks a cut). */
export function show(v, max = CELL_CHARS) {
  if (v === undefined) return '';
  let t;
  if (typeof v === 'string') t = v;
  else {
    try { t = JSON.stringify(v); } catch (_) { t = String(v); }
    if (t === undefined) t = String(v);
  }
  return t.length > max ? t.slice(0, max - 1) + '…' : t;
}

/** The cell text of column path for a parsed line (json null: not a JSON line, ''). One line: newlines shown as ⏎. */
export function cellText(json, path) {
  if (!json) return '';
  return show(lookup(json, path)).replace(/\r?\n/g, '⏎');
}

/**
 * Widths (characters) for the columns: at least the path's own length and 4, at most
 * MAX_WIDTH, wide enough for the values of jsons (parsed lines; null entries skipped).
 * prev (optional): widths that only grow, so rows painted earlier keep their place.
 */
export function widths(cols, jsons, prev) {
  return cols.map((c, i) => {
    let w = Math.max(4, Math.min(c.length, MAX_WIDTH), prev && prev[i] ? prev[i] : 0);
    for (const j of jsons) {
      if (!j || w >= MAX_WIDTH) continue;
      const n = cellText(j, c).length;
      if (n > w) w = Math.min(n, MAX_WIDTH);
    }
    return w;
  });
}
