// Stopped containers the publisher never saw running: their last --replay-depth lines
// are published once (backfill), they are in the registry with their exit code, and a
// later start continues their line_no. Checked against `docker logs --tail` and a raw
// read of the stream and of the registry bucket (tests/chaos/checker.mjs: its own
// reader, not the harness's).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, waitFor, sleep } from '../../lib/harness.mjs';
import { readStream, readRegistry, escapeToken, checkLineNos } from '../../chaos/checker.mjs';

let s;
before(async () => { s = await Stack.start({ publisher: false }); });
after(async () => { if (s) await s.stop(); });

const key = (name) => `${escapeToken(s.hostId)}.${escapeToken(name)}`;
async function byName() {
  const m = new Map();
  for (const r of await readStream(await s.nc(), 'LOGS', s.hostId)) {
    if (!m.has(r.name)) m.set(r.name, []);
    m.get(r.name).push(r);
  }
  return m;
}
// The engine's last n lines, both streams in its own order (GET /containers/{id}/logs
// read by the harness, not by the publisher): what `docker logs --tail n` prints.
// Not sorted by timestamp: a stderr line may be stamped before stdout lines the
// engine wrote earlier (each stream has its own copier).
async function dockerTail(name, n) {
  const all = await s.engineLogs(name);
  return all.slice(Math.max(0, all.length - n));
}
const same = (recs, tail) => {
  assert.equal(recs.length, tail.length, 'record count');
  for (let i = 0; i < recs.length; i++) {
    assert.equal(recs[i].stream === 1 ? 'STDERR' : 'STDOUT', tail[i].stream, `record ${i} stream`);
    assert.ok(recs[i].line.equals(tail[i].line), `record ${i}: ${recs[i].line} != ${tail[i].line}`);
  }
};

test('stopped before the publisher ever ran: the last 50 / 1000 / 0 lines, exit codes, then a restart continues', async () => {
  // Both streams, lines from the first microsecond, a distinct exit code each.
  const c50 = await s.run('bf50', 'i=0; while [ $i -lt 50 ]; do i=$((i+1)); echo "out $i"; [ $((i % 7)) = 0 ] && echo "err $i" >&2; done; exit 3');
  // 2000 lines in its first run, 10 in the next.
  const c2k = await s.run('bf2k.x', 'n=1999; [ -f /r ] && n=9; echo "run $(cat /r 2>/dev/null || echo 1)"; echo 2 > /r; i=0; while [ $i -lt $n ]; do i=$((i+1)); echo "line $i"; done; exit 4');
  const c0 = await s.run('bf0', 'exit 5');
  for (const c of [c50, c2k, c0]) await s.wait(c.name);
  await s.startPublisher();
  const want50 = await dockerTail(c50.name, 1000);
  assert.ok(want50.length > 50, `both streams: ${want50.length} lines`);
  let m;
  await waitFor(async () => { m = await byName(); return (m.get(c50.name)?.length === want50.length) && m.get(c2k.name)?.length === 1000; },
    30000, 'the backfill stored').catch(() => {});
  await sleep(1500);
  m = await byName();
  same(m.get(c50.name) || [], want50);
  same(m.get(c2k.name) || [], await dockerTail(c2k.name, 1000));
  assert.equal(m.get(c0.name), undefined, 'nothing of the container that printed nothing');
  // line_no counts from the container's first line: the 2000-line one's kept lines are 1001..2000.
  assert.deepEqual((m.get(c2k.name) || []).map((r) => r.lineNo).slice(0, 2), [1001, 1002]);
  assert.deepEqual(checkLineNos(m.get(c2k.name), { from: 1001 }), []);
  const reg = await readRegistry(await s.nc(), s.hostId);
  for (const [c, code] of [[c50, 3], [c2k, 4], [c0, 5]]) {
    const e = reg.get(key(c.name));
    assert.ok(e, `registry entry of ${c.name}`);
    assert.equal(e.id, c.id);
    assert.equal(e.state, 'exited');
    assert.equal(e.exitCode, code, `${c.name} exit code`);
    assert.ok(BigInt(e.finishedNs) > 0n, 'finish time');
  }

  // Started again: the new run's lines follow, line_no contiguous, nothing doubled (the
  // subject keeps its newest 1000: line_no 1011..2010).
  assert.equal((await s.docker(['start', c2k.name])).code, 0);
  await s.wait(c2k.name);
  await waitFor(async () => (await byName()).get(c2k.name)?.at(-1)?.lineNo === 2010, 30000, 'the second run stored').catch(() => {});
  await sleep(1000);
  const after = (await byName()).get(c2k.name);
  assert.equal(after.length, 1000);
  assert.deepEqual(checkLineNos(after, { from: 1011 }), []);
  assert.equal(after[990].line.toString(), 'run 2', 'the second run begins right after the backfill');
  assert.equal(after[990].lineNo, 2001);
  same(after, await dockerTail(c2k.name, 1000));
});

