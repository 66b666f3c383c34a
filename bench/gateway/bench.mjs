// bench/gateway/bench.mjs - logjet-gateway against nats-server's own WebSocket listener,
// end to end: a container writes timestamped lines (tsgen), the real publisher ships
// them through dockerd into JetStream, and N WebSocket clients (wsload, C, epoll, forked
// over processes) receive them either (A) from the gateway's /ws as JSON `lines` frames
// or (B) straight from nats-server's websocket listener as raw NATS protocol on the
// republished subject live.logs.<host>.<container>: the same records, one system at a
// time, in the same run, on the same servers.
//
// Latency: from the container's write (CLOCK_REALTIME printed in the line) to the
// client's read; every line on every connection. Delivered lines/s: all lines received
// by all clients over first-to-last receipt. CPU: /proc/<pid>/stat of gateway,
// nats-server, publisher, dockerd, containerd (+ the container's shim and tsgen), and the
// generator's own getrusage, from the start signal to the end, over the active span.
//
// Usage: node bench/gateway/bench.mjs [--n 1,100,1000] [--rate 5000] [--secs 8]
//          [--flood-n 1,100] [--flood-count 150000] [--idle 1000] [--only gateway|nats]
//          [--idle-ms 10000] [--repeat 1] [--deflate] [--client-batch] [--out results.json]
// --repeat R runs every phase R times, the two systems taking turns (gateway, nats,
// gateway, ...), and the summary gives each figure's median and [min-max] over the R.
// --deflate has wsload offer permessage-deflate (as browsers do) to both servers
// (nats-server's websocket block gets `compression: true`).
// Needs LOGJET_BUILD_DIR (default build/) with bench/gateway/{tsgen,wsload} built:
//   meson compile -C build bench/gateway/tsgen bench/gateway/wsload
// plus nats-server on PATH and a Docker engine (LOGJET_TEST_DOCKER_HOST).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { BUILD_DIR, IMAGE, docker, ensureImage, freePort, sleep, waitFor, token } from '../../tests/lib/harness.mjs';

const argv = process.argv.slice(2);
const arg = (k, d) => { const i = argv.indexOf(`--${k}`); return i >= 0 ? argv[i + 1] : d; };
const list = (s) => (s ? String(s).split(',').filter(Boolean).map(Number) : []);
const NS = list(arg('n', '1,100,1000'));
const RATE = Number(arg('rate', 5000));
const SECS = Number(arg('secs', 8));
const FLOOD_NS = list(arg('flood-n', '1,100'));
const FLOOD_COUNT = Number(arg('flood-count', 150000));
const IDLE = Number(arg('idle', 1000));
const LINE_BYTES = Number(arg('bytes', 120));
const ONLY = arg('only', '');
const OUT = arg('out', '');
const IDLE_MS = Number(arg('idle-ms', 10000)); // a phase ends this long after its last line
const SYSTEMS = ['gateway', 'nats'].filter((s) => !ONLY || s === ONLY);
const REPEAT = Math.max(1, Number(arg('repeat', 1)));
const DEFLATE = argv.includes('--deflate');
const CLIENT_BATCH = argv.includes('--client-batch');

const TSGEN = path.join(BUILD_DIR, 'bench/gateway/tsgen');
const WSLOAD = path.join(BUILD_DIR, 'bench/gateway/wsload');
for (const f of [TSGEN, WSLOAD]) {
  if (!fs.existsSync(f)) throw new Error(`${f} missing: meson compile -C ${BUILD_DIR} bench/gateway/tsgen bench/gateway/wsload`);
}
const HOST = 'ljbench';
const CLK_TCK = 100;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lj-gwbench-'));
const log = (...a) => console.error(new Date().toISOString().slice(11, 23), ...a);

