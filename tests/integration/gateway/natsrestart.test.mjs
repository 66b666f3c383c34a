// Acceptance 9: nats-server restarted under a live subscription: no gap, no duplicate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sleep, waitFor } from '../../lib/harness.mjs';
import { Client, contiguous, stored } from './client.mjs';

let s;
// The stream keeps all 1500 lines, so a hole can be told apart: missing from JetStream
// (the publisher's) or only from the client (the gateway's).
before(async () => { s = await Stack.start({ publisher: true, gateway: true, replayDepth: 2000 }); });
after(async () => { if (s) await s.stop(); });

test('live subscription survives a nats-server restart with no gap and no duplicate', async () => {
  const c = await s.run('live', 'i=1; while [ $i -le 1500 ]; do echo "line $i"; i=$((i+1)); usleep 5000; done; sleep 3600');
  await stored(s, c.name, 10);
  const cl = await Client.open(s.wsUrl);
  cl.subscribe('l', s.ref(c.name), { replay: 1000 });
  await cl.untilLines('l', 100);
  await s.stopNats();
  await sleep(2000);
  await s.startNats();
  await waitFor(async () => (await fetch(`${s.gatewayUrl}/healthz`)).status === 200, 20000, 'gateway reconnected');
  const last = await stored(s, c.name, 1500, 120000);
  await cl.until(() => cl.lines('l').length && cl.lines('l').at(-1).line_no === 1500, 60000, 'client to reach 1500');
  const recs = await s.records(c.name);
  assert.deepEqual(recs.map((r) => r.lineNo), Array.from({ length: 1500 }, (_, i) => i + 1),
    'JetStream holds every line once, in order');
  const lines = cl.lines('l');
  assert.equal(contiguous(lines, lines[0].line_no), null);
  assert.equal(lines[0].line_no, 1);
  assert.equal(lines.at(-1).seq, last.seq);
  assert.equal(cl.of('gap').length, 0);
  assert.equal(cl.closed, null);
  await cl.close();
});
