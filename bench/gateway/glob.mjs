// bench/gateway/glob.mjs - a glob subscription over 1000 containers' subjects: what its
// replay costs, and what its live lines cost, against a raw NATS websocket subscriber
// on the same subjects in the same round.
//
// Synthetic containers (no Docker): bench/tail's tailgen writes --containers registry
// entries (host bench0, names bench-0000 ...) and --history lines into each straight
// into the LOGS stream, shaped as the publisher writes them. Each round, on a fresh
// nats-server and stream, and a fresh gateway (no watch loaded):
//   replay, cold: one client subscribes `*/bench-*` with replay --history; measured: time
//     from the subscribe to the last `replayed` frame (one per container), lines
//     received, gateway CPU and RSS growth, JetStream API requests (nats-server's /jsz)
//     and consumers the gateway created (its /metrics);
//   replay, warm: a second client, the same subscribe, while every watch is loaded;
//   live: for each K in --clients, K glob clients (wsload, ready once all 1000 taps
//     answered `replayed`) then K raw NATS websocket subscribers on `logs.bench0.>`
//     (wsload --mode nats) receive --live lines at --rate spread round robin over the
//     1000 subjects (tailgen --marker: publish time in the line); measured per system:
//     delivered lines/s, latency publish -> client read (p50, p99), and CPU-us per
//     delivered line: the gateway's; nats-server's, in all and over what the same
//     publish costs it with no client (an ingest phase first: storing, and republishing
//     to the gateway's 1000 subscriptions), which for the baseline is its delivery cost.
//
// Usage: node bench/gateway/glob.mjs [--containers 1000] [--history 100] [--rounds 3]
//          [--clients 1,10] [--rate 5000] [--live 25000] [--out results.json]
// Needs LOGJET_BUILD_DIR (default build/) with bench/gateway/wsload and bench/tail/tailgen
// built (both by default), and nats-server on PATH. Not a test.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { BUILD_DIR, SOURCE_DIR, freePort, waitFor, sleep } from '../../tests/lib/harness.mjs';
import { CLK_TCK, Procs, run, ticks, rssKB, machineBusy, spread } from './proc.mjs';

// `ws` from the tests' node_modules (cd tests && npm ci), as the tests use it
const WebSocket = createRequire(path.join(SOURCE_DIR, 'tests/package.json'))('ws');

const argv = process.argv.slice(2);
const arg = (k, d) => { const i = argv.indexOf(`--${k}`); return i >= 0 ? argv[i + 1] : d; };
const C = Number(arg('containers', 1000));
const HISTORY = Number(arg('history', 100));
const ROUNDS = Number(arg('rounds', 3));
const CLIENTS = String(arg('clients', '1,10')).split(',').filter(Boolean).map(Number);
const RATE = Number(arg('rate', 5000));
const LIVE = Math.ceil(Number(arg('live', 25000)) / C) * C;   // whole rounds over the containers
const OUT = arg('out', '');
const WSLOAD = path.join(BUILD_DIR, 'bench/gateway/wsload');
const TAILGEN = path.join(BUILD_DIR, 'bench/tail/tailgen');
const GATEWAY = path.join(BUILD_DIR, 'gateway/logjet-gateway');
for (const f of [WSLOAD, TAILGEN, GATEWAY]) if (!fs.existsSync(f)) throw new Error(`${f} missing: meson compile -C ${BUILD_DIR}`);
const GLOB = '*/bench-*';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lj-glob-'));
const log = (...a) => console.error(new Date().toISOString().slice(11, 23), ...a);

const procs = new Procs(dir);

