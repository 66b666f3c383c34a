// Container labels for a merged view: the part of each name that tells it apart from the
// others in view (a prefix or suffix they all share is elided, cut at a - _ . boundary),
// and the host when more than one host is in view. No DOM.

const SEP = /[-_.]/;

function commonPrefix(a) {
  let p = a[0];
  for (const s of a) { let i = 0; while (i < p.length && i < s.length && p[i] === s[i]) i++; p = p.slice(0, i); }
  return p;
}

/** {pre, suf}: how many leading and trailing characters all of names share (whole words), 0 for one name. */
export function shared(names) {
  let pre = 0;
  let suf = 0;
  if (names.length > 1) {
    const cp = commonPrefix(names);
    // cut after the last separator of the shared part, so whole words are elided
    for (let i = cp.length - 1; i >= 0; i--) if (SEP.test(cp[i])) { pre = i + 1; break; }
    const rev = names.map((n) => [...n].reverse().join(''));
    const cs = commonPrefix(rev);
    for (let i = cs.length - 1; i >= 0; i--) if (SEP.test(cs[i])) { suf = i + 1; break; }
    // every name keeps something
    const shortest = Math.min(...names.map((n) => n.length));
    if (pre + suf >= shortest) { if (pre >= shortest) pre = 0; suf = 0; }
    if (pre + suf >= shortest) pre = 0;
  }
  return { pre, suf };
}

/**
 * keys: "host/name" of the containers in view. Returns Map key -> label; the label is the
 * whole name when there is one container, or nothing to elide.
 */
export function labels(keys) {
  const parts = keys.map((k) => { const i = k.indexOf('/'); return { key: k, host: k.slice(0, i), name: k.slice(i + 1) }; });
  const hosts = new Set(parts.map((p) => p.host));
  const { pre, suf } = shared([...new Set(parts.map((p) => p.name))]);
  const out = new Map();
  for (const p of parts) {
    let s = p.name.slice(pre, p.name.length - suf);
    if (pre) s = '…' + s;
    if (suf) s += '…';
    out.set(p.key, hosts.size > 1 ? `${p.host}/${s}` : s);
  }
  return out;
}
