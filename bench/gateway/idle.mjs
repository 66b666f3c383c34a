// bench/gateway/idle.mjs - one gateway holding 10,000 idle subscribed WebSocket
// connections: its memory per connection, and one active client's latency beside them
// against the same client with no idle crowd, in the same round.
//
// Synthetic containers, written straight into JetStream by bench/tail's tailgen with
// their registry entries (no Docker): four "idle-" containers the crowd subscribes to
// (a quarter each) and one "act-" container whose lines carry tailgen's latency marker
// (its CLOCK_REALTIME at publish). Each round, on a fresh gateway:
//   1. the active client alone: wsload (1 connection) on act-0000 plus a direct
//      nats-server websocket observer on the same subject; tailgen publishes --lines at
//      --rate; latency = publish -> client read, the gateway's hop = client minus observer;
//   2. one connection to each idle container (warm-up), then the RSS baseline;
//   3. the crowd: wsload --hold processes (C, epoll, raw sockets) open --idle
//      connections, each subscribed; once all are ready and the gateway settled, the
//      RSS again: growth / connections = memory per connection; the gateway's CPU while
//      the crowd sits idle;
//   4. the active client again, the same way, with the crowd connected;
//   5. /healthz answers and every crowd connection is still open (the gateway's
//      logjet_gateway_clients gauge), then the crowd leaves.
//
// Usage: node bench/gateway/idle.mjs [--idle 10000] [--rounds 3] [--rate 1000]
//          [--lines 5000] [--procs 4] [--deflate] [--out results.json]
// --deflate: the crowd offers permessage-deflate as Chromium does (wsload --deflate), so
// each idle connection also holds the gateway's compression state.
// Needs LOGJET_BUILD_DIR (default build/) with bench/gateway/wsload and bench/tail/tailgen
// built (meson compile -C build bench/gateway/wsload; tailgen is built by default), and
// nats-server on PATH. The file-descriptor limit must allow --idle + 300 in the gateway
// and --idle / --procs in each wsload: the gateway is started with its soft limit raised
// to that (prlimit), and the run stops early if the hard limit is lower.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BUILD_DIR, freePort, sleep, waitFor, token } from '../../tests/lib/harness.mjs';
import { CLK_TCK, Procs, run, ticks, rssKB, machineBusy, spread } from './proc.mjs';

const argv = process.argv.slice(2);
const arg = (k, d) => { const i = argv.indexOf(`--${k}`); return i >= 0 ? argv[i + 1] : d; };
const IDLE = Number(arg('idle', 10000));
const ROUNDS = Number(arg('rounds', 3));
const RATE = Number(arg('rate', 1000));
const LINES = Number(arg('lines', 5000));
const PROCS = Number(arg('procs', 4));
const OUT = arg('out', '');
const DEFLATE = argv.includes('--deflate');
const WSLOAD = path.join(BUILD_DIR, 'bench/gateway/wsload');
const TAILGEN = path.join(BUILD_DIR, 'bench/tail/tailgen');
const GATEWAY = path.join(BUILD_DIR, 'gateway/logjet-gateway');
for (const f of [WSLOAD, TAILGEN, GATEWAY]) {
  if (!fs.existsSync(f)) throw new Error(`${f} missing: meson compile -C ${BUILD_DIR} bench/gateway/wsload`);
}
const HOST = 'bench0';                // tailgen --hosts 1 names its host bench0
const NOFILE = IDLE + 300;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lj-idle-'));
const log = (...a) => console.error(new Date().toISOString().slice(11, 23), ...a);

const hard = Number(execFileSync('sh', ['-c', 'ulimit -Hn']).toString().trim());
if (Number.isFinite(hard) && hard < NOFILE) throw new Error(`ulimit -Hn is ${hard}: ${NOFILE} descriptors are needed`);

// ---- processes ---------------------------------------------------------------------
const procs = new Procs(dir);
async function gauge(port, name) {
  const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(t);
  return m ? Number(m[1]) : NaN;
}

// ---- servers -----------------------------------------------------------------------
const natsPort = await freePort(), wsPort = await freePort();
fs.writeFileSync(path.join(dir, 'nats.conf'), [`listen: "127.0.0.1:${natsPort}"`,
  `jetstream { store_dir: "${dir}/js" }`, `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true }`, ''].join('\n'));
