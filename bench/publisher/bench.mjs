// bench/publisher/bench.mjs - the publisher benchmark (run by hand; not a test).
//
//   node bench/publisher/bench.mjs [lines=500000] [rounds=3]
//   (after: meson compile -C build bench/publisher/jspub bench/publisher/livelat)
//
// One nats-server, one logjet-publisher (already running before any measured line), the
// real engine. Each round runs three phases back to back, so they share the machine's
// state of the moment:
//   (a) docker follow: curl follows the engine's logs endpoint of a container printing
//       N lines of ~100 bytes (a container the publisher does not follow);
//   (b) bare loop: bench/publisher/jspub stores N messages of the publisher's record size
//       with a Nats-Msg-Id of the publisher's form into a subject of the same LOGS stream
//       (same file storage, per-subject limit, duplicate window and RePublish), in each
//       strategy of BARE_MODES; the fastest is the round's ceiling;
//   (c) publisher: a container printing N lines, followed live by the publisher.
// (b) and (c) are counted from JetStream (the stream's last sequence, polled every 10 ms
// from the first stored message to the N-th), never from the publisher's metrics; (c) is
// then checked exact (N messages stored, the last one's line_no is N). (a) is timed from
// the first to the last byte curl receives.
// Then: Docker timestamp -> core NATS subscriber on live.logs latency at 200 lines/s
// (LAT_RUNS runs of 2000 lines), and peak RSS following 100 idle containers (RSS=1).
// Prints a Markdown block for bench/RESULTS.md: machine, load before/after, every round,
// median [min-max], the ratio (c)/min(a,b), CPU per line of each process.
//
// Environment: COMPARE (a second build dir, see below), JSPUB and LIVELAT (the helpers;
// default the build's), BARE_MODES (default "async:4096,batch:1024,asap:1024": jspub MODE:DEPTH),
// LAT_RUNS (3), RSS (0), plus the test harness's LOGJET_TEST_DOCKER_HOST / _IMAGE.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Stack, docker, run, sleep, waitFor, proto, BUILD_DIR, DOCKER_HOST, IMAGE } from '../../tests/lib/harness.mjs';

const N = Number(process.argv[2] || 500000);
const ROUNDS = Number(process.argv[3] || 3);
const BARE_MODES = (process.env.BARE_MODES || 'async:4096,batch:1024,asap:1024').split(',');
const LAT_RUNS = Number(process.env.LAT_RUNS || 3);
const script = (n) => `sleep 1; awk 'BEGIN{for(i=1;i<=${n};i++) printf "%07d the quick brown fox jumps over the lazy dog level=info request_id=abcdef0123 took=12ms\\n", i}'`;

// ---- CPU accounting ----------------------------------------------------------------
function cpuSeconds(pid) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, USER_HZ = 100
  } catch { return NaN; }
}
function machineBusy() {
  const v = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (v.slice(0, 8).reduce((a, b) => a + b, 0) - v[3] - v[4]) / 100;
}
function dockerdPid() {
  const sock = DOCKER_HOST.replace('unix://', '');
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (path.basename(cmd[0]) === 'dockerd' && cmd.some((a) => a.includes(sock))) return Number(d);
    } catch { /* gone */ }
  }
  return null;
}
class CpuMeter {
  constructor(pids) { this.pids = pids; }
  start() { this.t0 = performance.now(); this.m0 = machineBusy(); this.c0 = this.snap(); }
  snap() { return Object.fromEntries(Object.entries(this.pids).map(([k, p]) => [k, p ? cpuSeconds(p) : NaN])); }
  stop() {
    const secs = (performance.now() - this.t0) / 1000, c1 = this.snap();
    const cores = Object.fromEntries(Object.keys(c1).map((k) => [k, (c1[k] - this.c0[k]) / secs]));
    return { secs, machine: (machineBusy() - this.m0) / secs, cores };
  }
}

const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const median = (a) => { const s = a.slice().sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const pct = (a, p) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(p / 100 * a.length))];
const k = (x) => `${(x / 1000).toFixed(1)}k`;
const spread = (a, f = k) => `${f(median(a))} [${f(Math.min(...a))}-${f(Math.max(...a))}]`;

// ---- counting what JetStream stored -----------------------------------------------
async function lastSeq(jsm) { return (await jsm.streams.info('LOGS')).state.last_seq; }

/** Polls the stream until n more messages than base are stored; returns the time from
 *  the first stored message to the n-th. */
