// ANSI SGR parsing for log lines. Produces plain segments {text, cls, fg, bg};
// the caller turns them into spans with textContent, so nothing in a log line
// is ever interpreted as markup.

const CSI = /\x1b\[([0-9;:?]*)([A-Za-z])|\x1b[()][0-9A-Za-z]|\x1b[=>78DEHM]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?/g;

const PALETTE256 = (() => {
  const p = [];
  const base = ['#000000', '#cd3131', '#0dbc79', '#e5e510', '#2472c8', '#bc3fbc', '#11a8cd', '#e5e5e5',
    '#666666', '#f14c4c', '#23d18b', '#f5f543', '#3b8eea', '#d670d6', '#29b8db', '#ffffff'];
  for (const c of base) p.push(c);
  const lv = [0, 95, 135, 175, 215, 255];
  for (let r = 0; r < 6; r++) for (let g = 0; g < 6; g++) for (let b = 0; b < 6; b++)
    p.push(`rgb(${lv[r]},${lv[g]},${lv[b]})`);
  for (let i = 0; i < 24; i++) { const v = 8 + i * 10; p.push(`rgb(${v},${v},${v})`); }
  return p;
})();

function clampByte(n) { n = Number(n) | 0; return n < 0 ? 0 : n > 255 ? 255 : n; }

/** Fast check: does the line contain any escape byte at all? */
export function hasEscape(s) { return s.indexOf('\x1b') !== -1; }

/** Strip every escape sequence (for searching and downloads). */
export function stripAnsi(s) { return hasEscape(s) ? s.replace(CSI, '') : s; }

/**
 * Split a line into styled segments.
 * Each segment: {text, cls: string ('' or space separated class names), fg: css colour|null, bg: css colour|null}
 */
export function parseAnsi(s) {
  if (!hasEscape(s)) return [{ text: s, cls: '', fg: null, bg: null }];
  const out = [];
  let st = { bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false,
    fgc: -1, bgc: -1, fg: null, bg: null };
  let last = 0;
  CSI.lastIndex = 0;
  let m;
  const push = (text) => {
    if (!text) return;
    const cls = [];
    if (st.bold) cls.push('a-b');
    if (st.dim) cls.push('a-d');
    if (st.italic) cls.push('a-i');
    if (st.underline) cls.push('a-u');
    if (st.strike) cls.push('a-s');
    let fgc = st.fgc, bgc = st.bgc, fg = st.fg, bg = st.bg;
    if (st.inverse) {
      // swap; default colours become the theme's inverse classes
      [fgc, bgc, fg, bg] = [bgc, fgc, bg, fg];
      if (fgc === -1 && !fg) cls.push('a-inv-fg');
      if (bgc === -1 && !bg) cls.push('a-inv-bg');
    }
    if (fgc >= 0) cls.push('a-f' + fgc);
    if (bgc >= 0) cls.push('a-g' + bgc);
    out.push({ text, cls: cls.join(' '), fg, bg });
  };
  while ((m = CSI.exec(s)) !== null) {
    push(s.slice(last, m.index));
    last = CSI.lastIndex;
    if (m[2] !== 'm') continue; // non-SGR sequences are dropped
    const params = (m[1] || '0').split(/[;:]/).map((x) => (x === '' ? 0 : Number(x)));
    for (let i = 0; i < params.length; i++) {
      const p = params[i];
      if (p === 0) { st = { bold: false, dim: false, italic: false, underline: false, inverse: false, strike: false, fgc: -1, bgc: -1, fg: null, bg: null }; }
      else if (p === 1) st.bold = true;
      else if (p === 2) st.dim = true;
      else if (p === 3) st.italic = true;
      else if (p === 4) st.underline = true;
      else if (p === 7) st.inverse = true;
      else if (p === 9) st.strike = true;
      else if (p === 21 || p === 22) { st.bold = false; st.dim = false; }
      else if (p === 23) st.italic = false;
      else if (p === 24) st.underline = false;
      else if (p === 27) st.inverse = false;
      else if (p === 29) st.strike = false;
      else if (p >= 30 && p <= 37) { st.fgc = p - 30; st.fg = null; }
      else if (p >= 90 && p <= 97) { st.fgc = p - 90 + 8; st.fg = null; }
      else if (p === 39) { st.fgc = -1; st.fg = null; }
      else if (p >= 40 && p <= 47) { st.bgc = p - 40; st.bg = null; }
      else if (p >= 100 && p <= 107) { st.bgc = p - 100 + 8; st.bg = null; }
      else if (p === 49) { st.bgc = -1; st.bg = null; }
      else if (p === 38 || p === 48) {
        let colour = null;
        if (params[i + 1] === 5 && i + 2 < params.length) {
          const n = clampByte(params[i + 2]);
          colour = PALETTE256[n];
          i += 2;
        } else if (params[i + 1] === 2 && i + 4 < params.length) {
          colour = `rgb(${clampByte(params[i + 2])},${clampByte(params[i + 3])},${clampByte(params[i + 4])})`;
          i += 4;
        } else { break; }
        if (p === 38) { st.fgc = -1; st.fg = colour; } else { st.bgc = -1; st.bg = colour; }
      }
    }
  }
  push(s.slice(last));
  if (out.length === 0) out.push({ text: '', cls: '', fg: null, bg: null });
  return out;
}
