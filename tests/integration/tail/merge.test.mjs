// Acceptance 1: a glob across two publishers with different host ids gives lines from
// both, merged in Docker-timestamp order within the reorder window, each exactly once,
// also when logjet-tail starts while the lines are flowing (history -> live switch).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sleep } from '../../lib/harness.mjs';
import { gate, openGate } from '../gateway/client.mjs';
import { Tail, storedOn } from './lib.mjs';

let s, hostB;
before(async () => {
  s = await Stack.start({});
  hostB = `${s.hostId}-b`;
  await s.startPublisher(['--exclude', `^${s.prefix}b-`]);
  await s.startExtraPublisher(hostB, `^${s.prefix}b-`);
});
after(async () => { if (s) await s.stop(); });

/** busybox loop: "<tag> N" for N in from..to, a short pause every 10 lines. */
function lines(tag, from, to) {
  return `i=${from}; while [ $i -le ${to} ]; do echo "${tag} $i"; [ $((i % 10)) -eq 0 ] && sleep 0.02; i=$((i+1)); done`;
}

/** Every line object of a json run for one container, in output order. */
const of = (out, host, name) => out.filter((o) => o.type === 'line' && o.host === host && o.container === name);

function assertExactlyOnce(out, host, name, n, tag) {
  const got = of(out, host, name);
  assert.deepEqual(got.map((o) => o.line_no), Array.from({ length: n }, (_, i) => i + 1), `${host}/${name} line_no`);
  assert.deepEqual(got.map((o) => o.line), Array.from({ length: n }, (_, i) => `${tag} ${i + 1}`));
  assert.equal(new Set(got.map((o) => o.seq)).size, n);
}

function assertTimeOrdered(out) {
  const ts = out.filter((o) => o.type === 'line').map((o) => BigInt(o.ts_unix_nano));
  for (let i = 1; i < ts.length; i++) {
    assert.ok(ts[i] >= ts[i - 1], `line ${i} (${ts[i]}) printed after a newer one (${ts[i - 1]})`);
  }
}

test('history then live across two hosts: merged by time, each line once', async () => {
  const a = await s.run('a-1', `${lines('a', 1, 100)}; ${gate(1)}; ${lines('a', 101, 200)}; sleep 3600`);
  const b = await s.run('b-1', `${lines('b', 1, 100)}; ${gate(1)}; ${lines('b', 101, 200)}; sleep 3600`);
  await storedOn(s, s.hostId, a.name, 100);
  await storedOn(s, hostB, b.name, 100);
  // A generous window: two publishers on a loaded machine may lag each other by a lot.
  const t = Tail.start(s, ['-o', 'json', '--tail', 'all', '--delay', '3000', `*/${s.prefix}*`]);
  await t.until((x) => x.json.length >= 200, 30000, '200 history lines');
  await Promise.all([openGate(s, a.name, 1), openGate(s, b.name, 1)]);
  await t.until((x) => x.json.length >= 400, 60000, '400 lines');
  await sleep(500);
  const info = await t.stop('SIGINT');
  assert.equal(info.code, 0, t.err);
  const out = t.json;
  assert.equal(out.length, 400);
  assertExactlyOnce(out, s.hostId, a.name, 200, 'a');
  assertExactlyOnce(out, hostB, b.name, 200, 'b');
  assertTimeOrdered(out);
  // An independent source: what Docker holds for each container.
  for (const [name, host] of [[a.name, s.hostId], [b.name, hostB]]) {
    const docker = (await s.dockerLogs(name)).stdout.toString().split('\n').filter(Boolean);
    assert.deepEqual(of(out, host, name).map((o) => o.line), docker);
  }
});

test('starting in the middle of a burst loses and doubles nothing (3 runs)', async () => {
  for (let run = 0; run < 3; run++) {
    const a = await s.run(`a-burst${run}`, lines(`a${run}`, 1, 1500));
    const b = await s.run(`b-burst${run}`, lines(`b${run}`, 1, 1500));
    await sleep(100 + run * 300);    // history part grows from run to run
    const t = Tail.start(s, ['-o', 'json', '--tail', 'all', '--delay', '1000', `*/${s.prefix}*-burst${run}`]);
    await t.until((x) => x.json.length >= 3000, 90000, `3000 lines in run ${run}`);
    await sleep(500);
    assert.equal((await t.stop('SIGTERM')).code, 0, t.err);
    const out = t.json;
    assert.equal(out.length, 3000, `run ${run}`);
    assertExactlyOnce(out, s.hostId, a.name, 1500, `a${run}`);
    assertExactlyOnce(out, hostB, b.name, 1500, `b${run}`);
    assert.equal(out.filter((o) => o.type === 'gap').length, 0);
  }
});