async function storedRate(jsm, base, n, timeoutMs = 600000) {
  let t0 = 0, t1 = 0, seq = base;
  const deadline = Date.now() + timeoutMs;
  while (seq - base < n) {
    if (Date.now() > deadline) throw new Error(`only ${seq - base} of ${n} stored`);
    await sleep(10);
    seq = await lastSeq(jsm);
    const now = performance.now();
    if (!t0 && seq > base) t0 = now;
    t1 = now;
  }
  return { stored: seq - base, secs: (t1 - t0) / 1000, rate: (seq - base - 1) / ((t1 - t0) / 1000) };
}

// ---- phases ---------------------------------------------------------------------------
async function dockerFollow(s, pids) {
  // A name outside the stack's prefix: the publisher (--include ^prefix) leaves it alone.
  const name = `ljbench-follow-${s.prefix}${Date.now()}`;
  const r = await docker(['run', '-d', '--network', 'none', '--name', name, '--log-driver', 'json-file',
    '--log-opt', 'max-size=200m', IMAGE, 'sh', '-c', script(N)]);
  if (r.code !== 0) throw new Error(`docker run: ${r.stderr}`);
  const id = r.stdout.trim();
  try {
    const cpu = new CpuMeter(pids);
    const curl = spawn('curl', ['-sN', '--unix-socket', DOCKER_HOST.replace('unix://', ''),
      `http://localhost/v1.41/containers/${id}/logs?stdout=1&stderr=1&follow=1&timestamps=1`]);
    let lines = 0, t0 = 0, t1 = 0;
    curl.stdout.on('data', (b) => {
      const now = performance.now();
      if (!t0) { t0 = now; cpu.start(); }
      t1 = now;
      for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) lines++;
    });
    await new Promise((resolve) => curl.on('close', resolve));
    const c = cpu.stop();
    if (lines !== N) throw new Error(`docker follow: ${lines} of ${N} lines`);
    return { rate: (lines - 1) / ((t1 - t0) / 1000), cpu: c };
  } finally {
    await docker(['rm', '-f', id]);
  }
}

async function bareLoop(s, jsm, size, mode, pids) {
  const [m, depth] = mode.split(':');
  const bin = process.env.JSPUB || path.join(BUILD_DIR, 'bench/publisher/jspub');
  const base = await lastSeq(jsm);
  const child = spawn(bin, [s.natsUrl, `logs.${s.hostId}.jspub-${Date.now()}`, String(N), String(size), m, depth],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => { out += b; });
  child.stderr.on('data', (b) => { out += b; });
  const cpu = new CpuMeter(pids);
  cpu.start();
  const st = await storedRate(jsm, base, N);
  const c = cpu.stop();
  const code = await new Promise((resolve) => child.exitCode !== null ? resolve(child.exitCode) : child.on('exit', resolve));
  if (code !== 0) throw new Error(`jspub ${mode}: ${out}`);
  const u = / ([\d.]+) s [\d]+ msgs\/s .* cpu ([\d.]+) s/.exec(out);
  c.cores.jspub = u ? Number(u[2]) / Number(u[1]) : NaN; // its whole run, from its own rusage
  return { mode, rate: st.rate, cpu: c };
}

let liveRuns = 0;
async function publisherLive(s, jsm, pids, n = N) {
  const base = await lastSeq(jsm);
  const c = await s.run(`live${++liveRuns}`, script(n));
  const cpu = new CpuMeter(pids);
  cpu.start();
  const st = await storedRate(jsm, base, n);
  const used = cpu.stop();
  await s.wait(c.name);
  await sleep(300);
  const stored = (await lastSeq(jsm)) - base;
  const last = await jsm.streams.getMessage('LOGS', { last_by_subj: s.subject(c.name) });
  const { LogRecord } = await proto();
  const rec = LogRecord.decode(last.data);
  const lineNo = typeof rec.lineNo === 'object' ? rec.lineNo.toNumber() : Number(rec.lineNo);
  if (stored !== n || lineNo !== n) throw new Error(`publisher stored ${stored} of ${n}, last line_no ${rec.lineNo}`);
  return { rate: st.rate, cpu: used, recordBytes: last.data.length, msgId: last.header.get('Nats-Msg-Id') };
}

/** Docker timestamp -> live.logs subscriber, measured by bench/publisher/livelat (C,
 *  CLOCK_REALTIME on receipt: Node's performance.timeOrigin can be off by as long as the
 *  process was descheduled while starting, tens of ms on a loaded machine). */
