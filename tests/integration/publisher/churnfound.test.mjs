// Minimal reproductions of what the churn run (tests/chaos) found, one ordinary docker
// sequence each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, waitFor, sleep } from '../../lib/harness.mjs';
import { readStream, readRegistry, escapeToken, checkLineNos } from '../../chaos/checker.mjs';

let s;
before(async () => { s = await Stack.start({ publisher: true, replayDepth: 100000 }); });
after(async () => { if (s) await s.stop(); });

const key = (name) => `${escapeToken(s.hostId)}.${escapeToken(name)}`;
async function stored(name) {
  return (await readStream(await s.nc(), 'LOGS', s.hostId)).filter((r) => r.name === name);
}

test('a container stopped, then removed, is marked removed in the registry', async () => {
    const c = await s.run('stoprm', 'echo one; echo two; exit 3');
    await s.wait(c.name);
    await waitFor(async () => (await stored(c.name)).length === 2, 20000, 'both lines stored');
    await sleep(1000); // the follow ends after its final read
    assert.equal((await s.docker(['rm', c.name])).code, 0);
    const e = await waitFor(async () => {
      const r = (await readRegistry(await s.nc(), s.hostId)).get(key(c.name));
      return r?.state === 'removed' ? r : null;
    }, 10000, 'registry entry removed').catch(() => null);
    const now = (await readRegistry(await s.nc(), s.hostId)).get(key(c.name));
    assert.ok(e, `registry ${key(c.name)}: ${JSON.stringify(now)}`);
    // The removed entry keeps what was known of its last run.
    assert.equal(e.exitCode, 3);
    assert.ok(BigInt(e.finishedNs) > 0n, 'finish time kept');
  });

test('a stopped container renamed: the old name is marked removed in the registry', async () => {
    const c = await s.run('renold', 'echo one');
    await s.wait(c.name);
    await waitFor(async () => (await stored(c.name)).length === 1, 20000, 'the line stored');
    await sleep(1000);
    const to = `${s.prefix}rennew.1`;
    assert.equal((await s.docker(['rename', c.name, to])).code, 0);
    await sleep(2000);
    const reg = await readRegistry(await s.nc(), s.hostId);
    assert.equal(reg.get(key(c.name))?.state, 'removed', `old key: ${JSON.stringify(reg.get(key(c.name)))}`);
  });

test('a stopped container renamed and started again: its old lines are not read again under the new name', async () => {
    const c = await s.run('renrun', 'echo "run at $(cat /r 2>/dev/null || echo 1)"; echo 2 > /r; i=0; while [ $i -lt 20 ]; do i=$((i+1)); echo "l $i"; done');
    await s.wait(c.name);
    await waitFor(async () => (await stored(c.name)).length === 21, 20000, 'the first run stored');
    await sleep(1000);
    const to = `${s.prefix}renrun2.x`;
    assert.equal((await s.docker(['rename', c.name, to])).code, 0);
    await sleep(500);
    assert.equal((await s.docker(['start', to])).code, 0);
    await s.wait(to);
    await waitFor(async () => (await stored(to)).some((r) => r.line.toString() === 'run at 2') &&
      (await stored(to)).length >= 21, 20000, 'the second run stored').catch(() => {});
    await sleep(1500);
    const recs = await stored(to);
    const lines = recs.map((r) => r.line.toString());
    assert.deepEqual(checkLineNos(recs), [], `line_no under the new name: ${recs.map((r) => r.lineNo).slice(0, 5)}`);
    assert.deepEqual(lines.slice(0, 1), ['run at 2'], 'the new subject begins with the second run');
    assert.equal(recs.length, 21);
  });

test('renamed while followed, then the publisher killed: the restarted one resumes under the new name, nothing read again', async () => {
    const c = await s.run('renkill', 'i=0; while [ $i -lt 40 ]; do i=$((i+1)); echo "a $i"; done; sleep 2; i=0; while [ $i -lt 10 ]; do i=$((i+1)); echo "b $i"; done; sleep 30');
    await waitFor(async () => (await stored(c.name)).length === 40, 20000, 'the first 40 lines stored');
    const to = `${s.prefix}renkill.n`;
    assert.equal((await s.docker(['rename', c.name, to])).code, 0);
    await sleep(300); // the rename event handled; "b" lines not printed yet
    await s.killPublisher();
    await sleep(2500); // the container prints b 1..10 while no publisher runs
    await s.startPublisher();
    await waitFor(async () => (await stored(to)).length >= 10, 20000, 'the b lines stored').catch(() => {});
    await sleep(1500);
    const recs = await stored(to);
    assert.deepEqual(recs.map((r) => r.line.toString()), Array.from({ length: 10 }, (_, i) => `b ${i + 1}`));
    assert.deepEqual(checkLineNos(recs), []);
    assert.equal((await stored(c.name)).length, 40);
  });

