// Nothing lost, nothing doubled: container stop/start, kill -9 of the publisher at
// several points, and nats-server away for 10 s mid-stream. The stored lines are
// compared with the engine's own log, in the engine's order.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Stack, waitFor, sleep } from '../../lib/harness.mjs';

let s;
// Deeper than anything printed here, so every line stays retained and comparable.
before(async () => { s = await Stack.start({ publisher: true, replayDepth: 100000 }); });
after(async () => { if (s) await s.stop(); });

/** Asserts the subject holds exactly the engine's log, once each, line_no 1..N. */
async function assertExact(name, timeoutMs = 60000) {
  const engine = await s.engineLogs(name);
  let recs = [];
  await waitFor(async () => {
    recs = await s.records(name);
    return recs.length >= engine.length && recs.at(-1).lineNo >= engine.length;
  }, timeoutMs, `${name}: ${engine.length} lines stored`, 500);
  recs = await s.records(name);
  assert.equal(recs.length, engine.length, 'stored count equals the engine log');
  recs.forEach((r, i) => assert.equal(r.lineNo, i + 1, `line_no at index ${i}`));
  const got = recs.map((r) => `${r.stream} ${r.line.toString('latin1')}`);
  const want = engine.map((e) => `${e.stream} ${e.line.toString('latin1')}`);
  assert.deepEqual(got, want);
  assert.equal(new Set(recs.map((r) => r.msgId)).size, recs.length, 'message ids unique');
  return recs;
}

test('stop and start a container: line_no continues, nothing doubled', async () => {
  const c = await s.run('stopstart', 'echo "run at $(date +%s%N)"; i=0; while [ $i -lt 200 ]; do echo "n $i"; i=$((i+1)); done; echo e >&2');
  await s.wait(c.name);
  await assertExact(c.name);
  for (let k = 0; k < 2; k++) {
    assert.equal((await s.docker(['start', c.name])).code, 0);
    await s.wait(c.name);
  }
  const recs = await assertExact(c.name);
  assert.equal(recs.length, 3 * 202);
});

test('kill -9 of the publisher while a container prints, at several points', async () => {
  const c = await s.run('killed', 'i=1; while [ $i -le 30000 ]; do echo "line $i of the kill test"; ' +
    'if [ $((i % 7)) -eq 0 ]; then echo "stderr $i" >&2; fi; i=$((i+1)); done');
  for (const delay of [300, 700, 1200]) {
    await sleep(delay);
    await s.killPublisher('SIGKILL');
    await sleep(200);
    await s.startPublisher();
  }
  await s.wait(c.name);
  const recs = await assertExact(c.name, 120000);
  assert.ok(recs.length > 34000);
});

test('nats-server stopped for 10 s mid-stream and restarted: nothing lost or doubled', async () => {
  const c = await s.run('natsdown', 'i=1; while [ $i -le 12000 ]; do echo "paced $i"; usleep 1000; i=$((i+1)); done');
  await sleep(2000);
  await s.stopNats();
  await sleep(10000);
  await s.startNats();
  await s.wait(c.name);
  await assertExact(c.name, 120000);
  const m = await s.metrics('publisher');
  assert.ok(m.logjet_publisher_nats_reconnects_total >= 1, 'the publisher saw the outage');
});

test('a stdout-only container restarted while the publisher is down: the old run\'s tail is kept', async () => {
  // The last stored record has seen no stderr line; the resume must not start at the
  // new run's start time, or the lines between the kill and the restart are skipped.
  const c = await s.run('downrestart', 'i=$(cat /n 2>/dev/null || echo 0); while [ $i -lt 100000 ]; do ' +
    'i=$((i+1)); echo "tick $i"; echo $i > /n; usleep 10000; done');
  await waitFor(async () => (await s.records(c.name)).length >= 20, 20000, 'first lines stored', 200);
  await s.killPublisher('SIGKILL');
  await sleep(2500);
  assert.equal((await s.docker(['restart', '-t', '0', c.name])).code, 0);
  await sleep(500);
  await s.startPublisher();
  await sleep(1500);
  assert.equal((await s.docker(['stop', '-t', '0', c.name])).code, 0);
  await s.wait(c.name);
  await assertExact(c.name);
});

test('a container removed and recreated under its name while NATS is away: line_no stays unique', async () => {
  // The removed container's unstored lines and the new one's first lines go to one
  // subject: the new follow must wait for the old lines before it numbers its own.
  const a = await s.run('recreated', 'i=1; while true; do echo "first $i"; i=$((i+1)); usleep 20000; done');
  await waitFor(async () => (await s.records(a.name)).length >= 10, 20000, 'first lines stored', 200);
  await s.stopNats();
  await sleep(1000);
  assert.equal((await s.docker(['rm', '-f', a.name])).code, 0);
  const b = await s.run('recreated', 'i=1; while [ $i -le 30 ]; do echo "second $i"; i=$((i+1)); done; sleep 3600');
  await sleep(1000);
  await s.startNats();
  const recs = await waitFor(async () => {
    const r = await s.records(b.name);
    return r.length && r.at(-1).line.toString() === 'second 30' ? r : null;
  }, 30000, 'the new container\'s last line stored', 300);
  recs.forEach((r, i) => assert.equal(r.lineNo, i + 1, `line_no at index ${i}`));
  const lines = recs.map((r) => r.line.toString());
  const firsts = lines.filter((l) => l.startsWith('first '));
  assert.deepEqual(firsts, firsts.map((_, i) => `first ${i + 1}`), 'the removed container\'s lines, in order');
  assert.deepEqual(lines.slice(firsts.length), Array.from({ length: 30 }, (_, i) => `second ${i + 1}`));
  await s.docker(['rm', '-f', b.name]);
});

test('nats-server comes back without its store: the stream is created again and lines flow', async () => {
  // Runs last in this file: it throws the stream (and every earlier test's lines) away.
  const c = await s.run('lostore', 'i=1; while [ $i -le 100000 ]; do echo "beat $i"; usleep 20000; i=$((i+1)); done');
  await waitFor(async () => (await s.records(c.name)).length >= 10, 20000, 'first lines stored', 200);
  await s.stopNats();
  fs.rmSync(s.storeDir, { recursive: true, force: true });
  await s.startNats();
  const recs = await waitFor(async () => {
    const r = await s.records(c.name).catch(() => []);
    return r.length >= 20 ? r : null;
  }, 30000, 'lines stored in the re-created stream', 500);
  // Numbering goes on from where the lost stream was; nothing is stored twice.
  for (let k = 1; k < recs.length; k++) assert.equal(recs[k].lineNo, recs[k - 1].lineNo + 1);
  assert.ok(recs[0].lineNo > 10);
  await s.docker(['rm', '-f', c.name]);
});
