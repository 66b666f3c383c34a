// The Docker engine process itself stopped (SIGTERM) and started again, with containers
// printing throughout: one with --restart always (it comes back with the engine), one
// without a restart policy (it stays stopped), one that had already exited. Every line
// before and after is stored exactly once (checked with tests/chaos/checker.mjs, which
// reads the engine and JetStream with its own code).
//
// The test starts its own dockerd (private socket, data and exec roots) so that it can
// stop it; it is skipped where that is not possible (not root, no dockerd).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Stack, run, waitFor, sleep } from '../../lib/harness.mjs';
import { Engine, readStream, compareContainer, checkLineNos } from '../../chaos/checker.mjs';

const canRun = process.getuid?.() === 0 && fs.existsSync('/usr/sbin/dockerd') && fs.existsSync('/bin/busybox');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logjet-dockerd-'));
const sock = path.join(dir, 'd.sock');
const HOST = `unix://${sock}`;
const IMAGE = 'logjet-test-busybox';
let dockerd = null, s = null;

const dk = (args, opts = {}) => run('docker', args, { ...opts, env: { ...process.env, DOCKER_HOST: HOST } });

async function startDockerd() {
  const out = fs.openSync(path.join(dir, 'dockerd.log'), 'a');
  dockerd = spawn('dockerd', ['--host', HOST, '--data-root', path.join(dir, 'data'),
    '--exec-root', path.join(dir, 'exec'), '--pidfile', path.join(dir, 'pid'),
    '--iptables=false', '--ip-forward=false', '--bridge=none'], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const exited = new Promise((r) => dockerd.once('exit', r));
  dockerd.exitedP = exited;
  await waitFor(async () => (await dk(['version'])).code === 0, 60000, 'own dockerd', 200);
}

async function stopDockerd() {
  if (!dockerd || dockerd.exitCode !== null) return;
  dockerd.kill('SIGTERM');
  const t = setTimeout(() => dockerd.kill('SIGKILL'), 60000);
  await dockerd.exitedP;
  clearTimeout(t);
}

before(async () => {
  if (!canRun) return;
  await startDockerd();
  const img = path.join(dir, 'image');
  fs.mkdirSync(path.join(img, 'bin'), { recursive: true });
  fs.copyFileSync('/bin/busybox', path.join(img, 'bin/busybox'));
  fs.chmodSync(path.join(img, 'bin/busybox'), 0o755);
  const r = await run('sh', ['-c', `for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox '${img}'/bin/$a; done; ` +
    `tar -C '${img}' -c . | docker import --change 'ENV PATH=/bin' - ${IMAGE}`], { env: { ...process.env, DOCKER_HOST: HOST } });
  assert.equal(r.code, 0, r.stderr);
  s = await Stack.start({ publisher: true, replayDepth: 100000, dockerHost: HOST });
});

after(async () => {
  if (s) await s.stop();
  if (dockerd) {
    const ids = (await dk(['ps', '-aq'])).stdout.split('\n').filter(Boolean);
    if (ids.length) await dk(['rm', '-f', ...ids]);
    await stopDockerd();
  }
  // dockerd unmounts its layers on exit; anything still mounted is left, not forced.
  if (!fs.readFileSync('/proc/mounts', 'utf8').includes(dir)) fs.rmSync(dir, { recursive: true, force: true });
});

test('dockerd stopped and started again: every line before and after stored once', { skip: !canRun && 'needs root and dockerd' }, async () => {
  // The trap lets the engine's shutdown stop them at once (sh as PID 1 ignores TERM).
  const printer = (tag) => `trap 'echo "${tag} term" >&2; exit 0' TERM; i=0; ` +
    `while true; do i=$((i+1)); echo "${tag} $i"; if [ $((i % 5)) -eq 0 ]; then echo "${tag} e$i" >&2; fi; usleep 3000; done`;
  const mk = async (name, script, extra = []) => {
    const r = await dk(['run', '-d', '--network', 'none', '--name', s.prefix + name, '--log-driver', 'json-file',
      ...extra, IMAGE, 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    return r.stdout.trim();
  };
  const always = await mk('always', printer('always'), ['--restart', 'always']);
  const plain = await mk('plain', printer('plain'));
  const done = await mk('done', 'i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "done $i"; done');
  const burst = await mk('burst.1', 'trap "exit 0" TERM; i=0; while [ $i -lt 3000 ]; do i=$((i+1)); echo "burst $i"; done; sleep 3; while true; do usleep 100000; done', ['--restart', 'always']);
  await sleep(2500);
  await stopDockerd();
  await sleep(1500);
  await startDockerd();
  const engine = new Engine(HOST);
  // The restart policy brings these back; the others stay stopped.
  await waitFor(async () => (await engine.inspect(always))?.State.Running, 30000, 'always to run again');
  const plainInfo = await engine.inspect(plain);
  assert.equal(plainInfo.State.Running, false, 'the container without a restart policy stays stopped');
  await sleep(2500);
  for (const id of [always, burst]) await dk(['stop', '-t', '1', id]);
  const ids = [always, plain, done, burst];
  const logs = new Map();
  for (const id of ids) logs.set(id, await engine.logs(id, false));
  const total = [...logs.values()].reduce((a, l) => a + l.lines.length, 0);
  const nc = await s.nc();
  let recs = [];
  await waitFor(async () => {
    recs = await readStream(nc, 'LOGS', s.hostId);
    return recs.length >= total;
  }, 60000, `${total} lines stored`, 500).catch(() => {});
  await sleep(1000);
  recs = await readStream(nc, 'LOGS', s.hostId);
  const report = [];
  let bad = 0;
  for (const id of ids) {
    const info = await engine.inspect(id);
    const events = [];
    // Run windows from the engine's state: the restarted ones have two runs.
    const v = compareContainer({ id, tty: false, removed: false, log: logs.get(id), events, knownWindows: [] },
      recs.filter((r) => r.id === id), 65536);
    report.push(`${info.Name} restarts=${info.RestartCount} expected=${v.expected} stored=${v.stored} lost=${v.lost} doubled=${v.doubled} extra=${v.extra}`);
    bad += v.lost + v.doubled + v.extra;
    if (v.lost + v.doubled + v.extra) report.push(...v.problems.slice(0, 10));
  }
  const lineNo = checkLineNos(recs);
  console.log(report.join('\n'));
  assert.deepEqual(lineNo, [], 'line_no contiguous per subject');
  assert.equal(bad, 0, report.join('\n'));
  // Lines from both sides of the engine restart are there.
  const alwaysLines = logs.get(always).lines.map((l) => l.line.toString());
  assert.ok(alwaysLines.includes('always term'), 'the first run was stopped by the engine');
  assert.ok(alwaysLines.filter((l) => l === 'always 1').length === 2, 'and a second run began');
  const m = await s.metrics('publisher');
  assert.ok(m.logjet_publisher_engine_reconnects_total >= 1, 'the publisher saw the engine go');
});
