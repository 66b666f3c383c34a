// bench/tail/bench.mjs - logjet-tail against a bare nats.c subscriber at a high input
// rate (run by hand; not a test, nothing here passes or fails on a number).
//
//   meson compile -C build      (builds tail/logjet-tail, bench/tail/rawsub, bench/tail/tailgen)
//   node bench/tail/bench.mjs [lines=300000] [repeats=3] [rates=100000,0] [conns=4] [storage=file]
//
// Per phase (offered rate; 0 = as fast as JetStream takes the lines), per repeat, per
// consumer: a fresh nats-server (loopback, its own store dir), the LOGS stream created
// by tailgen --create-only (shaped like the publisher's: RePublish logs.> -> live.logs.>,
// MaxMsgsPerSubject 1000), the consumer started and given 1.5 s to subscribe, then
// tailgen stores N records (~100-byte lines, 1000 containers over 2 host ids) from K
// connections. Consumers:
//   rawsub  bench/tail/rawsub: bare nats.c subscriber on live.logs.>, raw payloads to
//           /dev/null; it reports its own count, first-to-last seconds, CPU, peak RSS
//   raw     logjet-tail -o raw --tail 0
//   human   logjet-tail --tail 0 (the default format: host/name prefix, level)
// logjet-tail writes to a regular file in the run's temp dir; this script polls its size
// every 20 ms (first and last growth give the printing rate) and counts the lines and the
// "[logjet-tail] gap:" lines afterwards. CPU (utime+stime after the 1.5 s start) and peak
// RSS (VmHWM) come from /proc before the consumer is stopped with SIGINT.
// A consumer is done when it has all N lines, or 3 s after the load ended without growth.
// Prints Markdown (median [min-max] over repeats) on stdout, one JSON line per run on stderr.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { BUILD_DIR, SOURCE_DIR, freePort, run, sleep } from '../../tests/lib/harness.mjs';

const N = Number(process.argv[2] || 300000);
const R = Number(process.argv[3] || 3);
const RATES = (process.argv[4] || '100000,0').split(',').map(Number);
const K = Number(process.argv[5] || 4);
const STORAGE = process.argv[6] || 'file';
const CONSUMERS = (process.env.BENCH_CONSUMERS || 'rawsub,raw,human').split(',');
const GEN = path.join(BUILD_DIR, 'bench/tail/tailgen');
const RAWSUB = path.join(BUILD_DIR, 'bench/tail/rawsub');
const TAIL = path.join(BUILD_DIR, 'tail/logjet-tail');

function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;   // clock ticks: 100 per second on Linux
}
function vmHWM(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}
const now = () => Number(process.hrtime.bigint()) / 1e9;

async function natsServer(dir) {
  const port = await freePort();
  const child = spawn('nats-server', ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => { log += d; });
  for (let i = 0; i < 100 && !/Server is ready/.test(log); i++) await sleep(50);
  if (!/Server is ready/.test(log)) throw new Error(`nats-server did not start: ${log}`);
  return { url: `nats://127.0.0.1:${port}`, child };
}

async function stop(child, sig = 'SIGINT') {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(sig);
  const t = setTimeout(() => child.kill('SIGKILL'), 10000);
  await once(child, 'exit');
  clearTimeout(t);
}

function countLines(file) {
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  let lines = 0, gaps = 0, lost = 0, carry = '';
  for (let n; (n = fs.readSync(fd, buf, 0, buf.length)) > 0;) {
    for (let i = buf.indexOf(10); i >= 0 && i < n; i = buf.indexOf(10, i + 1)) lines++;
    // gap lines are rare; look for them in text form
    const s = carry + buf.toString('latin1', 0, n);
    for (const m of s.matchAll(/\[logjet-tail\] gap: (\d+) line/g)) { gaps++; lost += Number(m[1]); }
    carry = s.slice(-64);
    if (/\[logjet-tail\] gap: \d+ line/.test(carry)) carry = '';
  }
  fs.closeSync(fd);
  return { lines, gaps, lost };
}

