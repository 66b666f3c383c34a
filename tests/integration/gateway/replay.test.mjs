// Acceptance 1: replay 1000 of 3000 lines, then `replayed`, then live with no seam.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from '../../lib/harness.mjs';
import { Client, contiguous, numbered, gate, openGate, stored } from './client.mjs';

let s;
before(async () => { s = await Stack.start({ publisher: true, gateway: true }); });
after(async () => { if (s) await s.stop(); });

test('replay:1000 of 3000 lines gives exactly 2001..3000, replayed, then live without gap or duplicate', async () => {
  const c = await s.run('replay', `${numbered(1, 3000)}; ${gate(1)}; ${numbered(3001, 3300)}`);
  const last = await stored(s, c.name, 3000);
  const cl = await Client.open(s.wsUrl);
  cl.subscribe('r', s.ref(c.name), { replay: 1000 });
  await cl.until(() => cl.of('replayed', 'r').length === 1, 20000, 'replayed');
  const replayed = cl.lines('r');
  assert.equal(replayed.length, 1000);
  assert.equal(contiguous(replayed, 2001), null);
  assert.deepEqual(replayed.map((l) => l.line), Array.from({ length: 1000 }, (_, i) => `line ${2001 + i}`));
  assert.equal(replayed.at(-1).seq, last.seq);
  assert.equal(cl.of('replayed', 'r')[0].seq, replayed.at(-1).seq);
  const l0 = replayed[0];
  assert.equal(l0.container, s.ref(c.name));
  assert.equal(l0.stream, 'stdout');
  assert.match(l0.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);

  await openGate(s, c.name, 1);
  await cl.untilLines('r', 1300);
  const all = cl.lines('r');
  assert.equal(all.length, 1300);
  assert.equal(contiguous(all, 2001), null);
  // `replayed` sits exactly between line 3000 and 3001.
  const idx = cl.msgs.findIndex((m) => m.type === 'replayed');
  const before = cl.msgs.slice(0, idx).filter((m) => m.type === 'lines').flatMap((m) => m.lines);
  assert.equal(before.at(-1).line_no, 3000);
  assert.equal(cl.of('gap').length, 0);
  assert.equal(cl.of('error').length, 0);
  for (let i = 1; i < all.length; i++) assert.ok(all[i].seq > all[i - 1].seq);
  await cl.close();
});

test('hello comes first and the UI is served with MIME types', async () => {
  const cl = await Client.open(s.wsUrl);
  await cl.until(() => cl.msgs.length >= 1);
  assert.equal(cl.msgs[0].type, 'hello');
  assert.equal(cl.msgs[0].version, 1);
  await cl.close();
  const r = await fetch(`${s.gatewayUrl}/`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/html/);
  assert.ok(r.headers.get('cache-control'));
  const h = await fetch(`${s.gatewayUrl}/healthz`);
  assert.equal(h.status, 200);
  const m = await (await fetch(`${s.gatewayUrl}/metrics`)).text();
  assert.match(m, /logjet_gateway_clients \d+/);
  assert.equal((await fetch(`${s.gatewayUrl}/no-such-file.js`)).status, 404);
});
