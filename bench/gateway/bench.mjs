// bench/gateway/bench.mjs - logjet-gateway vs nats-server's own WebSocket listener.
// Status: first cut. The node load generator (publisher and all receivers in one process)
// saturates before either server does, so its latencies measure node's event loop, not
// the servers; a C publisher and receivers split over processes are the next step.
//
// One container's records are published to JetStream at a fixed rate (or as fast as
// possible: "flood"); N clients receive them through (A) the gateway's /ws and (B)
// nats-server's websocket listener speaking raw NATS protocol, subscribed to the same
// republished subject. Reported: delivered lines/s over all clients, and p50/p99
// latency from publish (ts_unix_nano in the record) to receipt on a sample of clients.
// Usage: node bench.mjs [--n 1,100,1000] [--rate 5000] [--secs 10] [--flood]
// Needs the build dir (LOGJET_BUILD_DIR, default build/) and nats-server on PATH.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
const require = createRequire(new URL('../../tests/package.json', import.meta.url));
const WebSocket = require('ws');
const { connect, headers } = require('nats');
const protobuf = require('protobufjs');

const arg = (k, d) => { const i = process.argv.indexOf(`--${k}`); return i > 0 ? process.argv[i + 1] : d; };
const NS = arg('n', '1,100,1000').split(',').map(Number);
const RATE = Number(arg('rate', 5000)), SECS = Number(arg('secs', 10)), FLOOD = process.argv.includes('--flood');
const SRC = path.resolve(new URL('../..', import.meta.url).pathname);
const BUILD = process.env.LOGJET_BUILD_DIR || path.join(SRC, 'build');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lj-bench-'));
const port = 20000 + Math.floor(Math.random() * 20000), wsPort = port + 1, gwPort = port + 2;
fs.writeFileSync(path.join(dir, 'nats.conf'),
  `listen: 127.0.0.1:${port}\njetstream { store_dir: "${dir}/js" }\nwebsocket { listen: "127.0.0.1:${wsPort}", no_tls: true }\nmax_payload: 1MB\n`);
const nats = spawn('nats-server', ['-c', path.join(dir, 'nats.conf')], { stdio: 'ignore' });
await sleep(800);
const root = await protobuf.load(path.join(SRC, 'proto/logjet/v1/logjet.proto'));
const LogRecord = root.lookupType('logjet.v1.LogRecord');
const nc = await connect({ servers: `nats://127.0.0.1:${port}` });
const jsm = await nc.jetstreamManager();
await jsm.streams.add({ name: 'LOGS', subjects: ['logs.>'], max_msgs_per_subject: 1000, storage: 'file',
  allow_direct: true, republish: { src: 'logs.>', dest: 'live.logs.>' } });
const js = nc.jetstream();
const gw = spawn(path.join(BUILD, 'gateway/logjet-gateway'), ['--nats-url', `nats://127.0.0.1:${port}`,
  '--listen', `127.0.0.1:${gwPort}`, '--max-clients', '5000', '--permessage-deflate=false'], { stdio: 'ignore' });
await sleep(800);

const filler = 'x'.repeat(120);
let lineNo = 0;
function record() {
  lineNo++;
  return LogRecord.encode({ host: 'bench', containerId: 'c'.repeat(64), container: 'app', tsUnixNano: Date.now() * 1e6,
    line: Buffer.from(`${lineNo} ${filler}`), level: 3, lineNo }).finish();
}
async function publish(secs) {
  const end = Date.now() + secs * 1000;
  let sent = 0;
  const t0 = Date.now();
  while (Date.now() < end) {
    const batch = [];
    const want = FLOOD ? 500 : Math.max(0, Math.floor(((Date.now() - t0) / 1000) * RATE) - sent);
    for (let i = 0; i < want; i++) batch.push(js.publish('logs.bench.app', record()));
    await Promise.all(batch);
    sent += want;
    if (!FLOOD) await sleep(2);
  }
  return sent;
}
function pct(a, p) { if (!a.length) return NaN; a.sort((x, y) => x - y); return a[Math.min(a.length - 1, Math.floor(a.length * p))]; }

