// Acceptance 5: --events interleaves Docker lifecycle changes from the registry (start,
// exit with its code, removal, rename) with the lines, in time order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, proto, sleep, token } from '../../lib/harness.mjs';
import { gate, openGate, stored } from '../gateway/client.mjs';
import { Tail } from './lib.mjs';

let s;
before(async () => { s = await Stack.start({ publisher: true }); });
after(async () => { if (s) await s.stop(); });

test('start, lines, exit with its code', async () => {
  const t = Tail.start(s, ['--events', '-o', 'json', '--delay', '500', `*/${s.prefix}ev-1`]);
  await sleep(1000);    // following (and watching the registry) before the container exists
  const c = await s.run('ev-1', 'echo one; echo two; sleep 0.5; echo three; exit 3');
  assert.equal(await s.wait(c.name), 3);
  await t.until((x) => x.json.some((o) => o.type === 'event' && o.event === 'exited'), 30000, 'exit event');
  assert.equal((await t.stop()).code, 0, t.err);
  const out = t.json.filter((o) => o.container === c.name);
  assert.deepEqual(out.map((o) => (o.type === 'event' ? `[${o.event}]` : o.line)),
    ['[started]', 'one', 'two', 'three', '[exited]']);
  const exited = out.find((o) => o.event === 'exited');
  assert.equal(exited.exit_code, 3);
  assert.equal(exited.oom_killed, false);
  assert.equal(exited.host, s.hostId);
  // The exit's time is Docker's FinishedAt, after the last line's timestamp.
  assert.ok(Date.parse(exited.ts) >= Date.parse(out[3].ts.slice(0, 23) + 'Z'));
});

test('a running container removed: killed (137), then removed', async () => {
  const c = await s.run('ev-3', 'echo up; sleep 3600');
  await stored(s, c.name, 1);
  const t = Tail.start(s, ['--events', '-o', 'json', '--delay', '300', `*/${c.name}`]);
  await t.until((x) => x.json.length >= 1, 30000, 'first line');
  await s.docker(['rm', '-f', c.name]);
  await t.until((x) => x.json.some((o) => o.event === 'removed'), 30000, 'removed event');
  assert.equal((await t.stop()).code, 0, t.err);
  // Whether the registry saw it exited (137) before it was gone depends on how fast the
  // engine removed it; the line comes first and the removal last either way.
  const got = t.json.map((o) => (o.type === 'event' ? `[${o.event} ${o.exit_code ?? ''}]` : o.line));
  assert.ok(['up,[exited 137],[removed ]', 'up,[removed ]'].includes(got.join()), got.join());
});

test('a container removed after it exited (and was read to its end) shows as removed', async () => {
  const c = await s.run('ev-4', 'echo bye');
  await s.wait(c.name);
  await stored(s, c.name, 1);
  await sleep(1500);    // the publisher has finished with it
  const t = Tail.start(s, ['--events', '-o', 'json', '--delay', '300', `*/${c.name}`]);
  await t.until((x) => x.json.length >= 1, 30000, 'its line');
  await s.docker(['rm', c.name]);
  await t.until((x) => x.json.some((o) => o.event === 'removed'), 30000, 'removed event');
  assert.equal((await t.stop()).code, 0, t.err);
  // The registry itself (read directly) says so too.
  const kv = await (await s.nc()).jetstream().views.kv('LOGJET_CONTAINERS');
  const { ContainerInfo } = await proto();
  const e = await kv.get(`${token(s.hostId)}.${token(c.name)}`);
  assert.equal(ContainerInfo.decode(e.value).state, 'removed');
});

test('a rename and a restart show as events in the default format', async () => {
  const c = await s.run('ev-2', `echo before; ${gate(1)}; echo after`);
  await stored(s, c.name, 1);
  const t = Tail.start(s, ['--events', '--delay', '300', '--tail', '0', `*/${s.prefix}ev-*`]);
  await sleep(1000);
  await s.docker(['rename', c.name, `${c.name}-new`]);
  await t.until((x) => x.text.includes('[docker] renamed'), 30000, 'rename event');
  await openGate(s, `${c.name}-new`, 1);
  await s.wait(`${c.name}-new`);
  await t.until((x) => x.text.includes('[docker] exited (exit code 0)'), 30000, 'exit event');
  await s.docker(['start', `${c.name}-new`]);
  await t.until((x) => x.lines().filter((l) => l.includes('[docker] started')).length >= 1, 30000, 'restart event');
  assert.equal((await t.stop()).code, 0, t.err);
  const lines = t.lines();
  assert.ok(lines.includes(`${s.hostId}/${c.name} [docker] renamed ${c.name}-new`), lines.join('\n'));
  const iAfter = lines.indexOf(`${s.hostId}/${c.name}-new after`);
  const iExit = lines.indexOf(`${s.hostId}/${c.name}-new [docker] exited (exit code 0)`);
  assert.ok(iAfter >= 0 && iExit > iAfter, lines.join('\n'));
});