// ---- servers ------------------------------------------------------------------------
// A fresh nats-server (and store) every round, so every round starts from the same
// stream: HISTORY lines in each container.
const natsPort = await freePort(), wsPort = await freePort(), monPort = await freePort();
const natsUrl = `nats://127.0.0.1:${natsPort}`;
let nats = null;
let lineNo = 0;   // lines per container so far (tailgen continues them)
async function startNats(round) {
  const store = path.join(dir, `js-${round}`);
  fs.writeFileSync(path.join(dir, 'nats.conf'), [`listen: "127.0.0.1:${natsPort}"`, `http: "127.0.0.1:${monPort}"`,
    `jetstream { store_dir: "${store}" }`, `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true }`, ''].join('\n'));
  nats = procs.start('nats-server', 'nats-server', ['-c', path.join(dir, 'nats.conf')]);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${monPort}/healthz`).catch(() => null))?.status === 200, 15000, 'nats-server');
  const fill = await run(TAILGEN, [natsUrl, String(C * HISTORY), '--containers', String(C), '--hosts', '1',
    '--prefix', 'bench-', '--registry']);
  lineNo = HISTORY;
  log(`round ${round}: ${C} containers registered, ${HISTORY} lines each: ${fill.trim()}`);
}
const jsApi = async () => (await (await fetch(`http://127.0.0.1:${monPort}/jsz`)).json()).api;

async function startGateway() {
  const port = await freePort();
  // --linger 600: the 1000 watches stay through the round, so every phase after the
  // replay has the same NATS interest (the gateway's subscriptions) behind it
  const p = procs.start('gateway', GATEWAY, ['--nats-url', natsUrl, '--listen', `127.0.0.1:${port}`, '--linger', '600']);
  await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => null))?.status === 200,
    20000, 'gateway healthy');
  await waitFor(async () => {
    const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    return Number(/^logjet_gateway_containers (\d+)$/m.exec(t)?.[1]) === C;
  }, 20000, 'gateway knows every container');
  return { p, port };
}
async function consumers(gw) {
  const t = await (await fetch(`http://127.0.0.1:${gw.port}/metrics`)).text();
  return Number(/^logjet_gateway_jetstream_consumers_created_total (\d+)$/m.exec(t)?.[1]);
}