// ---- servers -------------------------------------------------------------------
const procs = [];
function start(name, cmd, args) {
  const fd = fs.openSync(path.join(dir, `${name}.log`), 'a');
  const p = spawn(cmd, args, { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  procs.push(p);
  return p;
}
const natsPort = await freePort(), wsPort = await freePort(), gwPort = await freePort(), pubHttp = await freePort();
fs.writeFileSync(path.join(dir, 'nats.conf'), [
  `listen: "127.0.0.1:${natsPort}"`,
  `jetstream { store_dir: "${dir}/js" }`,
  `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true${DEFLATE ? ', compression: true' : ''} }`,
  'max_connections: 20000', ''].join('\n'));
const nats = start('nats-server', 'nats-server', ['-c', path.join(dir, 'nats.conf')]);
const natsUrl = `nats://127.0.0.1:${natsPort}`;
await waitFor(() => portOpen(natsPort), 10000, 'nats-server');
await ensureImage();
const publisher = start('publisher', path.join(BUILD_DIR, 'publisher/logjet-publisher'), ['--nats-url', natsUrl,
  '--host-id', HOST, '--include', '^ljbench-', '--http', `127.0.0.1:${pubHttp}`,
  '--docker-host', process.env.LOGJET_TEST_DOCKER_HOST || 'unix:///var/run/docker.sock']);
await waitFor(async () => (await fetch(`http://127.0.0.1:${pubHttp}/healthz`).catch(() => null))?.status === 200,
  20000, 'publisher healthy');
const gateway = start('gateway', path.join(BUILD_DIR, 'gateway/logjet-gateway'), ['--nats-url', natsUrl,
  '--listen', `127.0.0.1:${gwPort}`, '--max-clients', '20000']);
await waitFor(async () => (await fetch(`http://127.0.0.1:${gwPort}/healthz`).catch(() => null))?.status === 200,
  20000, 'gateway healthy');

function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

// ---- CPU and memory from /proc ----------------------------------------------------
function ticks(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime (fields 14, 15)
  } catch { return NaN; }
}
function rssKB(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}
// Time the process's threads spent runnable but waiting for a CPU (schedstat's second
// field, ns), summed over its threads; `main` is the thread whose tid is the pid (for the
// gateway, the lws service thread that writes every frame).
function schedWait(pid) {
  const one = (tid) => {
    try { return Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]); } catch { return 0; }
  };
  let all = 0;
  try { for (const t of fs.readdirSync(`/proc/${pid}/task`)) all += one(t); } catch { /* gone */ }
  return { all, main: one(pid) };
}
function machineTicks() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  return { busy: f.slice(0, 8).reduce((a, b) => a + b, 0) - idle, steal: f[7] };
}
function pidsByName(name) {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((d) => {
    try { return fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === name; } catch { return false; }
  }).map(Number);
}
// The engine we talk to: the dockerd whose command line names our socket (or none).
function enginePid() {
  const sock = (process.env.LOGJET_TEST_DOCKER_HOST || 'unix:///var/run/docker.sock').replace(/^unix:\/\//, '');
  const ds = pidsByName('dockerd').map((p) => ({ p, cmd: fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') }));
  const hit = ds.find((d) => d.cmd.includes(sock)) ||
    (sock === '/var/run/docker.sock' ? ds.find((d) => !/--host|-H\x00/.test(d.cmd)) : undefined);
  return hit?.p;
}
const dockerdPid = enginePid();
const containerdPid = dockerdPid && pidsByName('containerd').find((p) => {
  try { return fs.readFileSync(`/proc/${p}/status`, 'utf8').includes(`PPid:\t${dockerdPid}\n`); } catch { return false; }
});
function shimPid(cid) {
  return pidsByName('containerd-shim').concat(pidsByName('containerd-shim-runc-v2'), pidsByName('containerd-shim-r'))
    .find((p) => { try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(cid); } catch { return false; } });
}

// ---- the gateway's own wait histograms (logjet_gateway_line_wait_seconds) ------------------
// Read before and after a phase; the difference per stage gives where lines waited inside
// the gateway (arrival -> ring -> frame, wake -> writable callback), as bucket quantiles.
async function gatewayWaits() {
  const text = await (await fetch(`http://127.0.0.1:${gwPort}/metrics`)).text();
  const w = {};
  for (const m of text.matchAll(/^logjet_gateway_line_wait_seconds_bucket\{stage="([a-z_]+)",le="([^"]+)"\} (\d+)$/gm)) {
    (w[m[1]] ||= []).push([m[2] === '+Inf' ? Infinity : Number(m[2]), Number(m[3])]);
  }
  return w;
}
function waitQuantiles(a, b) {
  const out = {};
  for (const stage of Object.keys(b)) {
    const d = b[stage].map(([le, c], i) => [le, c - (a[stage]?.[i]?.[1] || 0)]);
    const total = d[d.length - 1][1];
    const q = (p) => { const x = d.find(([, c]) => c >= p * total); return x ? x[0] * 1000 : NaN; };
    out[stage] = { count: total, p50_le_ms: total ? q(0.5) : NaN, p99_le_ms: total ? q(0.99) : NaN };
  }
  return out;
}

// ---- one measured phase --------------------------------------------------------------
let seq = 0;
async function startContainer(rate, count) {
  const name = `ljbench-${process.pid}-${++seq}`;
  const ctl = path.join(dir, `ctl-${seq}`);
  fs.mkdirSync(ctl);
  const r = await docker(['run', '-d', '--network', 'none', '--name', name, '--log-driver', 'json-file',
    '--log-opt', 'max-size=500m', '-v', `${TSGEN}:/tsgen:ro`, '-v', `${ctl}:/ctl`, IMAGE,
    '/tsgen', String(rate), String(count), String(LINE_BYTES), '/ctl/go']);
  if (r.code !== 0) throw new Error(`docker run: ${r.stderr}`);
  const id = r.stdout.trim();
  // registered (the gateway resolves container names through the registry)
  await waitFor(async () => {
    const j = await (await fetch(`http://127.0.0.1:${gwPort}/api/containers`)).json();
    return j.containers.some((c) => c.name === name);
  }, 20000, `${name} registered`);
  const pid = Number((await docker(['inspect', '-f', '{{.State.Pid}}', id])).stdout.trim());
  return { name, id, ctl, pid, shim: shimPid(id) };
}

function runLoad(args, onReady) {
  return new Promise((resolve, reject) => {
    // --client-batch: the clients run SCHED_BATCH (they never preempt a server on
    // wakeup), to tell how much of a latency comes from the clients sharing the cores.
    const p = CLIENT_BATCH ? spawn('chrt', ['-b', '0', WSLOAD, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
      : spawn(WSLOAD, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '', result = null;
    p.stderr.on('data', (d) => { err += d; });
    readline.createInterface({ input: p.stdout }).on('line', (l) => {
      if (l.startsWith('ready')) onReady(l, p);
      else if (l.startsWith('{')) result = JSON.parse(l);
    });
    p.on('exit', (code) => (result ? resolve({ ...result, stderr: err.slice(0, 2000) })
      : reject(new Error(`wsload exited ${code}: ${err.slice(0, 2000)}`))));
  });
}

async function phase(system, n, rate, count) {
  const c = await startContainer(rate, count);
  const subject = `live.logs.${token(HOST)}.${token(c.name)}`;
  const procsN = Math.min(n, 2);
  const args = system === 'gateway'
    ? ['--mode', 'logjet', '--port', String(gwPort), '--path', '/ws', '--container', `${HOST}/${c.name}`,
      '--observe-port', String(wsPort), '--subject', subject]
    : ['--mode', 'nats', '--port', String(wsPort), '--path', '/', '--subject', subject];
  if (DEFLATE) args.push('--deflate');
  args.push('--conns', String(n), '--procs', String(procsN), '--expect', String(count),
    '--idle-ms', String(IDLE_MS), '--timeout', '150');
  const watched = { gateway: gateway.pid, 'nats-server': nats.pid, publisher: publisher.pid,
    dockerd: dockerdPid, containerd: containerdPid, 'shim+tsgen': [c.shim, c.pid] };
  const sample = () => Object.fromEntries(Object.entries(watched).map(([k, p]) =>
    [k, [].concat(p).filter(Boolean).reduce((a, q) => a + ticks(q), 0)]));
  let t0, s0, m0, goAt;
  const w0 = system === 'gateway' ? await gatewayWaits() : null;
  let q0;
  const res = await runLoad(args, (line) => {
    log(`${system} N=${n}: ${line}`);
    s0 = sample();
    q0 = { gateway: schedWait(gateway.pid), nats: schedWait(nats.pid) };
    m0 = machineTicks();
    t0 = process.cpuUsage();
    goAt = Date.now() * 1e6;
    fs.writeFileSync(path.join(c.ctl, 'go'), '');
  });
  const s1 = sample(), m1 = machineTicks(), t1 = process.cpuUsage(t0);
  const q1 = { gateway: schedWait(gateway.pid), nats: schedWait(nats.pid) };
  const waits = w0 ? waitQuantiles(w0, await gatewayWaits()) : null;
  await docker(['rm', '-f', c.name]);
  const span = Math.max(1e-3, (res.last_rx - goAt) / 1e9);              // go -> last line received
  const rxSpan = Math.max(1e-3, (res.last_rx - res.first_rx) / 1e9);
  const cpu = {};
  for (const k of Object.keys(s0)) cpu[k] = ((s1[k] - s0[k]) / CLK_TCK) / span * 100;
  cpu.wsload = (res.cpu_user + res.cpu_sys) / span * 100;
  cpu['bench.mjs'] = (t1.user + t1.system) / 1e6 / span * 100;
  const ours = Object.values(cpu).reduce((a, b) => a + (Number.isFinite(b) ? b : 0), 0);
  cpu.machine = (m1.busy - m0.busy) / CLK_TCK / span * 100;
  cpu.other = cpu.machine - ours;
  cpu.steal = (m1.steal - m0.steal) / CLK_TCK / span * 100;
  // ms per second of the phase that the gateway's service thread / all nats-server
  // threads were ready to run but had no CPU (the machine's contention, not a queue).
  const runq = { gateway_main: (q1.gateway.main - q0.gateway.main) / 1e6 / span,
    gateway_all: (q1.gateway.all - q0.gateway.all) / 1e6 / span,
    nats_all: (q1.nats.all - q0.nats.all) / 1e6 / span };
  // CPU per line: each server's CPU over the phase per line it delivered, and the
  // clients' (wsload's) per line they received and checked.
  const perLine = (pct) => (pct / 100) * span / Math.max(1, res.lines) * 1e6;
  // `system`: all server CPU a deployment pays for the fan-out (the gateway's phase:
  // gateway + nats-server, which still stores and republishes; nats: nats-server alone).
  const us = { gateway: perLine(cpu.gateway), nats: perLine(cpu['nats-server']), client: perLine(cpu.wsload),
    server: perLine(system === 'gateway' ? cpu.gateway : cpu['nats-server']),
    system: perLine(system === 'gateway' ? cpu.gateway + cpu['nats-server'] : cpu['nats-server']) };
  const r = { system, n, rate, count, expected: n * count, lines: res.lines, us_per_line: us,
    wire_bytes_per_line: (res.wire_bytes ?? res.bytes) / Math.max(1, res.lines), deflate_conns: res.deflate_conns, missing: res.missing,
    reorder: res.reorder, gap_lost: res.gap_lost, closed: res.closed, failed: res.failed,
    delivered_per_s: res.lines / rxSpan, rx_span_s: rxSpan, span_s: span,
    p50: res.p50, p90: res.p90, p99: res.p99, p999: res.p999, max: res.max,
    observer_p50: res.observer_p50, observer_p99: res.observer_p99, observer_lines: res.observer_lines,
    hop_p50: res.hop_p50, hop_p99: res.hop_p99, hop_lines: res.hop_lines, frames: res.frames, bytes: res.bytes, cpu, waits, runq };
  const top = Object.entries(cpu).filter(([k]) => !['machine', 'other', 'steal'].includes(k))
    .sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, v]) => `${k} ${v.toFixed(0)}%`).join(', ');
  log(`${system.padEnd(7)} N=${String(n).padStart(4)} ${rate ? rate + '/s' : 'flood'}: ` +
    `${r.lines}/${r.expected} lines (missing ${r.missing}, gap-lost ${r.gap_lost}, closed ${r.closed}), ` +
    `${(r.delivered_per_s / 1000).toFixed(1)}k/s over ${rxSpan.toFixed(1)} s, p50 ${r.p50} p99 ${r.p99} max ${r.max} ms; ` +
    (system === 'gateway' ? `observer p50 ${r.observer_p50} p99 ${r.observer_p99}, gateway hop p50 ${r.hop_p50} p99 ${r.hop_p99} ms; ` : '') +
    `server ${us.server.toFixed(2)} us/line, client ${us.client.toFixed(2)} us/line; CPU ${top}; machine ${cpu.machine.toFixed(0)}% (other ${cpu.other.toFixed(0)}%)` +
    `\n  runqueue wait ms/s: gateway service thread ${runq.gateway_main.toFixed(1)}, gateway ${runq.gateway_all.toFixed(1)}, nats-server ${runq.nats_all.toFixed(1)}` +
    (waits ? `\n  gateway waits (bucket bound p50/p99 ms): ${Object.entries(waits).map(([k, v]) =>
      `${k} ${v.p50_le_ms}/${v.p99_le_ms} (${v.count})`).join(', ')}` : '') + (res.stderr ? `\n  wsload: ${res.stderr.trim()}` : ''));
  await sleep(1500); // let the gateway drop the container's watch and the servers settle
  return r;
}

async function idleMemory(system, n) {
  const c = await startContainer(1, 1);
  const pid = system === 'gateway' ? gateway.pid : nats.pid;
  const args = system === 'gateway'
    ? ['--mode', 'logjet', '--port', String(gwPort), '--path', '/ws', '--container', `${HOST}/${c.name}`]
    : ['--mode', 'nats', '--port', String(wsPort), '--path', '/', '--subject', `live.logs.${token(HOST)}.${token(c.name)}`];
  args.push('--conns', String(n), '--procs', '2', '--hold');
  await sleep(1000);
  const before = rssKB(pid);
  let after = 0;
  await runLoad(args, async (line, p) => {
    log(`${system} idle: ${line}`);
    await sleep(3000);
    after = rssKB(pid);
    p.stdin.end();
  });
  await docker(['rm', '-f', c.name]);
  await sleep(2000);
  const r = { system, n, before_kb: before, after_kb: after, per_conn_kb: (after - before) / n };
  log(`${system} idle memory: ${before} -> ${after} KB RSS, ${r.per_conn_kb.toFixed(1)} KB per subscribed connection (${n})`);
  return r;
}

// ---- the run ------------------------------------------------------------------------
const results = { date: new Date().toISOString(), nproc: os.cpus().length, cpu: os.cpus()[0]?.model,
  loadavg_before: fs.readFileSync('/proc/loadavg', 'utf8').trim(), line_bytes: LINE_BYTES, phases: [], idle: [] };
try {
  // idle memory first, while both servers are fresh (freed memory is not given back)
  if (IDLE) for (const sys of SYSTEMS) results.idle.push(await idleMemory(sys, IDLE));
  for (const n of NS) {
    const count = Math.round(RATE * (n >= 1000 ? Math.min(SECS, 3) : SECS));
    for (let k = 0; k < REPEAT; k++) for (const sys of SYSTEMS) results.phases.push(await phase(sys, n, RATE, count));
  }
  for (const n of FLOOD_NS) {
    const count = n >= 100 ? Math.round(FLOOD_COUNT / 3) : FLOOD_COUNT;
    for (let k = 0; k < REPEAT; k++) for (const sys of SYSTEMS) results.phases.push(await phase(sys, n, 0, count));
  }
} finally {
  results.loadavg_after = fs.readFileSync('/proc/loadavg', 'utf8').trim();
  for (const p of procs.reverse()) {
    p.kill('SIGTERM');
    await new Promise((r) => { const t = setTimeout(r, 5000); p.once('exit', () => { clearTimeout(t); r(); }); });
  }
  const left = await docker(['ps', '-aq', '--filter', `name=^ljbench-${process.pid}-`]);
  if (left.stdout.trim()) await docker(['rm', '-f', ...left.stdout.trim().split('\n')]);
}

// ---- report ---------------------------------------------------------------------------
const fmt = (v) => (v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(0));
const ms = (v) => (v < 0 ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(0));
console.log(`\nmachine: ${results.nproc} x ${results.cpu}; ${results.date}; load before ${results.loadavg_before}, after ${results.loadavg_after}`);
console.log('| load | N | gateway lines/s | nats-ws lines/s | ratio | gateway p50 / p99 ms | nats-ws p50 / p99 ms | delivered gateway / nats-ws |');
console.log('|---|---|---|---|---|---|---|---|');
const keyOf = (p) => `${p.rate}|${p.n}`;
const byKey = {};
for (const p of results.phases) ((byKey[keyOf(p)] ||= {})[p.system] ||= []).push(p);
// median [min-max] of f over a system's repeats of one phase
const spread = (ps, f, show) => {
  if (!ps?.length) return '-';
  const v = ps.map(f).filter(Number.isFinite).sort((a, b) => a - b);
  if (!v.length) return '-';
  const med = v[Math.floor((v.length - 1) / 2)];
  return v.length > 1 ? `${show(med)} [${show(v[0])}-${show(v[v.length - 1])}]` : show(med);
};
const us2 = (v) => v.toFixed(2);
for (const k of Object.keys(byKey)) {
  const g = byKey[k].gateway, a = byKey[k].nats, any = (g || a)[0];
  const ratio = g && a ? spread(g.map((p, i) => ({ p, q: a[i] })).filter((x) => x.q), (x) => x.p.delivered_per_s / x.q.delivered_per_s, us2) : '-';
  console.log(`| ${any.rate ? any.rate + '/s' : 'flood'} | ${any.n} | ${spread(g, (p) => p.delivered_per_s, fmt)} | ` +
    `${spread(a, (p) => p.delivered_per_s, fmt)} | ${ratio} | ` +
    `${spread(g, (p) => p.p50, ms)} / ${spread(g, (p) => p.p99, ms)} | ${spread(a, (p) => p.p50, ms)} / ${spread(a, (p) => p.p99, ms)} | ` +
    `${spread(g, (p) => 100 * p.lines / p.expected, (v) => v.toFixed(1) + '%')} / ${spread(a, (p) => 100 * p.lines / p.expected, (v) => v.toFixed(1) + '%')} |`);
}
console.log(`\nCPU per line (us): each server's CPU per line it delivered, the clients' (wsload) per line received; wire bytes per line${DEFLATE ? ' (permessage-deflate offered)' : ''}; median [min-max] over ${REPEAT}:`);
console.log('| load | N | gateway us/line | nats-server us/line | gateway / nats-server | gateway+its nats-server / nats-server | client us/line, gateway frames | client us/line, NATS frames | wire B/line gateway / NATS | runqueue wait ms/s, gateway thread / nats-server |');
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const k of Object.keys(byKey)) {
  const g = byKey[k].gateway, a = byKey[k].nats, any = (g || a)[0];
  const ratio = g && a ? spread(g.map((p, i) => ({ p, q: a[i] })).filter((x) => x.q), (x) => x.p.us_per_line.server / x.q.us_per_line.server, us2) : '-';
  const sysRatio = g && a ? spread(g.map((p, i) => ({ p, q: a[i] })).filter((x) => x.q), (x) => x.p.us_per_line.system / x.q.us_per_line.system, us2) : '-';
  console.log(`| ${any.rate ? any.rate + '/s' : 'flood'} | ${any.n} | ${spread(g, (p) => p.us_per_line.server, us2)} | ` +
    `${spread(a, (p) => p.us_per_line.server, us2)} | ${ratio} | ${sysRatio} | ${spread(g, (p) => p.us_per_line.client, us2)} | ` +
    `${spread(a, (p) => p.us_per_line.client, us2)} | ${spread(g, (p) => p.wire_bytes_per_line, (v) => v.toFixed(0))} / ` +
    `${spread(a, (p) => p.wire_bytes_per_line, (v) => v.toFixed(0))} | ${spread(g, (p) => p.runq.gateway_main, (v) => v.toFixed(0))} / ` +
    `${spread(a, (p) => p.runq.nats_all, (v) => v.toFixed(0))} |`);
}
console.log('\nCPU, % of one core over the active span:');
const procNames = ['gateway', 'nats-server', 'publisher', 'dockerd', 'containerd', 'shim+tsgen', 'wsload', 'bench.mjs', 'other', 'machine'];
console.log(`| system | load | N | ${procNames.join(' | ')} |`);
console.log(`|---|---|---|${procNames.map(() => '---').join('|')}|`);
for (const p of results.phases) {
  console.log(`| ${p.system} | ${p.rate ? p.rate + '/s' : 'flood'} | ${p.n} | ${procNames.map((k) => (Number.isFinite(p.cpu[k]) ? p.cpu[k].toFixed(0) : '-')).join(' | ')} |`);
}
console.log('\nGateway phases: latency of a direct nats-server websocket client on the same subject in the same phase (observer), and the gateway\'s own hop per line (first gateway client minus observer), ms:');
console.log(`| load | N | observer p50 / p99 | gateway client p50 / p99 | gateway hop p50 / p99 | inside the gateway, arrival to frame p50 / p99 (bucket bound) |`);
console.log('|---|---|---|---|---|---|');
for (const k of Object.keys(byKey)) {
  const g = byKey[k].gateway;
  if (!g) continue;
  console.log(`| ${g[0].rate ? g[0].rate + '/s' : 'flood'} | ${g[0].n} | ${spread(g, (p) => p.observer_p50, ms)} / ${spread(g, (p) => p.observer_p99, ms)} | ` +
    `${spread(g, (p) => p.p50, ms)} / ${spread(g, (p) => p.p99, ms)} | ${spread(g, (p) => p.hop_p50, ms)} / ${spread(g, (p) => p.hop_p99, ms)} | ` +
    `${spread(g, (p) => p.waits?.frame?.p50_le_ms, ms)} / ${spread(g, (p) => p.waits?.frame?.p99_le_ms, ms)} |`);
}
for (const i of results.idle) console.log(`idle ${i.system}: ${i.per_conn_kb.toFixed(1)} KB per connection (${i.n} subscribed, RSS ${i.before_kb} -> ${i.after_kb} KB)`);
if (OUT) fs.writeFileSync(OUT, JSON.stringify(results, null, 2));
fs.rmSync(dir, { recursive: true, force: true });
