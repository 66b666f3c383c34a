// bench/publisher/bench.mjs - the publisher benchmark (run by hand; not a test).
//
//   node bench/publisher/bench.mjs [lines=1000000]
//
// In one run, against the real engine and a fresh nats-server:
//   (a) lines/s the engine delivers to a plain reader: curl following a container that
//       prints N lines of ~100 bytes;
//   (b) msgs/s a bare nats.c async-publish loop (bench/publisher/jspub.c) stores into the
//       same stream with the same record size;
//   (c) lines/s logjet-publisher stores end to end for the same kind of container;
// plus publisher CPU per 1000 lines, write->stored latency at 200 lines/s, and peak RSS
// following 100 idle containers. Prints a Markdown block for bench/RESULTS.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Stack, run, sleep, waitFor, proto, BUILD_DIR, DOCKER_HOST } from '../../tests/lib/harness.mjs';

const N = Number(process.argv[2] || 1000000);
const LINE = 'awk \'BEGIN{for(i=1;i<=N;i++) printf "%07d the quick brown fox jumps over the lazy dog level=info request_id=abcdef0123 took=12ms\\n", i}\''
  .replace('N;', `${N};`);

function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // clock ticks (USER_HZ = 100)
}
function vmHWM(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
const pct = (a, p) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p / 100 * a.length))];

async function engineReader(s) {
  // (a) curl follows a container that starts printing 1 s later.
  const c = await s.run('reader', `sleep 1; ${LINE}`);
  const sock = DOCKER_HOST.replace('unix://', '');
  const t0 = process.hrtime.bigint();
  const r = await run('sh', ['-c', `curl -sN --unix-socket ${sock} 'http://localhost/v1.41/containers/${c.id}/logs?stdout=1&stderr=1&follow=1&timestamps=1' | wc -l`]);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9 - 1; // minus the container's sleep
  return { lines: Number(r.stdout.trim()), secs, rate: Number(r.stdout.trim()) / secs };
}

async function publisherEndToEnd(s) {
  const pid = s.procs.publisher.pid;
  const cpu0 = cpuSeconds(pid);
  const c = await s.run('e2e', LINE);
  const t0 = Date.now();
  const key = `logjet_publisher_lines_total{container="${s.hostId}/${c.name}"}`;
  await waitFor(async () => (await s.metrics('publisher'))[key] >= N, 600000, 'publisher to store all lines', 100);
  const secs = (Date.now() - t0) / 1000;
  const cpu = cpuSeconds(pid) - cpu0;
  const nc = await s.nc();
  const info = await (await nc.jetstreamManager()).streams.info('LOGS');
  return { secs, rate: N / secs, cpuPer1000: cpu / N * 1000 * 1000, avgBytes: info.state.bytes / info.state.messages, name: c.name };
}

async function bareNats(s, size) {
  const bin = path.join(BUILD_DIR, 'bench/publisher/jspub');
  const r = await run(bin, [s.natsUrl, `logs.bench.jspub${Date.now()}`, String(N), String(size)]);
  const m = /jspub (\d+) msgs ([\d.]+) s (\d+) msgs\/s/.exec(r.stdout);
  if (!m) throw new Error(`jspub: ${r.stdout} ${r.stderr}`);
  return { secs: Number(m[2]), rate: Number(m[3]) };
}

async function latency(s) {
  const { LogRecord } = await proto();
  const c = await s.run('lat', 'sleep 1; i=0; while [ $i -lt 2000 ]; do echo "latency probe $i"; usleep 5000; i=$((i+1)); done');
  const nc = await s.nc();
  const sub = nc.subscribe(s.subject(c.name, 'live.logs'));
  const out = [];
  const originNs = BigInt(Math.round(performance.timeOrigin * 1000)) * 1000n;
  for await (const m of sub) {
    const now = originNs + BigInt(Math.round(performance.now() * 1e6));
    const rec = LogRecord.toObject(LogRecord.decode(m.data), { longs: String });
    out.push(Number(now - BigInt(rec.tsUnixNano)) / 1e6);
    if (out.length === 2000) break;
  }
  return { p50: pct(out, 50), p99: pct(out, 99), max: Math.max(...out) };
}

async function idleRss() {
  const s = await Stack.start({ publisher: false });
  try {
    const names = [];
    for (let i = 0; i < 100; i++) names.push((await s.run(`idle${i}`, 'sleep 3600')).name);
    await s.startPublisher();
    await waitFor(async () => (await s.metrics('publisher')).logjet_publisher_containers_followed >= 100, 60000, '100 follows');
    await sleep(2000);
    return vmHWM(s.procs.publisher.pid);
  } finally {
    await s.stop();
  }
}

const s = await Stack.start({ publisher: true });
try {
  const c = await publisherEndToEnd(s);
  const a = await engineReader(s);
  const b = await bareNats(s, Math.round(c.avgBytes));
  const lat = await latency(s);
  await s.stop();
  const rss = await idleRss();
  const date = new Date().toISOString().slice(0, 10);
  const cpuModel = os.cpus()[0].model;
  const floor = Math.min(a.rate, b.rate);
  console.log(`### Publisher, ${date}, ${os.cpus().length} x ${cpuModel}, ${N} lines of ~100 bytes
| measure | result |
|---|---|
| (a) engine to a plain reader (curl, live follow) | ${Math.round(a.rate)} lines/s |
| (b) bare nats.c async publish, same stream, ${Math.round(c.avgBytes)}-byte records | ${Math.round(b.rate)} msgs/s |
| (c) logjet-publisher end to end | ${Math.round(c.rate)} lines/s |
| (c) / min(a, b) | ${(c.rate / floor * 100).toFixed(0)} % (target >= 90 %) |
| publisher CPU per 1000 lines | ${c.cpuPer1000.toFixed(1)} ms |
| Docker timestamp -> live.logs subscriber, 200 lines/s | p50 ${lat.p50.toFixed(2)} ms, p99 ${lat.p99.toFixed(2)} ms, max ${lat.max.toFixed(1)} ms |
| peak RSS following 100 idle containers | ${rss.toFixed(1)} MB (target < 30 MB) |`);
} catch (e) {
  s.dumpLogs();
  await s.stop();
  throw e;
}
