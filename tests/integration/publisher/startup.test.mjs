// Start-up and first-line timings: containers started in the same instant as the
// publisher, containers that print in their first microseconds, a publisher killed
// early in a container's life. Every container's stored lines are compared with
// `docker logs` (the engine's CLI, an independent reader): none lost, none doubled,
// line_no contiguous from 1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Stack, waitFor, sleep } from '../../lib/harness.mjs';

const seed = Number(process.env.LOGJET_TEST_SEED || Date.now() % 1000000);
console.log(`seed ${seed} (re-run with LOGJET_TEST_SEED=${seed})`);
let state = seed;
/** A small deterministic generator (mulberry32), so a failing seed can be re-run. */
function rand() {
  state = (state + 0x6d2b79f5) | 0;
  let t = Math.imul(state ^ (state >>> 15), 1 | state);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

let s;
before(async () => { s = await Stack.start({ publisher: false, replayDepth: 100000 }); });
after(async () => { if (s) await s.stop(); });

/** `docker logs` of a container as ['STDOUT line', 'STDERR line', ...] per stream. */
async function dockerLines(name) {
  const { stdout, stderr } = await s.dockerLogs(name);
  const split = (b) => b.toString('latin1').split('\n').slice(0, -1);
  return { stdout: split(stdout), stderr: split(stderr) };
}

/**
 * Asserts the subject of name holds exactly what `docker logs` shows: each stream's
 * lines in order, once each, and line_no 1..N over both.
 */
async function assertComplete(name, timeoutMs = 60000) {
  const want = await dockerLines(name);
  const total = want.stdout.length + want.stderr.length;
  let recs = [];
  try {
    await waitFor(async () => {
      recs = await s.records(name);
      return recs.length >= total;
    }, timeoutMs, `${name}: ${total} lines stored`, 300);
  } catch (e) {
    throw new Error(`${e.message}; stored ${recs.length}` +
      (recs.length ? `, first "${recs[0].line}"` : '') + `; docker logs first "${want.stdout[0]}"`);
  }
  await sleep(300);
  recs = await s.records(name);
  const got = { stdout: [], stderr: [] };
  for (const r of recs) got[r.stream === 'STDERR' ? 'stderr' : 'stdout'].push(r.line.toString('latin1'));
  assert.deepEqual(got.stdout, want.stdout, `${name}: stdout as docker logs shows it`);
  assert.deepEqual(got.stderr, want.stderr, `${name}: stderr as docker logs shows it`);
  recs.forEach((r, i) => assert.equal(r.lineNo, i + 1, `${name}: line_no at index ${i}`));
  assert.equal(new Set(recs.map((r) => r.msgId)).size, recs.length, `${name}: message ids unique`);
}

/** The publisher's pid, after a start that was not awaited, for the record. */
async function settle(started) {
  try {
    await started;
  } catch (e) {
    s.dumpLogs();
    throw e;
  }
}

/** libfaketime, to run a publisher whose clock is ahead of the engine's. */
function faketimeLib() {
  for (const dir of ['/usr/lib/x86_64-linux-gnu/faketime', '/usr/lib/aarch64-linux-gnu/faketime',
    '/usr/lib/faketime']) {
    const p = `${dir}/libfaketime.so.1`;
    if (fs.existsSync(p)) return p;
  }
  throw new Error('libfaketime not found: install Debian\'s faketime package (tests/run.sh does)');
}

/**
 * Starts the publisher without waiting for it and, at random moments in the next
 * 1.5 s, six containers: some before it lists the engine, some while it lists, some
 * between the listing and its subscription to /events. Their lines begin 300 ms in,
 * so only following is tested here (first lines have their own test below).
 */
async function sameInstant(tag, rounds) {
  for (let round = 0; round < rounds; round++) {
    const started = s.startPublisher();
    const names = [];
    const runs = [];
    for (let k = 0; k < 6; k++) {
      const delay = Math.floor(rand() * (k === 0 ? 50 : 1500));
      const name = `${tag}${round}x${k}`;
      runs.push(sleep(delay).then(() => s.run(name,
        'sleep 0.3; i=1; while [ $i -le 30 ]; do echo "line $i"; i=$((i+1)); usleep 50000; done; echo done >&2')));
      names.push(`${s.prefix}${name}`);
    }
    await Promise.all(runs);
    await settle(started);
    for (const n of names) await s.wait(n);
    for (const n of names) await assertComplete(n);
    await s.killPublisher('SIGTERM');
  }
}

test('containers started in the same instant as the publisher are all followed', async () => {
  // Eight idle containers make the listing take a while, as on a real host.
  for (let k = 0; k < 8; k++) await s.run(`idle${k}`, 'sleep 3600');
  await sameInstant('same', 2);
  // The publisher's clock 5 s ahead of the engine's (a remote engine over tcp://, a VM
  // without NTP): a since= taken from our clock would skip every event up to the
  // subscription, and the containers started after the listing were never followed.
  // (An ASan build refuses a preloaded library ahead of its runtime unless told not to.)
  s.opts.env = { LD_PRELOAD: faketimeLib(), FAKETIME: '+5s', DONT_FAKE_MONOTONIC: '1',
    ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'verify_asan_link_order=0'].filter(Boolean).join(':') };
  try {
    await sameInstant('ahead', 3);
  } finally {
    s.opts.env = undefined;
  }
  for (let k = 0; k < 8; k++) await s.docker(['rm', '-f', `${s.prefix}idle${k}`]);
});

