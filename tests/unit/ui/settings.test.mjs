// Unit tests of ui/settings.js's newer view settings: JSON columns, the chart's time range
// and the chart's visibility survive the URL; bad values are dropped, not kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaults, readParams, toQuery, readRange, MAX_COLS } from '../../../ui/settings.js';

const mem = () => { const m = new Map(); return { getItem: (k) => m.get(k) ?? null, setItem: (k, v) => m.set(k, v) }; };

test('columns, range and chart: a round trip through the query string', () => {
  const from = Date.parse('2026-12-01T22:00:05Z') * 1000;
  const S = Object.assign(defaults(), { containers: ['h/a'], cols: ['level', 'user.id', 'a,b&c=d', 'ü é'], range: [from, from + 30e6], chart: false });
  const q = toQuery(S);
  const T = readParams(defaults(), new URLSearchParams(q), mem());
  assert.deepEqual(T, S);
  assert.match(q, /range=2026-12-01T22%3A00%3A05.000Z%2F2026-12-01T22%3A00%3A35.000Z/);
  assert.match(q, /chart=0/);
  const D = readParams(defaults(), new URLSearchParams(''), mem());
  assert.deepEqual([D.cols, D.range, D.chart], [[], null, true]);
  assert.equal(toQuery(defaults()), '', 'defaults leave the URL alone');
});

test('columns: empty, repeated, too long and too many are dropped', () => {
  const p = new URLSearchParams();
  for (const c of ['', 'a', 'a', 'x'.repeat(201), ...Array.from({ length: 20 }, (_, i) => 'f' + i)]) p.append('col', c);
  const S = readParams(defaults(), p, mem());
  assert.equal(S.cols.length, MAX_COLS);
  assert.deepEqual(S.cols.slice(0, 3), ['a', 'f0', 'f1']);
});

test('range: reversed, empty or unreadable ranges are no range', () => {
  assert.equal(readRange('2026-12-01T22:00:05Z/2026-12-01T22:00:05Z'), null);
  assert.equal(readRange('2026-12-01T22:00:06Z/2026-12-01T22:00:05Z'), null);
  assert.equal(readRange('yesterday/today'), null);
  assert.equal(readRange('2026-12-01T22:00:05Z'), null);
  assert.deepEqual(readRange('2026-12-01T22:00:05.250Z/2026-12-01T22:00:06Z'), [Date.parse('2026-12-01T22:00:05.250Z') * 1000, Date.parse('2026-12-01T22:00:06Z') * 1000]);
});
