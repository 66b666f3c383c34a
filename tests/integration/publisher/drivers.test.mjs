// Logging drivers: `local` (and syslog through the engine's dual-logging cache) is read
// like `json-file`; a driver the Engine API cannot read (none, syslog with
// cache-disabled=true) is reported once, with the driver's name and Docker's own reason, and
// shown in the registry with that reason, never retried in a loop.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Stack, waitFor, sleep, proto, token } from '../../lib/harness.mjs';

let s;
before(async () => { s = await Stack.start({ publisher: true }); });
after(async () => { if (s) await s.stop(); });

async function registryEntry(name) {
  const nc = await s.nc();
  const kv = await nc.jetstream().views.kv('LOGJET_CONTAINERS');
  const { ContainerInfo } = await proto();
  const e = await kv.get(`${token(s.hostId)}.${token(name)}`);
  return e && e.value.length ? ContainerInfo.toObject(ContainerInfo.decode(e.value), { defaults: true }) : null;
}

// syslog without cache-disabled is read through the engine's dual-logging cache (20.10+).
const readable = [
  ['json-file', []],
  ['local', []],
  ['syslog', ['--log-opt', 'syslog-address=udp://127.0.0.1:9']],
];
for (const [driver, opts] of readable) {
  test(`--log-driver ${driver} ${opts.join(' ')}: every line, as docker logs shows it`, async () => {
    const c = await s.run(`drv-${driver}`, 'echo first; echo err >&2; i=2; while [ $i -le 500 ]; do echo "line $i"; i=$((i+1)); done',
      { logDriver: driver, args: opts });
    await s.wait(c.name);
    // The dual-logging cache behind syslog is written asynchronously, after each line
    // went to the syslog socket (an unanswered UDP port here): on a busy machine docker
    // logs lags the container's exit by seconds.
    const count = (b) => b.toString().split('\n').length - 1;
    let seen = 0;
    const { stdout, stderr } = await waitFor(async () => {
      const l = await s.dockerLogs(c.name);
      seen = count(l.stdout) + count(l.stderr);
      return seen === 501 ? l : null;
    }, 30000, `docker logs of ${c.name} to show 501 lines`, 200).catch((e) => {
      throw new Error(`${e.message} (it shows ${seen})`);
    });
    const want = 501;
    const recs = await waitFor(async () => {
      const r = await s.records(c.name);
      return r.length >= want ? r : null;
    }, 30000, `${want} lines of ${c.name}`, 300);
    assert.deepEqual(recs.filter((r) => r.stream === 'STDOUT').map((r) => r.line.toString()),
      stdout.toString().split('\n').slice(0, -1));
    assert.deepEqual(recs.filter((r) => r.stream === 'STDERR').map((r) => r.line.toString()), ['err']);
    recs.forEach((r, i) => assert.equal(r.lineNo, i + 1));
    const info = await registryEntry(c.name);
    assert.equal(info.unreadableReason, '');
  });
}

const unreadable = [
  ['none', []],
  ['syslog', ['--log-opt', 'syslog-address=udp://127.0.0.1:9', '--log-opt', 'cache-disabled=true']],
];
for (const [driver, opts] of unreadable) {
  test(`--log-driver ${driver} ${opts.join(' ')}: logged once with Docker's reason, in the registry, not retried`, async () => {
    const c = await s.run(`nodrv-${driver}`, 'while true; do echo tick; sleep 0.2; done',
      { logDriver: driver, args: opts });
    const info = await waitFor(async () => {
      const e = await registryEntry(c.name);
      return e && e.unreadableReason ? e : null;
    }, 15000, `registry entry of ${c.name} with a reason`, 200);
    assert.match(info.unreadableReason, /does not support reading/);
    assert.equal(info.state, 'running');
    await sleep(3000);
    const log = fs.readFileSync(s.procs.publisher.logPath, 'utf8').split('\n')
      .filter((l) => l.includes(c.name));
    const said = log.filter((l) => l.includes('cannot read this container'));
    assert.equal(said.length, 1, `one report, got:\n${log.join('\n')}`);
    assert.match(said[0], new RegExp(`log_driver=${driver}\\b`));
    assert.match(said[0], /does not support reading/);
    assert.ok(!log.some((l) => l.includes('retrying')), `no retries:\n${log.join('\n')}`);
    assert.equal((await s.records(c.name)).length, 0);
    const m = await s.metrics('publisher');
    assert.ok(!Object.keys(m).some((k) => k.includes(c.name) && k.startsWith('logjet_publisher_lines_total')) ||
      m[`logjet_publisher_lines_total{container="${s.hostId}/${c.name}"}`] === 0);
    // A restart of such a container is not a reason to try again either.
    assert.equal((await s.docker(['restart', '-t', '0', c.name])).code, 0);
    await sleep(1500);
    const again = fs.readFileSync(s.procs.publisher.logPath, 'utf8').split('\n')
      .filter((l) => l.includes(c.name) && (l.includes('retrying') || l.includes('cannot read this')));
    assert.equal(again.length, 1, again.join('\n'));
    await s.docker(['rm', '-f', c.name]);
  });
}