async function gatewayClients(n, lat) {
  const cs = [];
  let count = 0;
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${gwPort}/ws`, { perMessageDeflate: false });
    await new Promise((r) => ws.once('open', r));
    const sample = i < 5;
    ws.on('message', (d) => {
      const s = d.toString();
      if (!s.startsWith('{"type":"lines"')) return;
      if (sample) {
        const now = Date.now(), m = JSON.parse(s);
        for (const l of m.lines) lat.push(now - Date.parse(l.ts));
        count += m.lines.length;
      } else count += (s.match(/"seq":/g) || []).length;
    });
    ws.send(JSON.stringify({ op: 'subscribe', id: 'b', container: 'bench/app' }));
    cs.push(ws);
  }
  return { cs, count: () => count };
}

async function natsWsClients(n, lat) {
  const cs = [];
  let count = 0;
  for (let i = 0; i < n; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${wsPort}`, { perMessageDeflate: false });
    await new Promise((r) => ws.once('open', r));
    const sample = i < 5;
    ws.on('message', (d) => {
      const s = d.toString('latin1');
      let k = 0, at = 0;
      while ((at = s.indexOf('HMSG ', at)) >= 0) { k++; at += 5; }
      if (sample && k) {
        // decode the records of this frame for their timestamps
        const now = Date.now() * 1e6, b = Buffer.from(d);
        let p = 0;
        while ((p = b.indexOf('HMSG ', p, 'latin1')) >= 0) {
          const eol = b.indexOf('\r\n', p, 'latin1');
          const parts = b.slice(p, eol).toString().split(' ');
          const hlen = Number(parts.at(-2)), tlen = Number(parts.at(-1));
          const body = b.slice(eol + 2 + hlen, eol + 2 + tlen);
          try { lat.push((now - Number(LogRecord.decode(body).tsUnixNano)) / 1e6); } catch {}
          p = eol + 2 + tlen;
        }
      }
      count += k;
      if (s.includes('PING')) ws.send('PONG\r\n');
    });
    ws.send('CONNECT {"verbose":false,"pedantic":false,"headers":true,"no_responders":true,"protocol":1}\r\nSUB live.logs.bench.app 1\r\n');
    cs.push(ws);
  }
  return { cs, count: () => count };
}

async function one(kind, n) {
  const lat = [];
  const set = kind === 'gateway' ? await gatewayClients(n, lat) : await natsWsClients(n, lat);
  await sleep(1000);
  const c0 = set.count();
  const t0 = Date.now();
  const sent = await publish(SECS);
  await sleep(1000);
  const delivered = set.count() - c0, secs = (Date.now() - t0) / 1000;
  for (const ws of set.cs) ws.terminate();
  await sleep(500);
  return { kind, n, sent, rate: sent / SECS, delivered, perSec: delivered / secs, expected: sent * n,
    p50: pct(lat, 0.5), p99: pct(lat, 0.99) };
}

const rows = [];
for (const n of NS) for (const kind of ['gateway', 'nats-ws']) {
  const r = await one(kind, n);
  rows.push(r);
  console.log(`${kind.padEnd(8)} N=${String(n).padStart(4)} published ${r.rate.toFixed(0)}/s delivered ${r.perSec.toFixed(0)}/s ` +
    `(${(100 * r.delivered / r.expected).toFixed(1)}% of ${r.expected}) p50 ${r.p50.toFixed(2)} ms p99 ${r.p99.toFixed(2)} ms`);
}
// idle memory per connection
{
  const rss = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${gw.pid}/status`, 'utf8'))[1]);
  const before = rss();
  const cs = [];
  for (let i = 0; i < 1000; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${gwPort}/ws`, { perMessageDeflate: false });
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ op: 'subscribe', id: 'b', container: 'bench/app' }));
    cs.push(ws);
  }
  await sleep(1500);
  console.log(`gateway idle memory: ${((rss() - before) / 1000).toFixed(1)} KB per subscribed connection (1000 connections)`);
  for (const ws of cs) ws.terminate();
}
gw.kill('SIGTERM');
await nc.close();
nats.kill('SIGTERM');
await sleep(300);
fs.rmSync(dir, { recursive: true, force: true });