test('kill -9 in the middle of a backfill of 100 stopped containers: each holds its lines exactly once', async () => {
  const seed = Number(process.env.LOGJET_TEST_SEED || Date.now() % 100000);
  console.log(`# seed ${seed}`);
  let r = seed;
  const rnd = () => ((r = (r * 1103515245 + 12345) % 2147483648) / 2147483648);
  const cs = [];
  for (let i = 0; i < 100; i++) {
    const n = 1 + Math.floor(rnd() * 3000);
    cs.push({ ...(await s.run(`bfk${i}`, `i=0; while [ $i -lt ${n} ]; do i=$((i+1)); echo "c${i} line $i"; done`)), n, i });
  }
  for (const c of cs) await s.wait(c.name);
  await s.killPublisher('SIGTERM'); // the first test's
  // Killed once a random number of them (5..80) have lines stored: in the middle of
  // the backfill, whatever this machine's speed.
  const target = 5 + Math.floor(rnd() * 76);
  await s.startPublisher(['--backfill-at-once', '2'], { healthy: false });
  const jsm = await (await s.nc()).jetstreamManager();
  const begunCount = async () => {
    const info = await jsm.streams.info('LOGS', { subjects_filter: `logs.${escapeToken(s.hostId)}.>` }).catch(() => null);
    return Object.keys(info?.state?.subjects || {}).length;
  };
  await waitFor(async () => (await begunCount()) >= target, 60000, `${target} containers begun`).catch(() => {});
  await s.killPublisher();
  const partial = await byName();
  const done = cs.filter((c) => partial.get(c.name)?.length === Math.min(c.n, 1000)).length;
  const begun = cs.filter((c) => partial.has(c.name)).length - done;
  console.log(`# killed after ${target} had begun: ${done} containers complete, ${begun} partly stored`);
  await s.startPublisher(['--backfill-at-once', '2']);
  let m;
  await waitFor(async () => { m = await byName(); return cs.every((c) => m.get(c.name)?.length === Math.min(c.n, 1000)); }, 90000, 'every container backfilled').catch(() => {});
  await sleep(1000);
  m = await byName();
  for (const c of cs) {
    const recs = m.get(c.name) || [];
    const first = Math.max(1, c.n - 999);
    assert.deepEqual(recs.map((x) => x.line.toString()), Array.from({ length: c.n - first + 1 }, (_, k) => `c${c.i} line ${first + k}`),
      `${c.name}: its last lines once, in order`);
    assert.deepEqual(checkLineNos(recs, { from: first }), [], `${c.name} line_no`);
  }
});

test('--backfill-stopped=false: a stopped container never seen stays out; --backfill-max keeps the most recently finished', async () => {
  const s2 = await Stack.start({ publisher: false });
  try {
    const a = await s2.run('old', 'echo a');
    await s2.wait(a.name);
    await sleep(1100);
    const b = await s2.run('new', 'echo b');
    await s2.wait(b.name);
    await s2.startPublisher(['--backfill-stopped=false']);
    await sleep(2000);
    const none = await readStream(await s2.nc(), 'LOGS', s2.hostId);
    assert.equal(none.length, 0, 'nothing backfilled when turned off');
    await s2.killPublisher('SIGTERM');
    await s2.startPublisher(['--backfill-max', '1']);
    await waitFor(async () => (await readStream(await s2.nc(), 'LOGS', s2.hostId)).length >= 1, 20000, 'one backfilled').catch(() => {});
    await sleep(1500);
    const got = await readStream(await s2.nc(), 'LOGS', s2.hostId);
    assert.deepEqual(got.map((x) => x.name), [b.name], 'only the most recently finished');
  } finally {
    await s2.stop();
  }
});