const nats = procs.start('nats-server', 'nats-server', ['-c', path.join(dir, 'nats.conf')]);
const natsUrl = `nats://127.0.0.1:${natsPort}`;
await waitFor(async () => run(TAILGEN, [natsUrl, '0', '--create-only']).then(() => true, () => false), 15000, 'nats-server');
// the idle containers (10 lines each) and the active one, registered
await run(TAILGEN, [natsUrl, '40', '--containers', '4', '--hosts', '1', '--prefix', 'idle-', '--registry']);
await run(TAILGEN, [natsUrl, '0', '--containers', '1', '--hosts', '1', '--prefix', 'act-', '--registry']);

async function startGateway() {
  const port = await freePort();
  const p = procs.start('gateway', 'prlimit', [`--nofile=${NOFILE}:${hard}`, GATEWAY, '--nats-url', natsUrl,
    '--listen', `127.0.0.1:${port}`, '--max-clients', String(IDLE + 100)]);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status === 200,
    20000, 'gateway healthy');
  return { p, port };
}

// ---- the active client ---------------------------------------------------------------
const wsload = (args, onReady) => procs.wsload(['prlimit', `--nofile=${NOFILE}:${hard}`, WSLOAD], args, onReady);

let actLines = 0;   // act-0000's line_no so far: every run continues it
async function active(gw, what) {
  const args = ['--mode', 'logjet', '--port', String(gw.port), '--container', `${HOST}/act-0000`,
    '--observe-port', String(wsPort), '--subject', `live.logs.${token(HOST)}.${token('act-0000')}`,
    '--conns', '1', '--expect', String(LINES), '--idle-ms', '5000', '--timeout', '120'];
  let t0, b0, g0, pub;
  const res = await wsload(args, () => {
    g0 = ticks(gw.p.pid);
    b0 = machineBusy();
    t0 = Date.now();
    pub = run(TAILGEN, [natsUrl, String(LINES), '--containers', '1', '--hosts', '1', '--prefix', 'act-',
      '--marker', '--rate', String(RATE), '--line-from', String(actLines)]);
  });
  await pub;
  actLines += LINES;
  const secs = (Date.now() - t0) / 1000;
  const r = { what, lines: res.lines, expected: LINES, p50: res.p50, p90: res.p90, p99: res.p99, max: res.max,
    observer_p50: res.observer_p50, observer_p99: res.observer_p99, hop_p50: res.hop_p50, hop_p99: res.hop_p99,
    gateway_cpu_pct: (ticks(gw.p.pid) - g0) / CLK_TCK / secs * 100,
    machine_pct: (machineBusy() - b0) / CLK_TCK / secs * 100 };
  log(`${what}: ${r.lines}/${LINES} lines, p50 ${r.p50} p99 ${r.p99} max ${r.max} ms; observer p50 ${r.observer_p50} ` +
    `p99 ${r.observer_p99}; hop p50 ${r.hop_p50} p99 ${r.hop_p99} ms; gateway ${r.gateway_cpu_pct.toFixed(1)}% ` +
    `machine ${r.machine_pct.toFixed(0)}%`);
  return r;
}

// ---- the crowd -----------------------------------------------------------------------
/** Opens n held connections spread over the four idle containers; resolves when all
 * are ready, with a release() that closes them. */
async function crowd(gw, n, procsN) {
  const holders = [];
  const ready = [];
  const per = Math.ceil(n / 4);
  for (let c = 0; c < 4; c++) {
    const k = Math.min(per, n - c * per);
    if (k <= 0) break;
    let resolveReady;
    ready.push(new Promise((r) => { resolveReady = r; }));
    const args = ['--mode', 'logjet', '--port', String(gw.port), '--container', `${HOST}/idle-${String(c).padStart(4, '0')}`,
      '--conns', String(k), '--procs', String(Math.max(1, Math.round(procsN / 4))), '--hold',
      ...(DEFLATE ? ['--deflate'] : [])];
    holders.push(wsload(args, (line, p) => { holders[c].proc = p; resolveReady(line); }));
  }
  const lines = await Promise.all(ready);
  const failed = lines.reduce((a, l) => a + Number(/failed (\d+)/.exec(l)?.[1] || 0), 0);
  return {
    failed, lines,
    release: async () => {
      for (const h of holders) h.proc?.stdin.end();
      await Promise.all(holders);
    },
  };
}

