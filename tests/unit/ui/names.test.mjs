// Unit tests of ui/names.js: labels that tell containers in a merged view apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { labels } from '../../../ui/names.js';

test('the shared prefix of the demo containers is elided at a word boundary', () => {
  const m = labels(['h1/logjet-demo-web', 'h1/logjet-demo-api', 'h1/logjet-demo-worker']);
  assert.deepEqual([...m.values()], ['…web', '…api', '…worker']);
});

test('a shared suffix is elided too, and a partial word is kept whole', () => {
  const m = labels(['h/web-1.prod', 'h/web-2.prod', 'h/webhook-1.prod']);
  assert.deepEqual([...m.values()], ['web-1…', 'web-2…', 'webhook-1…']);
});

test('one container, or nothing in common: the whole name', () => {
  assert.equal(labels(['h/logjet-demo-web']).get('h/logjet-demo-web'), 'logjet-demo-web');
  assert.deepEqual([...labels(['h/nginx', 'h/postgres']).values()], ['nginx', 'postgres']);
});

test('a name that is the shared prefix itself keeps its name', () => {
  const m = labels(['h/app', 'h/app-db', 'h/app-cache']);
  assert.deepEqual([...m.values()], ['app', 'app-db', 'app-cache']);
});

test('the host is shown when more than one host is in view', () => {
  const m = labels(['web-1/logjet-demo-web', 'web-2/logjet-demo-web', 'web-1/logjet-demo-api']);
  assert.deepEqual([...m.values()], ['web-1/…web', 'web-2/…web', 'web-1/…api']);
  assert.equal(new Set(m.values()).size, 3, 'distinct');
});

test('every character Docker allows in names', () => {
  const keys = ['h/a.b_c-d.x', 'h/a.b_c-d.y', 'h/a.b_c-d.zz'];
  assert.deepEqual([...labels(keys).values()], ['…x', '…y', '…zz']);
});
