// Unit tests of ui/filter.js and ui/settings.js: globs as the gateway reads them, the
// search and its grep, and view settings that survive the URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globMatch, coveredBy, buildSearch, serverGrep, Filter } from '../../../ui/filter.js';
import { defaults, readParams, toQuery } from '../../../ui/settings.js';

test('globs: * any run (the slash too), ? one character, the rest literal', () => {
  assert.ok(globMatch('h1/logjet-demo-*', 'h1/logjet-demo-web'));
  assert.ok(globMatch('*', 'h1/x'));
  assert.ok(globMatch('*/web?', 'h2/web1'));
  assert.ok(!globMatch('*/web?', 'h2/web12'));
  assert.ok(!globMatch('h1/a.b', 'h1/aXb'), 'a dot is literal');
  assert.deepEqual(coveredBy(['h1/x', 'h1/*', 'h2/*'], 'h1/x'), ['h1/x', 'h1/*']);
});

test('search: plain text is literal and case-folded; the grep says so with (?i)', () => {
  const S = Object.assign(defaults(), { q: 'a.b' });
  const b = buildSearch(S);
  assert.ok(b.re.test('xA.By') && !b.re.test('aXb'));
  assert.equal(serverGrep(S, b.err), '(?i)a\\.b');
  S.re = true; S.q = '(';
  assert.equal(buildSearch(S).err, 'invalid regular expression');
  assert.equal(serverGrep(S, buildSearch(S).err), undefined);
});

test('filter: context only with a search', () => {
  const f = new Filter();
  const S = Object.assign(defaults(), { ctx: 2 });
  f.set(S);
  assert.equal(f.context, 0);
  S.q = 'x';
  f.set(S);
  assert.equal(f.context, 2);
});

test('settings: a round trip through the query string; a token leaves it', () => {
  const mem = new Map();
  const store = { getItem: (k) => mem.get(k) ?? null, setItem: (k, v) => mem.set(k, v) };
  const S = Object.assign(defaults(), { containers: ['h/a', 'h/b*'], levels: ['error'], q: 'x y', re: true, ctx: 3, wrap: true, ts: false });
  const p = new URLSearchParams(toQuery(S) + '&token=secret');
  const T = readParams(defaults(), p, store);
  assert.deepEqual(T, S);
  assert.equal(mem.get('logjet_token'), 'secret');
  assert.equal(p.get('token'), null);
  assert.equal(readParams(defaults(), new URLSearchParams('ctx=-1'), store).ctx, 0);
  assert.equal(readParams(defaults(), new URLSearchParams('ctx=999'), store).ctx, 50);
});