test('renamed a -> b -> a while stopped, then started: each line once, line_no contiguous per subject', async () => {
    const c = await s.run('renback', 'echo "run $(cat /r 2>/dev/null || echo 1)"; echo 2 > /r; i=0; while [ $i -lt 5 ]; do i=$((i+1)); echo "l $i"; done');
    await s.wait(c.name);
    await waitFor(async () => (await stored(c.name)).length === 6, 20000, 'the first run stored');
    await sleep(1000);
    const b = `${s.prefix}renback.b`;
    assert.equal((await s.docker(['rename', c.name, b])).code, 0);
    assert.equal((await s.docker(['start', b])).code, 0);
    await s.wait(b);
    await waitFor(async () => (await stored(b)).length === 6, 20000, 'the second run stored under b');
    await sleep(1000);
    assert.equal((await s.docker(['rename', b, c.name])).code, 0);
    await sleep(500);
    await s.killPublisher();
    await s.startPublisher();
    assert.equal((await s.docker(['start', c.name])).code, 0);
    await s.wait(c.name);
    await waitFor(async () => (await stored(c.name)).length >= 12, 20000, 'the third run stored under a').catch(() => {});
    await sleep(1500);
    const a = await stored(c.name);
    assert.deepEqual(a.map((r) => r.line.toString()).filter((l) => l.startsWith('run')), ['run 1', 'run 2'],
      'subject a: the first and the third run (the third reads "run 2": /r was written once per run)');
    assert.equal(a.length, 12);
    assert.deepEqual(checkLineNos(a), []);
    assert.equal((await stored(b)).length, 6);
  });

test('renamed while no publisher runs (one running, one stopped): the next publisher neither reads them again nor backfills them', async () => {
    const run = await s.run('rendown', 'i=0; while [ $i -lt 30 ]; do i=$((i+1)); echo "a $i"; done; sleep 3; i=0; while [ $i -lt 5 ]; do i=$((i+1)); echo "b $i"; done; sleep 60');
    const stop = await s.run('rendownst', 'i=0; while [ $i -lt 30 ]; do i=$((i+1)); echo "s $i"; done');
    await waitFor(async () => (await stored(run.name)).length === 30 && (await stored(stop.name)).length === 30, 20000, 'the first lines stored');
    await s.wait(stop.name);
    await sleep(500);
    await s.killPublisher();
    const [runTo, stopTo] = [`${s.prefix}rendown.n`, `${s.prefix}rendownst.n`];
    assert.equal((await s.docker(['rename', run.name, runTo])).code, 0);
    assert.equal((await s.docker(['rename', stop.name, stopTo])).code, 0);
    await sleep(3500); // b 1..5 printed while no publisher runs
    await s.startPublisher();
    await waitFor(async () => (await stored(runTo)).length >= 5, 20000, 'the b lines stored').catch(() => {});
    await sleep(2000);
    const recs = await stored(runTo);
    assert.deepEqual(recs.map((r) => r.line.toString()), ['b 1', 'b 2', 'b 3', 'b 4', 'b 5']);
    assert.deepEqual(checkLineNos(recs), []);
    assert.equal((await stored(stopTo)).length, 0, 'the stopped one is not backfilled under its new name');
    const reg = await readRegistry(await s.nc(), s.hostId);
    assert.equal(reg.get(key(run.name))?.state, 'removed');
    assert.equal(reg.get(key(runTo))?.state, 'running');
    assert.equal(reg.get(key(stopTo))?.state, 'exited');
  });

test('a container that exits and one removed while NATS is away: the registry says so once NATS is back', async () => {
    const c = await s.run('regaway', 'echo one; sleep 3; exit 7');
    const r = await s.run('regawayrm', 'echo one; sleep 600');
    await waitFor(async () => (await stored(c.name)).length === 1 && (await stored(r.name)).length === 1, 20000, 'the lines stored');
    await s.stopNats();
    assert.equal((await s.docker(['rm', '-f', r.name])).code, 0);
    await s.wait(c.name);
    await sleep(500);
    await s.startNats();
    const e = await waitFor(async () => {
      const reg = await readRegistry(await s.nc(), s.hostId);
      const a = reg.get(key(c.name)), b = reg.get(key(r.name));
      return a?.state === 'exited' && b?.state === 'removed' ? a : null;
    }, 15000, 'registry entries exited and removed').catch(() => null);
    const reg = await readRegistry(await s.nc(), s.hostId);
    assert.ok(e, `registry: ${JSON.stringify(reg.get(key(c.name)))} ${JSON.stringify(reg.get(key(r.name)))}`);
    assert.equal(e.exitCode, 7);
  });

test('a container renamed after it exited while NATS was away and its log half read: every line stored', async () => {
    // NATS away: the follow's FIFO fills and its transfer pauses with most of the log
    // unread; the container exits and is renamed meanwhile; then NATS comes back.
    await s.stopNats();
    const c = await s.run('renexit', 'i=0; while [ $i -lt 30000 ]; do i=$((i+1)); echo "line $i of a long log that takes a while to read"; done');
    await s.wait(c.name);
    await sleep(1000);
    const to = `${s.prefix}renexit.2`;
    assert.equal((await s.docker(['rename', c.name, to])).code, 0);
    await sleep(1000);
    await s.startNats();
    const all = async () => (await readStream(await s.nc(), 'LOGS', s.hostId)).filter((r) => r.id === c.id);
    let recs = [];
    await waitFor(async () => (recs = await all()).length >= 30000, 30000, 'every line stored').catch(() => {});
    await sleep(1000);
    recs = await all();
    const seen = new Set(recs.map((r) => r.line.toString()));
    let missing = 0;
    for (let i = 1; i <= 30000; i++) if (!seen.has(`line ${i} of a long log that takes a while to read`)) missing++;
    assert.equal(missing, 0, `${missing} of 30000 lines never stored (${recs.length} records)`);
  });