// ---- replay ---------------------------------------------------------------------------
/** One client, one glob subscribe with replay; resolves at the C-th `replayed` frame. */
function replayOnce(gw) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${gw.port}/ws`, { perMessageDeflate: false });
    let t0 = 0, lines = 0, replayed = 0, lastLine = 0, errors = [];
    const timer = setTimeout(() => { ws.terminate(); reject(new Error(`replay timed out: ${replayed} replayed, ${lines} lines`)); }, 300000);
    ws.on('open', () => {
      t0 = performance.now();
      ws.send(JSON.stringify({ op: 'subscribe', id: 'g', container: GLOB, replay: HISTORY }));
    });
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (m.type === 'lines') {
        lines += m.lines.length;
        lastLine = performance.now();
      } else if (m.type === 'replayed' && ++replayed === C) {
        clearTimeout(timer);
        const r = { ms: performance.now() - t0, last_line_ms: lastLine - t0, lines, errors };
        ws.close();
        resolve(r);
      } else if (m.type === 'error') {
        errors.push(m);
      }
    });
    ws.on('error', reject);
  });
}

async function replayPhase(gw, what) {
  const g0 = ticks(gw.p.pid), n0 = ticks(nats.pid), rss0 = rssKB(gw.p.pid), api0 = await jsApi(), c0 = await consumers(gw);
  const r = await replayOnce(gw);
  const api1 = await jsApi();
  const out = { what, ms: r.ms, last_line_ms: r.last_line_ms, lines: r.lines, expected: C * HISTORY,
    errors: r.errors.length, gateway_cpu_s: (ticks(gw.p.pid) - g0) / CLK_TCK, nats_cpu_s: (ticks(nats.pid) - n0) / CLK_TCK,
    rss_before_kb: rss0, rss_after_kb: rssKB(gw.p.pid), js_api: api1.total - api0.total,
    js_api_errors: api1.errors - api0.errors, consumers: (await consumers(gw)) - c0 };
  log(`${what}: ${out.lines}/${out.expected} lines, all ${C} replayed in ${out.ms.toFixed(0)} ms (last line at ` +
    `${out.last_line_ms.toFixed(0)}); gateway CPU ${out.gateway_cpu_s.toFixed(2)} s, nats-server ${out.nats_cpu_s.toFixed(2)} s; ` +
    `RSS ${rss0} -> ${out.rss_after_kb} KB; JetStream API ${out.js_api} (errors ${out.js_api_errors}), consumers ${out.consumers}; errors ${out.errors}`);
  return out;
}

// ---- live -------------------------------------------------------------------------------
const wsload = (args, onReady) => procs.wsload([WSLOAD], args, onReady);

async function livePhase(gw, system, k, ingest) {
  const args = system === 'gateway'
    ? ['--mode', 'logjet', '--port', String(gw.port), '--container', GLOB, '--taps', String(C)]
    : ['--mode', 'nats', '--port', String(wsPort), '--path', '/', '--subject', 'logs.bench0.>'];
  args.push('--conns', String(k), '--procs', String(Math.min(k, 2)), '--expect', String(LIVE), '--idle-ms', '5000',
    '--timeout', '120');
  let g0, n0, b0, t0, pub;
  const res = await wsload(args, (line) => {
    log(`${system} K=${k}: ${line}`);
    g0 = ticks(gw.p.pid);
    n0 = ticks(nats.pid);
    b0 = machineBusy();
    t0 = Date.now();
    pub = run(TAILGEN, [natsUrl, String(LIVE), '--containers', String(C), '--hosts', '1', '--prefix', 'bench-',
      '--marker', '--rate', String(RATE), '--line-from', String(lineNo)]);
  });
  await pub;
  lineNo += LIVE / C;
  const secs = (Date.now() - t0) / 1000;
  const rx = Math.max(1e-3, (res.last_rx - res.first_rx) / 1e9);
  const gwCpu = (ticks(gw.p.pid) - g0) / CLK_TCK, natsCpu = (ticks(nats.pid) - n0) / CLK_TCK;
  const r = { system, k, lines: res.lines, expected: k * LIVE, gap_lost: res.gap_lost, delivered_per_s: res.lines / rx,
    p50: res.p50, p99: res.p99, max: res.max, gateway_cpu_s: gwCpu, nats_cpu_s: natsCpu,
    server_us_per_line: ((system === 'gateway' ? gwCpu : natsCpu) * 1e6) / Math.max(1, res.lines),
    // nats-server's delivery alone: its CPU over what the same lines cost with no client
    nats_marginal_us_per_line: ((natsCpu - ingest.nats_cpu_s) * 1e6) / Math.max(1, res.lines),
    nats_us_per_line: (natsCpu * 1e6) / Math.max(1, res.lines),
    client_us_per_line: ((res.cpu_user + res.cpu_sys) * 1e6) / Math.max(1, res.lines),
    machine_pct: (machineBusy() - b0) / CLK_TCK / secs * 100 };
  log(`${system.padEnd(7)} K=${String(k).padStart(2)}: ${r.lines}/${r.expected} lines (gap-lost ${r.gap_lost}), ` +
    `${(r.delivered_per_s / 1000).toFixed(1)}k/s, p50 ${r.p50} p99 ${r.p99} max ${r.max} ms; server ${r.server_us_per_line.toFixed(2)} ` +
    `us/line (gateway ${gwCpu.toFixed(2)} s, nats-server ${natsCpu.toFixed(2)} s), client ${r.client_us_per_line.toFixed(2)} us/line; ` +
    `machine ${r.machine_pct.toFixed(0)}%`);
  await sleep(1000);
  return r;
}

/** The same publish with no client at all: nats-server's cost of taking the lines in
 * (store, republish to the gateway's subscriptions when one runs), to subtract. */
async function ingestPhase(gw) {
  const n0 = ticks(nats.pid), g0 = gw ? ticks(gw.p.pid) : 0;
  await run(TAILGEN, [natsUrl, String(LIVE), '--containers', String(C), '--hosts', '1', '--prefix', 'bench-',
    '--marker', '--rate', String(RATE), '--line-from', String(lineNo)]);
  lineNo += LIVE / C;
  await sleep(500);
  const r = { nats_cpu_s: (ticks(nats.pid) - n0) / CLK_TCK, gateway_cpu_s: gw ? (ticks(gw.p.pid) - g0) / CLK_TCK : 0 };
  log(`ingest, no client: nats-server ${(r.nats_cpu_s * 1e6 / LIVE).toFixed(2)} us/line, gateway (watches loaded, ` +
    `no viewer) ${(r.gateway_cpu_s * 1e6 / LIVE).toFixed(2)} us/line`);
  return r;
}

// ---- the run ------------------------------------------------------------------------------
const results = { date: new Date().toISOString(), nproc: os.cpus().length, cpu: os.cpus()[0]?.model,
  loadavg_before: fs.readFileSync('/proc/loadavg', 'utf8').trim(), containers: C, history: HISTORY, rate: RATE,
  live: LIVE, rounds: [] };
try {
  for (let round = 1; round <= ROUNDS; round++) {
    await startNats(round);
    const gw = await startGateway();
    const r = { round, live: [] };
    r.cold = await replayPhase(gw, `round ${round} replay, cold`);
    r.warm = await replayPhase(gw, `round ${round} replay, warm`);
    r.ingest = await ingestPhase(gw);
    for (const k of CLIENTS) for (const sys of ['gateway', 'nats']) r.live.push(await livePhase(gw, sys, k, r.ingest));
    await procs.stop(gw.p);
    await procs.stop(nats);
    results.rounds.push(r);
  }
} finally {
  results.loadavg_after = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  await procs.stopAll();
}

// ---- report ---------------------------------------------------------------------------------
const med = spread;
const R = results.rounds;
console.log(`\nmachine: ${results.nproc} x ${results.cpu}; ${results.date}; load before ${results.loadavg_before}, after ${results.loadavg_after}`);
console.log(`glob ${GLOB} over ${C} containers, ${HISTORY} lines each; ${R.length} rounds (median [min-max])`);
console.log('| replay | all replayed, ms | lines | gateway CPU s | nats-server CPU s | gateway RSS growth MB | JetStream API requests | consumers |');
console.log('|---|---|---|---|---|---|---|---|');
for (const w of ['cold', 'warm']) {
  console.log(`| ${w} | ${med(R.map((r) => r[w].ms), 0)} | ${med(R.map((r) => r[w].lines), 0)} | ${med(R.map((r) => r[w].gateway_cpu_s))} | ` +
    `${med(R.map((r) => r[w].nats_cpu_s))} | ${med(R.map((r) => (r[w].rss_after_kb - r[w].rss_before_kb) / 1024), 1)} | ` +
    `${med(R.map((r) => r[w].js_api), 0)} | ${med(R.map((r) => r[w].consumers), 0)} |`);
}
console.log(`\nlive: ${LIVE} lines at ${RATE}/s over ${C} subjects, per phase`);
console.log(`nats-server taking the lines in with no client: ${med(R.map((r) => r.ingest.nats_cpu_s * 1e6 / LIVE))} us/line; ` +
  `the gateway with every watch loaded and no viewer: ${med(R.map((r) => r.ingest.gateway_cpu_s * 1e6 / LIVE))} us/line`);
console.log('| system | clients | delivered | lines/s | p50 ms | p99 ms | gateway CPU-us per delivered line | nats-server us/line (all) | nats-server us/line over ingest | client us/line |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const k of CLIENTS) {
  for (const sys of ['gateway', 'nats']) {
    const ps = R.map((r) => r.live.find((p) => p.system === sys && p.k === k));
    console.log(`| ${sys === 'nats' ? 'nats-ws logs.bench0.>' : 'gateway glob'} | ${k} | ${med(ps.map((p) => 100 * p.lines / p.expected), 1)}% | ` +
      `${med(ps.map((p) => p.delivered_per_s), 0)} | ${med(ps.map((p) => p.p50))} | ${med(ps.map((p) => p.p99))} | ` +
      `${sys === 'gateway' ? med(ps.map((p) => p.server_us_per_line)) : '-'} | ${med(ps.map((p) => p.nats_us_per_line))} | ` +
      `${med(ps.map((p) => p.nats_marginal_us_per_line))} | ${med(ps.map((p) => p.client_us_per_line))} |`);
  }
}
if (OUT) fs.writeFileSync(OUT, JSON.stringify(results, null, 2));
fs.rmSync(dir, { recursive: true, force: true });