// ---- the run ---------------------------------------------------------------------------
const results = { date: new Date().toISOString(), nproc: os.cpus().length, cpu: os.cpus()[0]?.model,
  loadavg_before: fs.readFileSync('/proc/loadavg', 'utf8').trim(), idle: IDLE, rate: RATE, lines: LINES, rounds: [] };
try {
  for (let round = 1; round <= ROUNDS; round++) {
    const gw = await startGateway();
    const r = { round };
    r.alone = await active(gw, `round ${round} active client alone`);
    const warm = await crowd(gw, 4, 1);
    await sleep(2000);
    r.rss0_kb = rssKB(gw.p.pid);
    const t0 = Date.now();
    const big = await crowd(gw, IDLE, PROCS);
    r.connect_s = (Date.now() - t0) / 1000;
    r.failed = big.failed;
    await sleep(3000);
    r.rss1_kb = rssKB(gw.p.pid);
    r.per_conn_kb = (r.rss1_kb - r.rss0_kb) / IDLE;
    const c0 = ticks(gw.p.pid);
    await sleep(5000);
    r.idle_cpu_pct = (ticks(gw.p.pid) - c0) / CLK_TCK / 5 * 100;
    log(`round ${round}: ${IDLE} idle connections in ${r.connect_s.toFixed(1)} s (failed ${r.failed}); RSS ` +
      `${r.rss0_kb} -> ${r.rss1_kb} KB = ${r.per_conn_kb.toFixed(2)} KB per connection; gateway idle CPU ${r.idle_cpu_pct.toFixed(1)}%`);
    r.crowd = await active(gw, `round ${round} active client beside ${IDLE} idle`);
    r.clients = await gauge(gw.port, 'logjet_gateway_clients');
    r.healthz = (await fetch(`http://127.0.0.1:${gw.port}/healthz`)).status;
    r.rss2_kb = rssKB(gw.p.pid);
    log(`round ${round}: clients gauge ${r.clients} (want ${IDLE + 4}), /healthz ${r.healthz}, RSS ${r.rss2_kb} KB`);
    await big.release();
    await warm.release();
    await procs.stop(gw.p);
    results.rounds.push(r);
  }
} finally {
  results.loadavg_after = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  await procs.stopAll();
}

// ---- report ------------------------------------------------------------------------------
const R = results.rounds;
console.log(`\nmachine: ${results.nproc} x ${results.cpu}; ${results.date}; load before ${results.loadavg_before}, after ${results.loadavg_after}`);
console.log(`${IDLE} idle subscribed connections${DEFLATE ? ' (permessage-deflate)' : ''}, ${R.length} rounds, active client ${LINES} lines at ${RATE}/s (median [min-max])`);
console.log('| round | connect s | RSS before / with crowd KB | KB per connection | idle CPU % | alone p50 / p99 ms | beside crowd p50 / p99 ms | hop alone p50 / p99 | hop beside p50 / p99 | gateway CPU % alone / beside | clients | healthz |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of R) {
  console.log(`| ${r.round} | ${r.connect_s.toFixed(1)} | ${r.rss0_kb} / ${r.rss1_kb} | ${r.per_conn_kb.toFixed(2)} | ${r.idle_cpu_pct.toFixed(1)} | ` +
    `${r.alone.p50} / ${r.alone.p99} | ${r.crowd.p50} / ${r.crowd.p99} | ${r.alone.hop_p50} / ${r.alone.hop_p99} | ` +
    `${r.crowd.hop_p50} / ${r.crowd.hop_p99} | ${r.alone.gateway_cpu_pct.toFixed(1)} / ${r.crowd.gateway_cpu_pct.toFixed(1)} | ${r.clients} | ${r.healthz} |`);
}
console.log(`KB per connection ${spread(R.map((r) => r.per_conn_kb))}; p50 alone ${spread(R.map((r) => r.alone.p50))} ms, ` +
  `beside ${spread(R.map((r) => r.crowd.p50))} ms; p99 alone ${spread(R.map((r) => r.alone.p99))}, beside ${spread(R.map((r) => r.crowd.p99))} ms; ` +
  `hop p50 alone ${spread(R.map((r) => r.alone.hop_p50))}, beside ${spread(R.map((r) => r.crowd.hop_p50))} ms`);
if (OUT) fs.writeFileSync(OUT, JSON.stringify(results, null, 2));
fs.rmSync(dir, { recursive: true, force: true });
