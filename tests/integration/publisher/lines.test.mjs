// Line shapes and container kinds: long and over-long lines, TTY containers, names that
// need escaping, opted-out containers, and the container registry.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, waitFor, sleep, proto, token } from '../../lib/harness.mjs';

let s;
before(async () => { s = await Stack.start({ publisher: true }); });
after(async () => { if (s) await s.stop(); });

/** The state in stack's registry entry of container name, or null without one. */
async function registryState(stack, name) {
  const kv = await (await stack.nc()).jetstream().views.kv('LOGJET_CONTAINERS');
  const { ContainerInfo } = await proto();
  const e = await kv.get(`${token(stack.hostId)}.${token(name)}`);
  return e && e.value.length ? ContainerInfo.decode(e.value).state : null;
}

async function settled(name, n, timeoutMs = 30000) {
  await waitFor(async () => {
    const r = await s.records(name);
    return r.length && r.at(-1).lineNo >= n;
  }, timeoutMs, `${name} to reach line_no ${n}`, 200);
  return s.records(name);
}

test('a 40,000-byte line is one record; a 200 KiB line is cut at 64 KiB and marked truncated', async () => {
  const c = await s.run('long',
    'echo before; head -c 40000 /dev/zero | tr "\\0" a; echo; ' +
    'head -c 204800 /dev/zero | tr "\\0" b; echo; echo after');
  await s.wait(c.name);
  const recs = await settled(c.name, 4);
  assert.equal(recs.length, 4);
  assert.equal(recs[0].line.toString(), 'before');
  assert.equal(recs[1].line.length, 40000);
  assert.ok(recs[1].line.every((b) => b === 0x61));
  assert.equal(recs[1].truncated, false);
  assert.equal(recs[2].line.length, 64 * 1024);
  assert.ok(recs[2].line.every((b) => b === 0x62));
  assert.equal(recs[2].truncated, true);
  assert.equal(recs[3].line.toString(), 'after');
  // One timestamp per line even though Docker split them into 16 KiB pieces.
  const engine = await s.engineLogs(c.name);
  assert.equal(engine[1].line.length, 40000);
});

test('a TTY container: lines without \\r, on stdout, in order', async () => {
  const c = await s.run('tty', 'echo one; echo two >&2; printf "three\\n"; echo four', { tty: true });
  await s.wait(c.name);
  const recs = await settled(c.name, 4);
  assert.deepEqual(recs.map((r) => r.line.toString()), ['one', 'two', 'three', 'four']);
  assert.ok(recs.every((r) => r.stream === 'STDOUT'));
});

test('a name with dots (a Swarm task\'s) gets an =HH token in its subject and in the registry', async () => {
  const c = await s.run('web.1.x9f_a-b', 'echo dotted');
  await s.wait(c.name);
  assert.match(s.subject(c.name), /web=2E1=2Ex9f_a-b$/);
  const recs = await settled(c.name, 1);
  assert.equal(recs[0].line.toString(), 'dotted');
  assert.equal(recs[0].container, c.name);
  // The registry key uses the same token; nats.c refused the old %HH key outright.
  const nc = await s.nc();
  const kv = await nc.jetstream().views.kv('LOGJET_CONTAINERS');
  const { ContainerInfo } = await proto();
  const key = `${token(s.hostId)}.${token(c.name)}`;
  assert.match(key, /\.[A-Za-z0-9_=-]*web=2E1=2Ex9f_a-b$/);
  const info = await waitFor(async () => {
    const e = await kv.get(key);
    return e && e.value.length ? ContainerInfo.decode(e.value) : null;
  }, 10000, `registry entry ${key}`);
  assert.equal(info.name, c.name);
  assert.equal(info.id, c.id);
  assert.doesNotMatch(s.procs.publisher.tail(200), /invalid key/);
});

test('logjet.enable=false is not followed; the registry lists the others', async () => {
  const off = await s.run('optout', 'echo secret; sleep 1; echo secret2', { labels: { 'logjet.enable': 'false' } });
  const on = await s.run('optin', 'echo visible; sleep 1; echo visible2', { labels: { team: 'core' } });
  await s.wait(off.name);
  await s.wait(on.name);
  await settled(on.name, 2);
  await sleep(500);
  assert.equal((await s.records(off.name)).length, 0);
  const m = await s.metrics('publisher');
  assert.ok(!Object.keys(m).some((k) => k.includes(off.name)), 'opted-out container shows in metrics');
  // Registry: LOGJET_CONTAINERS holds a ContainerInfo for the followed one, with its state.
  const nc = await s.nc();
  const kv = await nc.jetstream().views.kv('LOGJET_CONTAINERS');
  const { ContainerInfo } = await proto();
  const info = await waitFor(async () => {
    const e = await kv.get(`${token(s.hostId)}.${token(on.name)}`);
    if (!e || !e.value.length) return null;
    const ci = ContainerInfo.toObject(ContainerInfo.decode(e.value), { longs: String, defaults: true });
    return ci.state === 'exited' ? ci : null;
  }, 10000, 'registry entry in state exited');
  assert.equal(info.id, on.id);
  assert.equal(info.name, on.name);
  assert.equal(info.host, s.hostId);
  assert.equal(info.labels.team, 'core');
  assert.equal(info.image, 'logjet-test-busybox');
  assert.notEqual(info.startedAtUnixNano, '0');
  assert.equal(await kv.get(`${token(s.hostId)}.${token(off.name)}`), null);
});

