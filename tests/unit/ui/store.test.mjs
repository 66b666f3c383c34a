// Unit tests of ui/store.js: merging, the bound, filters, context lines around matches
// (checked against a straightforward grep -C of the same lines) and the counts per second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Store } from '../../../ui/store.js';
import { Filter } from '../../../ui/filter.js';
import { makeLine } from '../../../ui/record.js';
import { defaults } from '../../../ui/settings.js';

function fakeList() {
  return { rows: null, calls: 0, setRows(r) { this.rows = r; }, invalidateFrom() { this.calls++; }, invalidateAll() {}, invalidate() {}, trimFront() {} };
}
function setup(over = {}) {
  const S = Object.assign(defaults(), over);
  const f = new Filter();
  f.set(S);
  const st = new Store(S, f, fakeList());
  st.refilter();
  return { S, f, st };
}
const t0 = Date.parse('2026-01-01T00:00:00Z');
function line(i, text, c = 'h/a') {
  return makeLine({ seq: i, line_no: i, ts: new Date(t0 + i * 100).toISOString(), container: c, stream: 'stdout', level: 'info', line: text });
}
function feed(st, lines) {
  for (const l of lines) if (st.accept(l.seq)) st.enqueue(l, 0);
  st.work(Infinity, () => 0);
}
/** grep -C n over texts: groups of indexes. */
function grepC(texts, re, n) {
  const keep = texts.map(() => false);
  texts.forEach((t, i) => { if (re.test(t)) for (let j = Math.max(0, i - n); j <= Math.min(texts.length - 1, i + n); j++) keep[j] = true; });
  const out = [];
  let prev = -2;
  keep.forEach((k, i) => { if (!k) return; if (out.length && i !== prev + 1) out.push('--'); out.push(texts[i]); prev = i; });
  return out;
}
const shown = (st) => st.rows.toArray().map((r) => (r.sep ? '--' : r.line));

test('lines out of order are merged in time order; duplicates dropped', () => {
  const { st } = setup();
  feed(st, [line(3, 'c'), line(1, 'a')]);
  feed(st, [line(2, 'b'), line(1, 'a')]);
  assert.deepEqual(shown(st), ['a', 'b', 'c']);
  assert.equal(st.stats.duplicates, 1);
});

test('the bound trims the oldest lines and their counts', () => {
  const { st } = setup({ buf: 100 });
  const ls = [];
  for (let i = 1; i <= 250; i++) ls.push(line(i, 'x' + i));
  feed(st, ls);
  assert.equal(st.buffer.length, 100);
  assert.equal(st.buffer.at(0).line, 'x151');
  let n = 0;
  for (const a of st.perSecond.values()) n += a.reduce((x, y) => x + y, 0);
  assert.equal(n, 100, 'per-second counts follow the trim');
  assert.equal(st.perContainer.get('h/a'), 100);
});

test('context: a rebuild and lines arriving later both give exactly grep -C', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    let x = seed;
    const rnd = () => { x = (x * 1103515245 + 12345) & 0x7fffffff; return x / 0x7fffffff; };
    const texts = [];
    for (let i = 0; i < 3000; i++) texts.push(rnd() < 0.03 ? `match ${i}` : `line ${i}`);
    for (const n of [1, 2, 5]) {
      const want = grepC(texts, /match/i, n);
      // all at once, then a rebuild
      const a = setup({ q: 'match', ctx: n });
      feed(a.st, texts.map((t, i) => line(i + 1, t)));
      while (a.st.rf) a.st.refilterStep();
      assert.deepEqual(shown(a.st), want, `arriving, seed ${seed} n ${n}`);
      a.st.refilter();
      while (a.st.rf) a.st.refilterStep();
      assert.deepEqual(shown(a.st), want, `rebuilt, seed ${seed} n ${n}`);
      // half in the page when the search starts, the rest arriving in small batches
      const b = setup({});
      feed(b.st, texts.slice(0, 1500).map((t, i) => line(i + 1, t)));
      Object.assign(b.S, { q: 'match', ctx: n });
      b.f.set(b.S);
      b.st.refilter();
      for (let i = 1500; i < 3000; i += 7) feed(b.st, texts.slice(i, i + 7).map((t, j) => line(i + j + 1, t)));
      while (b.st.rf) b.st.refilterStep();
      assert.deepEqual(shown(b.st), want, `mixed, seed ${seed} n ${n}`);
    }
  }
});

test('context within a level filter: neighbours are taken among the lines that pass it', () => {
  const { st } = setup({ q: 'hit', ctx: 1, levels: ['error'] });
  const ls = ['a', 'b', 'hit', 'c', 'd'].map((t, i) => { const l = line(i + 1, t); l.lv = i % 2 ? 'info' : 'error'; return l; });
  feed(st, ls);
  assert.deepEqual(shown(st), ['a', 'hit', 'd']);
});

test('buckets add up to the lines held, by level', () => {
  const { st } = setup();
  const ls = [];
  for (let i = 1; i <= 95; i++) { const l = line(i, 'x'); l.lv = i % 3 ? 'info' : 'error'; ls.push(l); }
  feed(st, ls);
  const [lo, hi] = st.span();
  const bs = st.buckets(lo * 1e6, 2e6, Math.ceil((hi - lo + 1) / 2));
  assert.equal(bs.reduce((s, b) => s + b.n, 0), 95);
  assert.equal(bs[0].n, 19, 'lines 1..19 are in the first two seconds (t0 + 0.1 s .. 1.9 s)');
});

test('buckets by container add up to the lines held, and follow the trim', () => {
  const { st } = setup({ buf: 150 });
  const ls = [];
  for (let i = 1; i <= 200; i++) ls.push(line(i, 'x', i % 4 ? 'h/web' : 'h/db'));
  feed(st, ls);
  const [lo, hi] = st.span();
  const bs = st.buckets(lo * 1e6, 5e6, Math.ceil((hi - lo + 1) / 5), true);
  // an independent count of the lines held, by bucket and container
  const want = bs.map(() => new Map());
  st.buffer.forEach((r) => {
    const m = want[Math.floor((r.k - lo * 1e6) / 5e6)];
    m.set(r.c, (m.get(r.c) || 0) + 1);
  });
  assert.deepEqual(bs.map((b) => Object.fromEntries([...b.byC].sort())), want.map((m) => Object.fromEntries([...m].sort())));
  for (const b of bs) assert.equal([...b.byC.values()].reduce((x, y) => x + y, 0), b.n, 'the stacks by container make the bar');
  assert.equal(bs.reduce((s, b) => s + b.n, 0), 150);
  assert.equal(st.buckets(lo * 1e6, 5e6, 2)[0].byC, null, 'by level only, unless asked');
  st.clear();
  assert.equal(st.perSecondC.size, 0);
});

test('a time range filters to the lines in it, [from, to)', () => {
  const { st, S, f } = setup();
  const ls = [];
  for (let i = 1; i <= 50; i++) ls.push(line(i, 'x' + i));
  feed(st, ls);
  S.range = [ls[9].k, ls[20].k];
  f.set(S);
  st.refilter();
  st.work(Infinity, () => 0);
  assert.deepEqual(shown(st), ls.slice(9, 20).map((l) => l.line));
  // lines arriving later outside it stay out
  feed(st, [line(60, 'late')]);
  assert.equal(shown(st).length, 11);
  S.range = null;
  f.set(S);
  st.refilter();
  assert.equal(shown(st).length, 51);
});
