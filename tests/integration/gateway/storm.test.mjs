// A client subscribing and unsubscribing name after name cannot make the gateway grow
// without end (issue 10's probe: 10,000 names in under a second took the gateway from
// 47 to 499 MB, 5002 NATS subscriptions and 10,015 JetStream API errors, and the RSS
// stayed). Names the registry does not know make no watch at all; new watches for
// known ones are rationed (`limit`); what is released goes back to the kernel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Stack, sleep, token, proto, waitFor } from '../../lib/harness.mjs';
import { Client, stored } from './client.mjs';

const LINGER = 1;
// Under AddressSanitizer (ASAN_OPTIONS set by the asan test setup) the allocator keeps a
// 16 MB quarantine of freed blocks, plus shadow memory, and ignores malloc_trim: the RSS
// bound gets that much on top (the storm before the fix added 450 MB).
const RSS_SLACK_KB = process.env.ASAN_OPTIONS ? 48 * 1024 : 0;
let s;
before(async () => {
  s = await Stack.start({ publisher: true, gateway: true, gatewayArgs: ['--linger', String(LINGER)] });
});
after(async () => { if (s) await s.stop(); });

function rssKb() {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${s.procs.gateway.pid}/status`, 'utf8'));
  return Number(m[1]);
}
async function jsApi() {
  const j = await (await fetch(`${s.monitorUrl}/jsz`)).json();
  return { total: j.api.total, errors: j.api.errors };
}
async function natsSubs() {
  const j = await (await fetch(`${s.monitorUrl}/varz`)).json();
  return j.subscriptions;
}
async function gauge(name) {
  const t = await (await fetch(`${s.gatewayUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(t);
  return m ? Number(m[1]) : NaN;
}

/** Subscribes and unsubscribes each name in turn; resolves with the answers. */
async function storm(cl, names, tag) {
  for (let i = 0; i < names.length; i++) {
    cl.subscribe(`${tag}${i}`, names[i]);
    cl.send({ op: 'unsubscribe', id: `${tag}${i}` });
  }
  // a list answer after the last pair: everything before it was handled
  cl.send({ op: 'list', id: `${tag}-end` });
  await cl.until(() => cl.of('containers', `${tag}-end`).length === 1 || cl.closed, 60000, `${tag} storm handled`);
}

/** The same, one pair at a time (each answered before the next), until the first
 * `limit`: a client sending on past errors is closed after 20 of them. */
async function pacedStorm(cl, names, tag) {
  for (let i = 0; i < names.length; i++) {
    cl.subscribe(`${tag}${i}`, names[i]);
    cl.send({ op: 'list', id: `${tag}${i}-l` });
    await cl.until(() => cl.of('containers', `${tag}${i}-l`).length === 1 || cl.closed, 30000, `${tag}${i} answered`);
    if (cl.of('error').length) return;
    cl.send({ op: 'unsubscribe', id: `${tag}${i}` });
  }
}

test('10,000 unknown names: no watch, no JetStream request, memory back', async () => {
  // a real container first, so the gateway has been through a watch's life once
  const c = await s.run('one', 'echo hello');
  await stored(s, c.name, 1);
  const warm = await Client.open(s.wsUrl);
  warm.subscribe('w', s.ref(c.name), { replay: 10 });
  await warm.untilLines('w', 1);
  await warm.close();
  await sleep((LINGER + 2) * 1000);

  const rss0 = rssKb(), api0 = await jsApi(), subs0 = await natsSubs();
  const cl = await Client.open(s.wsUrl);
  const names = Array.from({ length: 10000 }, (_, i) => `${s.hostId}/${s.prefix}ghost-${i}`);
  const t0 = Date.now();
  await storm(cl, names, 'g');
  const ms = Date.now() - t0;
  const peakSubs = await natsSubs(), watches = await gauge('logjet_gateway_nats_subscriptions');
  await sleep((LINGER + 2) * 1000);     // lingering watches (if any) released, trimmed
  const rss1 = rssKb(), api1 = await jsApi(), subs1 = await natsSubs();
  console.log(`10,000 names in ${ms} ms: RSS ${rss0} -> ${rss1} KB; JetStream API +${api1.total - api0.total} ` +
    `(errors +${api1.errors - api0.errors}); NATS subscriptions ${subs0} -> ${peakSubs} -> ${subs1}; ` +
    `gateway watches after the storm ${watches}`);
  assert.equal(cl.closed, null);
  assert.deepEqual(cl.of('error'), []);
  assert.equal(watches, 0);
  assert.ok(api1.total - api0.total < 20, `JetStream API requests +${api1.total - api0.total}`);
  assert.ok(peakSubs - subs0 < 20, `NATS subscriptions ${subs0} -> ${peakSubs}`);
  assert.ok(rss1 <= rss0 * 1.2 + RSS_SLACK_KB, `RSS ${rss0} -> ${rss1} KB`);
  await cl.close();
});

test('a plain name subscribed before its container exists still gets its lines', async () => {
  const name = `${s.prefix}later`;
  const cl = await Client.open(s.wsUrl);
  cl.subscribe('l', s.ref(name));
  await sleep(300);
  assert.equal(await gauge('logjet_gateway_nats_subscriptions'), 0);
  await s.run('later', 'i=1; while [ $i -le 5 ]; do echo "late $i"; i=$((i+1)); done');
  await cl.untilLines('l', 5);
  assert.deepEqual(cl.lines('l').map((l) => l.line), ['late 1', 'late 2', 'late 3', 'late 4', 'late 5']);
  await cl.close();
});

test('known names: new watches rationed per client (limit), memory back after', async () => {
  // 300 registered containers, written into the registry bucket as the publisher does
  const { ContainerInfo } = await proto();
  const kv = await (await s.nc()).jetstream().views.kv('LOGJET_CONTAINERS');
  const names = Array.from({ length: 300 }, (_, i) => `${s.prefix}known-${i}`);
  for (const n of names) {
    const info = ContainerInfo.encode(ContainerInfo.fromObject({ id: n, name: n, host: s.hostId, state: 'running' })).finish();
    await kv.put(`${token(s.hostId)}.${token(n)}`, info);
  }
  await waitFor(async () => {
    const j = await (await fetch(`${s.gatewayUrl}/api/containers`)).json();
    return names.every((n) => j.containers.some((c) => c.name === n));
  }, 30000, '300 containers registered at the gateway');
  await sleep((LINGER + 2) * 1000);

  const rss0 = rssKb(), api0 = await jsApi();
  const cl = await Client.open(s.wsUrl);
  const t0 = Date.now();
  await pacedStorm(cl, names.map((n) => s.ref(n)), 'k');
  const secs = (Date.now() - t0) / 1000;
  const peak = await gauge('logjet_gateway_nats_subscriptions');
  await sleep((LINGER + 2) * 1000);
  const rss1 = rssKb(), api1 = await jsApi(), after = await gauge('logjet_gateway_nats_subscriptions');
  const limits = cl.of('error').filter((e) => e.code === 'limit');
  const first = limits.length ? Number(limits[0].id.slice(1)) : null;
  console.log(`300 known names, one pair at a time for ${secs.toFixed(1)} s: first limit at #${first} ` +
    `(${JSON.stringify(limits[0]?.message)}); watches at the end ${peak}, after linger ${after}; ` +
    `RSS ${rss0} -> ${rss1} KB; JetStream API +${api1.total - api0.total} (errors +${api1.errors - api0.errors})`);
  // the burst (64) goes through, then 16 a second: the first refusal comes in between
  assert.equal(limits.length, 1);
  assert.ok(first >= 64 && first <= 64 + 16 * secs + 2, `first limit at #${first} after ${secs} s`);
  assert.equal(cl.closed, null);
  assert.ok(api1.total - api0.total <= 2 * first, `JetStream API +${api1.total - api0.total}`);
  assert.equal(after, 0);
  assert.ok(rss1 <= rss0 * 1.2 + RSS_SLACK_KB, `RSS ${rss0} -> ${rss1} KB`);
  await cl.close();
});
