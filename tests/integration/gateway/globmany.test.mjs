// A glob subscription over more containers than a client's watch burst (64): the
// registry decides how many a glob matches, so the subscribe is one request for the
// client's ration, and every matching container is replayed and followed. (Before, the
// 65th new watch answered `limit` and the whole glob subscription was dropped.)
// Records and registry entries are written straight into JetStream, as the publisher
// writes them, for 200 containers that do not exist on any engine.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, token, proto, waitFor } from '../../lib/harness.mjs';
import { Client, contiguous } from './client.mjs';

const N = 200, LINES = 3;
let s;
before(async () => {
  s = await Stack.start({ publisher: true, gateway: true });
});
after(async () => { if (s) await s.stop(); });

async function writeContainers(names) {
  const { ContainerInfo, LogRecord } = await proto();
  const nc = await s.nc();
  const js = nc.jetstream();
  const kv = await js.views.kv('LOGJET_CONTAINERS');
  const now = BigInt(Date.now()) * 1000000n;
  for (const [i, n] of names.entries()) {
    const id = String(i).padStart(64, '0');
    for (let k = 1; k <= LINES; k++) {
      const rec = LogRecord.encode(LogRecord.fromObject({ host: s.hostId, containerId: id, container: n,
        tsUnixNano: String(now + BigInt(k)), line: Buffer.from(`${n} line ${k}`), level: 3, lineNo: k })).finish();
      await js.publish(s.subject(n), rec);
    }
    const info = ContainerInfo.encode(ContainerInfo.fromObject({ id, name: n, host: s.hostId, state: 'running' })).finish();
    await kv.put(`${token(s.hostId)}.${token(n)}`, info);
  }
  await waitFor(async () => {
    const j = await (await fetch(`${s.gatewayUrl}/api/containers`)).json();
    return j.containers.filter((c) => c.name.startsWith(`${s.prefix}many-`)).length === names.length;
  }, 30000, `${names.length} containers registered at the gateway`);
}

test(`a glob over ${N} containers replays and follows every one of them`, async () => {
  const names = Array.from({ length: N }, (_, i) => `${s.prefix}many-${i}`);
  await writeContainers(names);
  const cl = await Client.open(s.wsUrl);
  const t0 = Date.now();
  cl.subscribe('g', `${s.hostId}/${s.prefix}many-*`, { replay: LINES });
  await cl.until(() => cl.of('replayed', 'g').length === N || cl.of('error').length > 0, 60000,
    `${N} replayed frames (have ${cl.of('replayed', 'g').length})`);
  console.log(`glob over ${N} containers: ${cl.of('replayed', 'g').length} replayed, ` +
    `${cl.lines('g').length} lines in ${Date.now() - t0} ms; errors ${JSON.stringify(cl.of('error'))}`);
  assert.deepEqual(cl.of('error'), []);
  assert.equal(cl.of('replayed', 'g').length, N);
  const by = new Map();
  for (const l of cl.lines('g')) by.set(l.container, [...(by.get(l.container) || []), l]);
  assert.equal(by.size, N);
  for (const n of names) {
    const got = by.get(s.ref(n));
    assert.equal(got.length, LINES, n);
    assert.equal(contiguous(got, 1), null, n);
    assert.deepEqual(got.map((l) => l.line), Array.from({ length: LINES }, (_, k) => `${n} line ${k + 1}`));
  }
  // and live: one more line on the last container arrives on the same subscription
  const { LogRecord } = await proto();
  const last = names[N - 1];
  await (await s.nc()).jetstream().publish(s.subject(last), LogRecord.encode(LogRecord.fromObject({
    host: s.hostId, containerId: String(N - 1).padStart(64, '0'), container: last,
    tsUnixNano: String(BigInt(Date.now()) * 1000000n), line: Buffer.from('live'), level: 3, lineNo: LINES + 1 })).finish());
  await cl.until(() => cl.lines('g').some((l) => l.line === 'live'), 20000, 'the live line');
  assert.equal(cl.closed, null);
  await cl.close();
});

test('a client that keeps subscribing globs is still rationed', async () => {
  // each glob subscribe takes one of the client's tokens: the burst (64) passes, then
  // `limit`, whatever the globs match (70, not more: each refused one also answers its
  // unsubscribe with not_found, and 20 errors close a connection)
  const cl = await Client.open(s.wsUrl);
  for (let i = 0; i < 70; i++) {
    cl.subscribe(`r${i}`, `${s.hostId}/${s.prefix}none-${i}-*`);
    cl.send({ op: 'unsubscribe', id: `r${i}` });
  }
  cl.send({ op: 'list', id: 'end' });
  await cl.until(() => cl.of('containers').length === 1, 20000, 'list answered');
  const limits = cl.of('error').filter((e) => e.code === 'limit');
  const unknown = cl.of('error').filter((e) => e.code === 'not_found');
  console.log(`70 glob subscribes at once: ${limits.length} limit (first ${limits[0]?.id}), ${unknown.length} not_found`);
  assert.ok(limits.length >= 3 && limits.length <= 6, `${limits.length} limit answers`);
  assert.equal(limits[0].id, 'r64');
  assert.equal(cl.closed, null);
  await cl.close();
});
