// Acceptance 2: three clients on one container see identical sequences; the gateway
// holds one NATS subscription for it and creates no JetStream consumer after the first
// replay.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from '../../lib/harness.mjs';
import { Client, contiguous, numbered, gate, openGate, stored } from './client.mjs';

let s;
before(async () => { s = await Stack.start({ publisher: true, gateway: true }); });
after(async () => { if (s) await s.stop(); });

test('three clients, one subscription, one consumer, identical lines', async () => {
  const c = await s.run('fan', `${numbered(1, 500)}; ${gate(1)}; ${numbered(501, 1500)}`);
  await stored(s, c.name, 500);
  const clients = [];
  for (const id of ['a', 'b', 'c']) {
    const cl = await Client.open(s.wsUrl);
    cl.subscribe(id, s.ref(c.name), { replay: 1000 });
    await cl.until(() => cl.of('replayed', id).length === 1, 20000, `replayed ${id}`);
    clients.push([id, cl]);
  }
  let m = await s.metrics('gateway');
  assert.equal(m.logjet_gateway_nats_subscriptions, 1);
  assert.equal(m.logjet_gateway_jetstream_consumers_created_total, 1);
  assert.equal(m.logjet_gateway_subscriptions, 3);
  assert.equal(m.logjet_gateway_clients, 3);

  await openGate(s, c.name, 1);
  for (const [id, cl] of clients) await cl.untilLines(id, 1500);
  const seqs = clients.map(([id, cl]) => cl.lines(id).map((l) => l.seq));
  assert.deepEqual(seqs[1], seqs[0]);
  assert.deepEqual(seqs[2], seqs[0]);
  for (const [id, cl] of clients) {
    assert.equal(cl.lines(id).length, 1500);
    assert.equal(contiguous(cl.lines(id), 1), null);
    assert.equal(cl.of('gap').length, 0);
  }
  m = await s.metrics('gateway');
  assert.equal(m.logjet_gateway_nats_subscriptions, 1);
  assert.equal(m.logjet_gateway_jetstream_consumers_created_total, 1);
  assert.equal(m.logjet_gateway_lines_in_total, 1500);
  for (const [, cl] of clients) await cl.close();
});