async function one(kind, rate, tmp) {
  const dir = fs.mkdtempSync(path.join(tmp, 'ns-'));
  const ns = await natsServer(dir);
  const out = path.join(tmp, `out-${kind}.txt`);
  let child, report = '';
  try {
    const mk = await run(GEN, [ns.url, '0', '--create-only', '--storage', STORAGE]);
    if (mk.code !== 0) throw new Error(`tailgen --create-only: ${mk.stderr}`);
    if (kind === 'rawsub') {
      child = spawn(RAWSUB, [ns.url, 'live.logs.>', String(N)],
        { stdio: ['ignore', fs.openSync('/dev/null', 'w'), 'pipe'] });
      child.stderr.on('data', (d) => { report += d; });
    } else {
      const args = ['--nats-url', ns.url, '--tail', '0', '--color', 'never'];
      if (kind === 'raw') args.push('-o', 'raw');
      child = spawn(TAIL, args, { stdio: ['ignore', fs.openSync(out, 'w'), 'pipe'] });
      child.stderr.on('data', (d) => { report += d; });
    }
    await sleep(1500);
    if (child.exitCode !== null) throw new Error(`${kind} exited at start: ${report}`);
    const cpu0 = cpuSeconds(child.pid);
    let first = 0, last = 0, size = 0, genEnd = 0, rssMax = 0;
    const exited = once(child, 'exit');
    const gen = run(GEN, [ns.url, String(N), '--rate', String(rate), '--conns', String(K),
      '--storage', STORAGE]).then((g) => { genEnd = now(); return g; });
    const t0 = now();
    let g = null;
    gen.then((x) => { g = x; });
    for (;;) {
      await sleep(20);
      if (child.exitCode !== null) break;               // rawsub: got N
      const t = now();
      if (kind !== 'rawsub') {
        const s = fs.statSync(out).size;
        if (s > size) { if (!first) first = t; last = t; size = s; }
      }
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) rssMax = Math.max(rssMax, Number(m[1]) / 1024);
      if (g && t - Math.max(last, genEnd) > 3) break;   // load over, nothing new for 3 s
      if (t - t0 > 600) break;
    }
    let res;
    if (kind === 'rawsub') {
      await stop(child, 'SIGTERM');
      await exited;
      const [n, secs, cpu, rssKb, dropped] = report.trim().split('\n').pop().split(' ').map(Number);
      res = { n, secs, cpu, rss: rssKb / 1024, gaps: 0, lost: dropped };
      last = NaN;
    } else {
      const cpu = cpuSeconds(child.pid) - cpu0;
      const rss = vmHWM(child.pid);
      await stop(child);
      const c = countLines(out);
      res = { n: c.lines - c.gaps, secs: last - first, cpu, rss, gaps: c.gaps, lost: c.lost };
    }
    await gen;
    const gm = /sent (\d+) stored (\d+) failed (\d+) secs ([\d.]+) rate (\d+)/.exec(g.stdout) || [];
    return {
      kind, offered: rate, stored: Number(gm[2]), failed: Number(gm[3]), input: Number(gm[5]),
      printed: res.n, gaps: res.gaps, lost: res.lost, rate: res.n / res.secs,
      lagAfterLoad: kind === 'rawsub' ? NaN : last - genEnd,
      cpuPer1000: res.cpu / res.n * 1000 * 1000, rss: res.rss, rssSampledMax: rssMax,
      stderr: report.trim().split('\n').filter((l) => !/^\d/.test(l)).slice(0, 3).join(' | '),
    };
  } finally {
    if (child) await stop(child).catch(() => {});
    await stop(ns.child);
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(out, { force: true });
  }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tailbench-'));
const results = [];
const loads = [];
let commit = '?';
try { commit = execFileSync('git', ['-C', SOURCE_DIR, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { /* not a checkout */ }
const started = new Date();
try {
  for (const rate of RATES) {
    for (let i = 0; i < R; i++) {
      for (const k of CONSUMERS) {
        loads.push(os.loadavg()[0]);
        const r = await one(k, rate, tmp);
        console.error(JSON.stringify(r));
        results.push(r);
      }
    }
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
const med = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
const fmt = (a, d = 0) => {
  const v = a.filter((x) => Number.isFinite(x));
  if (!v.length) return '-';
  const f = (x) => x.toFixed(d);
  return `${f(med(v))} [${f(Math.min(...v))}-${f(Math.max(...v))}]`;
};
const cpus = os.cpus();
console.log(`Run ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, commit ${commit}, ${cpus.length} x ${cpus[0].model}, `
  + `1-min load average ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)} during the run; ${N} lines per run, `
  + `1000 containers over 2 hosts, ${K} generator connections, ${STORAGE} stream; ${R} repeats, median [min-max]`);
const names = { rawsub: '(a) bare nats.c sub', raw: '(b) logjet-tail -o raw', human: '(b) logjet-tail (default format)' };
for (const rate of RATES) {
  console.log('');
  console.log(`Offered ${rate ? `${rate} lines/s` : 'as fast as JetStream takes them'}:`);
  console.log('| consumer | input stored (lines/s) | lines/s printed | printed of N | gaps (lines) | lag after load (s) | CPU ms / 1000 lines | peak RSS MB |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const k of CONSUMERS) {
    const rs = results.filter((r) => r.kind === k && r.offered === rate);
    console.log(`| ${names[k]} | ${fmt(rs.map((r) => r.input))} | ${fmt(rs.map((r) => r.rate))} | ${rs.map((r) => r.printed).join(', ')} `
      + `| ${rs.map((r) => `${r.gaps} (${r.lost})`).join(', ')} | ${fmt(rs.map((r) => r.lagAfterLoad), 2)} `
      + `| ${fmt(rs.map((r) => r.cpuPer1000), 1)} | ${fmt(rs.map((r) => r.rss), 1)} |`);
  }
}