test('containers printing in their first microseconds, picked up from the listing: first lines kept', async () => {
  // Docker stamps a fast container's first lines up to a few ms before State.StartedAt.
  // These containers start and print while no publisher runs; it finds them listed.
  const names = [];
  for (let k = 0; k < 4; k++) {
    const c = await s.run(`early${k}`, 'echo first; echo first-err >&2; i=2; while [ $i -le 20 ]; do echo "line $i"; i=$((i+1)); done; sleep 30');
    names.push(c.name);
  }
  const burst = await s.run('burst', 'i=1; while [ $i -le 3000 ]; do echo "tight $i"; i=$((i+1)); done; sleep 30');
  names.push(burst.name);
  await sleep(500);
  await s.startPublisher();
  for (const n of names) await assertComplete(n);
  for (const n of names) await s.docker(['rm', '-f', n]);
  await s.killPublisher('SIGTERM');
});

test('kill -9 of the publisher early in a container\'s life, then a restart: first lines kept', async () => {
  await s.startPublisher();
  // Killed before, while or after it stored the first lines: the next publisher either
  // resumes from a stored record or starts from what the engine says of the run.
  for (let round = 0; round < 6; round++) {
    const delay = Math.floor(rand() * (round % 2 ? 1500 : 300));
    const c = await s.run(`killed${round}`, 'echo one; echo err-one >&2; i=2; while [ $i -le 40 ]; do echo "line $i"; i=$((i+1)); usleep 50000; done');
    await sleep(delay);
    await s.killPublisher('SIGKILL');
    await sleep(Math.floor(rand() * 500));
    await s.startPublisher();
    await s.wait(c.name);
    await assertComplete(c.name);
  }
  await s.killPublisher('SIGTERM');
});

test('a container restarted while no publisher runs: every run, as docker logs shows it', async () => {
  // No publisher ever stored it: what the engine holds of it is new, from Created.
  const c = await s.run('again', 'echo "run $(cat /n 2>/dev/null || echo 1)"; echo 2 > /n; echo second-line; sleep 2');
  await s.wait(c.name);
  assert.equal((await s.docker(['start', c.name])).code, 0);
  await s.startPublisher();
  await s.wait(c.name);
  await assertComplete(c.name);
  assert.deepEqual((await s.records(c.name)).map((r) => r.line.toString()),
    ['run 1', 'second-line', 'run 2', 'second-line']);
  await s.killPublisher('SIGTERM');
});