async function latency(s) {
  const bin = process.env.LIVELAT || path.join(BUILD_DIR, 'bench/publisher/livelat');
  const name = `lat${++liveRuns}`;
  const probe = spawn(bin, [s.natsUrl, s.subject(s.prefix + name, 'live.logs'), '2000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  probe.stdout.on('data', (b) => { out += b; });
  probe.stderr.on('data', (b) => { out += b; });
  await waitFor(() => out.includes('ready') || probe.exitCode !== null, 10000, 'livelat ready');
  await s.run(name, 'sleep 1; i=0; while [ $i -lt 2000 ]; do echo "latency probe $i"; usleep 5000; i=$((i+1)); done');
  const code = await new Promise((resolve) => probe.exitCode !== null ? resolve(probe.exitCode) : probe.on('exit', resolve));
  const m = /livelat (\d+) p50 ([\d.-]+) p90 ([\d.-]+) p99 ([\d.-]+) max ([\d.-]+)/.exec(out);
  if (code !== 0 || !m) throw new Error(`livelat: ${out}`);
  return { p50: Number(m[2]), p90: Number(m[3]), p99: Number(m[4]), max: Number(m[5]) };
}

async function idleRss() {
  const s = await Stack.start({ publisher: false });
  try {
    for (let i = 0; i < 100; i++) await s.run(`idle${i}`, 'sleep 3600');
    await s.startPublisher();
    await waitFor(async () => (await s.metrics('publisher')).logjet_publisher_containers_followed >= 100, 60000, '100 follows');
    await sleep(2000);
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${s.procs.publisher.pid}/status`, 'utf8'));
    return Number(m[1]) / 1024;
  } finally {
    await s.stop();
  }
}

// ---- main -------------------------------------------------------------------------------
// COMPARE=<build dir>: a second stack (own nats-server, own prefix) runs that build's
// publisher, measured as (c') in every round right after (c), so that a before/after
// pair shares the machine's moment. The harness reads LOGJET_BUILD_DIR when loaded: a
// second instance of it is loaded with the other directory.
async function compareStack() {
  if (!process.env.COMPARE) return null;
  const saved = process.env.LOGJET_BUILD_DIR;
  process.env.LOGJET_BUILD_DIR = process.env.COMPARE;
  const h = await import('../../tests/lib/harness.mjs?compare');
  if (saved === undefined) delete process.env.LOGJET_BUILD_DIR; else process.env.LOGJET_BUILD_DIR = saved;
  return h.Stack.start({ publisher: true });
}

const loadBefore = loadavg();
const started = new Date();
const s = await Stack.start({ publisher: true });
const s2 = await compareStack();
const rows = [], lat = [], lat2 = [];
let warm;
try {
  const nc = await s.nc();
  const jsm = await nc.jetstreamManager();
  const pids = { publisher: s.procs.publisher.pid, nats: s.procs.nats.pid, dockerd: dockerdPid() };
  const jsm2 = s2 && await (await s2.nc()).jetstreamManager();
  const pids2 = s2 && { publisher: s2.procs.publisher.pid, nats: s2.procs.nats.pid, dockerd: pids.dockerd };
  warm = await publisherLive(s, jsm, pids, 2000); // the record size (b) must match
  if (s2) await publisherLive(s2, jsm2, pids2, 2000);
  for (let r = 1; r <= ROUNDS; r++) {
    const a = await dockerFollow(s, pids);
    const bs = [];
    for (const mode of BARE_MODES) bs.push(await bareLoop(s, jsm, warm.recordBytes, mode, pids));
    const b = bs.reduce((x, y) => (y.rate > x.rate ? y : x));
    const c = await publisherLive(s, jsm, pids);
    const c2 = s2 && await publisherLive(s2, jsm2, pids2);
    const floor = Math.min(a.rate, b.rate);
    rows.push({ r, a, bs, b, c, c2, ratio: c.rate / floor, ratio2: c2 && c2.rate / floor, load: loadavg() });
    console.error(`round ${r}: a ${k(a.rate)} b ${bs.map((x) => `${x.mode} ${k(x.rate)}`).join(', ')} c ${k(c.rate)} ratio ${rows.at(-1).ratio.toFixed(2)}` +
      (c2 ? ` c' ${k(c2.rate)} ratio ${rows.at(-1).ratio2.toFixed(2)}` : ''));
  }
  for (let i = 0; i < LAT_RUNS; i++) {
    lat.push(await latency(s));
    if (s2) lat2.push(await latency(s2));
  }
} catch (e) {
  s.dumpLogs();
  await s.stop();
  await s2?.stop();
  throw e;
}
await s.stop();
await s2?.stop();
const rss = process.env.RSS === '1' ? await idleRss() : null;
const loadAfter = loadavg();

const us = (cpu, who, rate) => (cpu.cores[who] / rate * 1e6).toFixed(1);
const cores = (cpu) => Object.entries(cpu.cores).map(([w, c]) => `${w} ${c.toFixed(2)}`).join(', ');
let md = `Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} x ${os.cpus()[0].model}, ` +
  `load average ${loadBefore} before, ${loadAfter} after; ${N} lines of ~100 bytes a phase, ` +
  `record ${warm.recordBytes} bytes, Msg-Id like ${warm.msgId} (${warm.msgId.length} chars)\n\n` +
  (s2 ? `(c') is the publisher built in ${process.env.COMPARE}, in its own stack, right after (c)\n\n` : '') +
  `| round | (a) docker follow | (b) bare loop (${BARE_MODES.join(', ')}) | (c) publisher | (c) / min(a, b) |${s2 ? " (c') | (c') / min(a, b) |" : ''} load after |\n` +
  `|---|---|---|---|---|${s2 ? '---|---|' : ''}---|\n`;
for (const x of rows) {
  md += `| ${x.r} | ${k(x.a.rate)} lines/s | ${x.bs.map((b) => k(b.rate)).join(', ')} msgs/s | ${k(x.c.rate)} lines/s | ${x.ratio.toFixed(2)} |` +
    (x.c2 ? ` ${k(x.c2.rate)} lines/s | ${x.ratio2.toFixed(2)} |` : '') + ` ${x.load} |\n`;
}
const A = rows.map((x) => x.a.rate), B = rows.map((x) => x.b.rate), C = rows.map((x) => x.c.rate), R = rows.map((x) => x.ratio);
md += `| median [min-max] | ${spread(A)} | ${spread(B)} | ${spread(C)} | ${spread(R, (v) => v.toFixed(2))} |` +
  (s2 ? ` ${spread(rows.map((x) => x.c2.rate))} | ${spread(rows.map((x) => x.ratio2), (v) => v.toFixed(2))} |` : '') + ' |\n\n';
const mid = rows.slice().sort((x, y) => x.ratio - y.ratio)[Math.floor(rows.length / 2)];
const c2 = s2 ? ` | (c')` : '', sep2 = s2 ? '---|' : '';
md += `| CPU, cores busy during the phase (round ${mid.r}, the median ratio) | (a) | (b) fastest | (c)${c2} |\n|---|---|---|---|${sep2}\n`;
md += `| machine (of ${os.cpus().length}) | ${mid.a.cpu.machine.toFixed(2)} | ${mid.b.cpu.machine.toFixed(2)} | ${mid.c.cpu.machine.toFixed(2)}${s2 ? ` | ${mid.c2.cpu.machine.toFixed(2)}` : ''} |\n`;
md += `| processes | ${cores(mid.a.cpu)} | ${cores(mid.b.cpu)} | ${cores(mid.c.cpu)}${s2 ? ` | ${cores(mid.c2.cpu)}` : ''} |\n`;
md += `| us of CPU per line: nats-server | | ${us(mid.b.cpu, 'nats', mid.b.rate)} | ${us(mid.c.cpu, 'nats', mid.c.rate)}${s2 ? ` | ${us(mid.c2.cpu, 'nats', mid.c2.rate)}` : ''} |\n`;
md += `| us of CPU per line: jspub / publisher | | ${us(mid.b.cpu, 'jspub', mid.b.rate)} | ${us(mid.c.cpu, 'publisher', mid.c.rate)}${s2 ? ` | ${us(mid.c2.cpu, 'publisher', mid.c2.rate)}` : ''} |\n`;
md += `| us of CPU per line: dockerd | ${us(mid.a.cpu, 'dockerd', mid.a.rate)} | | ${us(mid.c.cpu, 'dockerd', mid.c.rate)}${s2 ? ` | ${us(mid.c2.cpu, 'dockerd', mid.c2.rate)}` : ''} |\n\n`;
const latText = (ls) => ls.map((l) => `p50 ${l.p50.toFixed(2)} ms, p90 ${l.p90.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms, max ${l.max.toFixed(1)} ms`).join('; ');
md += `Docker timestamp -> live.logs subscriber, 200 lines/s, (c): ${latText(lat)}\n`;
if (s2) md += `\nthe same for (c'): ${latText(lat2)}\n`;
if (rss !== null) md += `\nPeak RSS following 100 idle containers: ${rss.toFixed(1)} MB (target < 30 MB)\n`;
console.log(md);
