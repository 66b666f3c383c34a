// Unit tests of ui/fields.js: a JSON line's fields as dotted paths, the lookup of a path in
// other lines (keys holding dots, arrays, missing fields), cell texts of large and nested
// values, and column widths.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flatten, lookup, show, cellText, widths, MAX_FIELDS, MAX_DEPTH, CELL_CHARS, MAX_WIDTH } from '../../../ui/fields.js';

test('flatten: leaves as dotted paths in document order; arrays and empty objects are one value', () => {
  const j = JSON.parse('{"level":"info","user":{"id":7,"name":"ann","roles":["a","b"]},"ok":true,"n":null,"meta":{}}');
  assert.deepEqual(flatten(j).fields.map((f) => [f.path, f.value]), [
    ['level', 'info'], ['user.id', 7], ['user.name', 'ann'], ['user.roles', ['a', 'b']], ['ok', true], ['n', null], ['meta', {}],
  ]);
  assert.deepEqual(flatten({}).fields, []);
  assert.deepEqual(flatten([{ a: 1 }, 'x']).fields.map((f) => f.path), ['0.a', '1'], 'a top-level array lists its items by index');
});

test('flatten: deep nesting stops at MAX_DEPTH, many fields are counted past MAX_FIELDS', () => {
  let deep = { leaf: 1 };
  for (let i = 0; i < 10; i++) deep = { d: deep };
  const f = flatten(deep).fields;
  assert.equal(f.length, 1);
  assert.equal(f[0].path, Array(MAX_DEPTH).fill('d').join('.'));
  assert.equal(typeof f[0].value, 'object', 'the rest stays one value');
  const wide = {};
  for (let i = 0; i < MAX_FIELDS + 25; i++) wide['k' + i] = i;
  const w = flatten(wide);
  assert.equal(w.fields.length, MAX_FIELDS);
  assert.equal(w.more, 25);
});

test('lookup: nested paths, array indexes, keys with dots, missing fields', () => {
  const j = { user: { id: 7, 'first.name': 'ann' }, 'http.status': 200, tags: ['x', 'y'], a: { b: 1 }, 'a.b': 2 };
  assert.equal(lookup(j, 'user.id'), 7);
  assert.equal(lookup(j, 'user.first.name'), 'ann');
  assert.equal(lookup(j, 'http.status'), 200);
  assert.equal(lookup(j, 'tags.1'), 'y');
  assert.equal(lookup(j, 'a.b'), 2, 'the whole key wins over its words');
  assert.equal(lookup(j, 'user.missing'), undefined);
  assert.equal(lookup(j, 'tags.1.z'), undefined);
  assert.equal(lookup(j, '__proto__'), undefined, 'only own keys');
  assert.equal(lookup(j, 'toString'), undefined);
  assert.equal(lookup(null, 'a'), undefined);
  // every path flatten gives is found again (where no two fields share a path, as a.b here)
  const k = { user: { id: 7, 'first.name': 'ann', deep: { x: { y: [1] } } }, 'http.status': 200, tags: ['x'], e: {} };
  for (const f of flatten(k).fields) assert.deepEqual(lookup(k, f.path), f.value, f.path);
});

test('cells: strings as they are, the rest as JSON, long values cut, newlines on one line; not JSON: empty', () => {
  assert.equal(cellText({ m: '<b>hi</b>' }, 'm'), '<b>hi</b>');
  assert.equal(cellText({ n: 3.5, b: false, z: null }, 'n'), '3.5');
  assert.equal(cellText({ b: false }, 'b'), 'false');
  assert.equal(cellText({ z: null }, 'z'), 'null');
  assert.equal(cellText({ o: { a: [1, { b: 2 }] } }, 'o'), '{"a":[1,{"b":2}]}');
  assert.equal(cellText({ m: 'a\nb\r\nc' }, 'm'), 'a⏎b⏎c');
  const long = cellText({ m: 'x'.repeat(5000) }, 'm');
  assert.equal(long.length, CELL_CHARS);
  assert.ok(long.endsWith('…'));
  assert.equal(cellText(null, 'm'), '', 'a line that is not JSON');
  assert.equal(cellText({ other: 1 }, 'm'), '', 'a JSON line without the field');
  assert.equal(show(undefined), '');
});

test('widths: the path and the values, capped, growing only', () => {
  const js = [{ a: 'xx', long: 'y'.repeat(100) }, null, { a: 'xxxxxxx' }];
  assert.deepEqual(widths(['a', 'long', 'missing.field'], js), [7, MAX_WIDTH, 13]);
  assert.deepEqual(widths(['a'], [{ a: 'x' }]), [4], 'at least 4');
  assert.deepEqual(widths(['a'], [{ a: 'x' }], [9]), [9], 'never narrower than before');
});
