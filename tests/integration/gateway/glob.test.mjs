// Acceptance 5: a glob subscription receives a container started after it subscribed,
// from its first line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sleep } from '../../lib/harness.mjs';
import { Client, contiguous, numbered, stored } from './client.mjs';

let s;
before(async () => { s = await Stack.start({ publisher: true, gateway: true }); });
after(async () => { if (s) await s.stop(); });

test('glob picks up existing and later containers, and nothing else', async () => {
  const early = await s.run('g-early', numbered(1, 20));
  const other = await s.run('other', numbered(1, 20));
  await stored(s, early.name, 20);
  await stored(s, other.name, 20);
  const cl = await Client.open(s.wsUrl);
  cl.subscribe('g', `${s.hostId}/${s.prefix}g-*`, { replay: 5 });
  await cl.until(() => cl.of('replayed', 'g').length === 1);
  assert.deepEqual(cl.lines('g').map((l) => l.line_no), [16, 17, 18, 19, 20]);
  await sleep(500);
  const late = await s.run('g-late', numbered(1, 50));
  await cl.until(() => cl.lines('g').filter((l) => l.container === s.ref(late.name)).length >= 50, 30000,
    'lines of the late container');
  const lateLines = cl.lines('g').filter((l) => l.container === s.ref(late.name));
  assert.equal(lateLines.length, 50);
  assert.equal(contiguous(lateLines, 1), null);
  assert.deepEqual(lateLines.map((l) => l.line), Array.from({ length: 50 }, (_, i) => `line ${i + 1}`));
  assert.equal(cl.lines('g').filter((l) => l.container === s.ref(other.name)).length, 0);
  assert.equal(cl.of('gap').length, 0);
  await cl.close();
});