test('a rename moves later lines to the new name\'s subject; the old entry is marked removed', async () => {
  const c = await s.run('before', 'echo a1; echo a2; sleep 3; echo b1; echo b2');
  await settled(c.name, 2);
  const renamed = `${s.prefix}after`;
  assert.equal((await s.docker(['rename', c.name, renamed])).code, 0);
  await s.wait(renamed);
  const after = await settled(renamed, 2);
  assert.deepEqual(after.map((r) => [r.lineNo, r.line.toString(), r.container]),
    [[1, 'b1', renamed], [2, 'b2', renamed]]);
  const before = await s.records(c.name);
  assert.deepEqual(before.map((r) => r.line.toString()), ['a1', 'a2']);
  const nc = await s.nc();
  const kv = await nc.jetstream().views.kv('LOGJET_CONTAINERS');
  const { ContainerInfo } = await proto();
  const old = await kv.get(`${token(s.hostId)}.${token(c.name)}`);
  assert.equal(ContainerInfo.decode(old.value).state, 'removed');
  const cur = await kv.get(`${token(s.hostId)}.${token(renamed)}`);
  assert.equal(ContainerInfo.decode(cur.value).name, renamed);
});

test('--max-line-bytes above the server\'s max_payload is lowered to fit: a 2 MB line is stored cut', async () => {
  // nats-server's default max_payload is 1 MiB; a 4 MiB limit could never be stored.
  const t = await Stack.start({ publisher: true, publisherArgs: ['--max-line-bytes', '4MiB'] });
  try {
    const c = await t.run('huge', 'echo before; head -c 2000000 /dev/zero | tr "\\0" c; echo; echo after');
    await t.wait(c.name);
    const recs = await waitFor(async () => {
      const r = await t.records(c.name);
      return r.length >= 3 ? r : null;
    }, 30000, 'three records', 200);
    assert.deepEqual(recs.map((r) => r.lineNo), [1, 2, 3]);
    assert.equal(recs[1].truncated, true);
    assert.ok(recs[1].line.length < 1024 * 1024 && recs[1].line.length > 1000000, `${recs[1].line.length}`);
    assert.equal(recs[2].line.toString(), 'after');
    assert.match(t.procs.publisher.tail(50), /max-line-bytes is more than the NATS server takes/);
  } finally {
    await t.stop();
  }
});

test('--opt-in: a labelled container is followed, and marked removed in the registry when it goes', async () => {
  const t = await Stack.start({ publisher: true, publisherArgs: ['--opt-in'] });
  try {
    const yes = await t.run('wanted', 'echo hello; sleep 3600', { labels: { 'logjet.enable': 'true' } });
    const no = await t.run('unlabelled', 'echo quiet; sleep 3600');
    await waitFor(async () => (await t.records(yes.name)).length === 1, 20000, 'the labelled container\'s line');
    const state = (name) => registryState(t, name);
    assert.equal(await state(yes.name), 'running');
    assert.equal((await t.docker(['rm', '-f', yes.name, no.name])).code, 0);
    await waitFor(async () => (await state(yes.name)) === 'removed', 10000, 'registry entry in state removed');
    assert.equal(await state(no.name), null, 'the unlabelled container is not in the registry');
    assert.equal((await t.records(no.name)).length, 0);
  } finally {
    await t.stop();
  }
});

test('followed containers removed with rm -f, several at once: every registry entry says removed', async () => {
  // The logs transfer ends when rm -f kills a container; if the publisher saw that end
  // (and the container gone) before the destroy event, the slot went without a word to
  // the registry, and the later event found no slot: the entry stayed "running".
  const state = (name) => registryState(s, name);
  for (let round = 0; round < 5; round++) {
    const cs = [];
    for (let k = 0; k < 4; k++) cs.push(await s.run(`rmf${round}x${k}`, 'echo up; sleep 3600'));
    for (const c of cs) {
      await waitFor(async () => (await s.records(c.name)).length === 1, 20000, `${c.name} followed`, 100);
    }
    assert.equal((await s.docker(['rm', '-f', ...cs.map((c) => c.name)])).code, 0);
    for (const c of cs) {
      await waitFor(async () => (await state(c.name)) === 'removed', 10000, `${c.name} in state removed (round ${round})`, 100);
    }
  }
});
