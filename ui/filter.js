// What is shown: the search (a RegExp built from the settings, the gateway's grep), the
// level and stream filters, the time range brushed on the chart, and container globs. No DOM.

import { plainOf } from './record.js';

export function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

/** {re, err}: the search of S as a RegExp without the g flag (null when there is none). */
export function buildSearch(S) {
  if (!S.q) return { re: null, err: '' };
  let src = S.re ? S.q : escapeRe(S.q);
  let flags = S.cs ? '' : 'i';
  if (src.startsWith('(?i)')) { src = src.slice(4); flags = 'i'; }
  try {
    return { re: new RegExp(src, flags), err: '' };
  } catch (e) {
    return { re: null, err: 'invalid regular expression' };
  }
}

/** The search as the gateway's grep (case folding as a leading (?i)), or undefined. */
export function serverGrep(S, err) {
  if (!S.q || err) return undefined;
  const src = S.re ? S.q : escapeRe(S.q);
  return S.cs || src.startsWith('(?i)') ? src : '(?i)' + src;
}

export class Filter {
  constructor() { this.S = null; this.re = null; this.err = ''; }
  /** Rebuilds from the settings S. */
  set(S) {
    this.S = S;
    const b = buildSearch(S);
    this.re = b.re;
    this.err = b.err;
  }
  get active() { return this.S.levels.length > 0 || this.S.streams.length > 0 || !!this.re || !!this.S.range; }
  /** Context lines around matches are asked for (and there is a search to match). */
  get context() { return this.re && this.S.ctx > 0 ? this.S.ctx : 0; }
  /** Passes the time range (S.range: [from, to) µs) and the level and stream filters. */
  base(r) {
    const rg = this.S.range;
    if (rg && (r.k < rg[0] || r.k >= rg[1])) return false;
    if (r.g || r.ev) return true; // gaps and lifecycle events are not hidden by level or stream
    if (this.S.levels.length && !this.S.levels.includes(r.lv)) return false;
    if (this.S.streams.length && !this.S.streams.includes(r.st)) return false;
    return true;
  }
  /** Passes every filter, the search included (an event by its text, e.g. "OOM"). */
  matches(r) {
    if (!this.base(r)) return false;
    if (!r.g && this.re && !this.re.test(plainOf(r))) return false;
    return true;
  }
}

export const isGlob = (spec) => /[*?]/.test(spec);

const globCache = new Map();
/** The gateway's container wildcards: `*` any run of characters, `?` one character. */
export function globMatch(glob, s) {
  let re = globCache.get(glob);
  if (!re) {
    re = new RegExp('^' + [...glob].map((ch) => (ch === '*' ? '[\\s\\S]*' : ch === '?' ? '[\\s\\S]' : escapeRe(ch))).join('') + '$');
    if (globCache.size > 256) globCache.clear();
    globCache.set(glob, re);
  }
  return re.test(s);
}

/** The specs (exact "host/name" or globs) that cover the container key. */
export function coveredBy(specs, key) {
  return specs.filter((w) => w === key || (isGlob(w) && globMatch(w, key)));
}
