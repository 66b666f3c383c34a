// bench/gateway/clientcost.mjs - what each frame format costs a JavaScript client, in V8.
//
// Records real frames from the real servers, then replays them in a tight loop and times
// the client's decode per line:
//   record: nats-server (JetStream, websocket listener with compression allowed), the
//     publisher and the gateway from LOGJET_BUILD_DIR; a container prints lines (120-byte
//     text lines, ~300-byte JSON log lines), first at a low rate (1-3 lines every 100 ms:
//     "live") and then as fast as it can ("flood") while the clients read nothing until
//     JetStream holds the last line (a busy or hidden tab), so that the servers fall behind
//     and batch many lines per frame once they drain (the gateway's --max-queue-bytes is
//     raised so that no client loses a line to a gap). Four `ws` clients
//     receive the same lines, each through a small TCP relay that keeps the server's bytes
//     exactly as they came: the gateway's /ws `lines` frames and nats-server's websocket
//     frames (CONNECT + SUB live.logs.<host>.<container>: HMSG with headers + protobuf
//     LogRecord), each with and without permessage-deflate. The relay's bytes are split
//     into WebSocket messages here and inflated, and checked byte for byte against what
//     `ws` itself delivered.
//   measure: per recorded message, what a browser client does:
//     gateway v1    UTF-8 decode of the text frame + JSON.parse + ui/record.js makeLine per
//                   line (the page's own code: seq, time in µs, container, stream, level,
//                   line_no, text)
//     gateway parse UTF-8 decode + JSON.parse + reading seq/ts/line (no makeLine)
//     nats.js       the `nats` package's own protocol parser (the nats-base-client that
//                   nats.ws runs in browsers) + its MsgImpl and header decoder
//                   (Nats-Sequence) + protobufjs LogRecord.decode with the project's .proto
//                   + TextDecoder of the line + the same record makeLine builds; also by
//                   stage. (nats.ws's subscription dispatch is left out: a lower bound.)
//     NATS minimal  the least a JavaScript NATS client must do, written here for speed
//                   (natsMin below): the same records
//   Every decoder's records are checked against gateway v1's for the same lines.
//     compact A/B   a proposed `"encoding":"compact"` lines frame built from the same
//                   recorded frames (below), decoded to the same record
//     inflate       zlib inflate of each compressed message, one stream per connection
//                   (context takeover as negotiated), sync, as a client's WebSocket does;
//                   also of the uncompressed capture's messages deflated here (zlib
//                   defaults, context takeover), for large frames: with deflate a flood
//                   fits in the socket buffers, the servers never fall behind, and the
//                   deflate captures' floods came in small frames
//   Each: warm-up, then 7 samples of >= 200 ms each, the decoders of the same lines in
//   turns; CPU time of the process (process.cpuUsage, so time spent waiting for a CPU
//   does not count) per line; median and spread. Bytes per line: every WebSocket byte of the data messages (headers included)
//   over the lines they carried.
//
// Compact encoding (not in the gateway; built here from the recorded v1 frames):
//   {"type":"lines","id":"…","container":"h/c","lines":[[seq,"ts","stream","level",line_no,"line"],…]}
//   A: the same values as v1, in arrays, the container once per frame;
//   B: [seq, unix_s, ns, stream 0|1, level 0-6, line_no, "line"] (numbers instead of strings).
//   A truncated line would add a 7th (A) / 8th (B) element `1`.
//
// It does not measure what the page does after it has the record (store, filters, rows:
// the same for every format), the servers' costs (bench.mjs does), nor a browser itself:
// V8 in Node, with Node's zlib for inflate.
//
// Usage: node bench/gateway/clientcost.mjs [--count 20000] [--bursts 100] [--kinds text120,json300]
//          [--samples 7] [--out results.json]
//        node bench/gateway/clientcost.mjs --merge run1.json,run2.json,run3.json
//          (the table over several runs' --out files)
// Needs LOGJET_BUILD_DIR (default build/) with the publisher and gateway built, nats-server
// on PATH and a Docker engine (LOGJET_TEST_DOCKER_HOST, LOGJET_TEST_IMAGE).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Stack, freePort, sleep, waitFor, token, proto } from '../../tests/lib/harness.mjs';
import { makeLine, parseTs } from '../../ui/record.js';

const require = createRequire(new URL('../../tests/package.json', import.meta.url));
const WebSocket = require('ws');
const { Parser, Kind } = require('nats/lib/nats-base-client/parser.js');
const { MsgImpl } = require('nats/lib/nats-base-client/msg.js');

const argv = process.argv.slice(2);
const arg = (k, d) => { const i = argv.indexOf(`--${k}`); return i >= 0 ? argv[i + 1] : d; };
const COUNT = Number(arg('count', 20000));
const BURSTS = Number(arg('bursts', 100));
const KINDS = String(arg('kinds', 'text120,json300')).split(',').filter(Boolean);
const SAMPLES = Number(arg('samples', 7));
const OUT = arg('out', '');
const log = (...a) => console.error(new Date().toISOString().slice(11, 23), ...a);

// ---- the lines the container prints -------------------------------------------------
// busybox sh; $i is the line's number. Fields vary from line to line so that deflate
// meets realistic entropy (ids, counters, durations), not one repeated string.
const LINE = {
  // 120 bytes: an access-log style line, WARN every 7th
  text120: `lv=INFO; [ $((i%7)) -eq 0 ] && lv=WARN
printf '%s  [exec-%02d] shop.OrderController: GET /api/v1/orders/%07d status=200 bytes=%05d dur=%03dms req=%08x\\n' $lv $((i%16)) $i $((i*37%50000)) $((i*13%900)) $((i*40503%4294967296))`,
  // ~300 bytes: a structured JSON log line, warn every 10th, error every 50th
  json300: `lv=info; [ $((i%10)) -eq 0 ] && lv=warn; [ $((i%50)) -eq 0 ] && lv=error
printf '{"time":"2026-12-02T%02d:%02d:%02d.%03dZ","level":"%s","logger":"shop.orders","msg":"order placed","order_id":%d,"customer":"c-%06d","items":%d,"total_cents":%d,"currency":"EUR","trace_id":"%08x%08x","span_id":"%08x","http":{"method":"POST","path":"/api/v1/orders","status":201,"duration_ms":%d}}\\n' $((i/3600000%24)) $((i/60000%60)) $((i/1000%60)) $((i%1000)) $lv $((100000+i)) $((i*7919%1000000)) $((i%9+1)) $((i*4409%250000)) $((i*2654435761%4294967296)) $((i*40503%4294967296)) $((i*69069%4294967296)) $((i*13%900))`,
};
const waitGo = 'while [ ! -e /ctl/go ]; do sleep 0.05; done';
const liveScript = (kind) => `${waitGo}
i=0; b=0
while [ $b -lt ${BURSTS} ]; do
  n=$((b%3+1)); j=0
  while [ $j -lt $n ]; do i=$((i+1)); ${LINE[kind]}
  j=$((j+1)); done
  b=$((b+1)); sleep 0.1
done`;
const floodScript = (kind) => `${waitGo}
i=0
while [ $i -lt ${COUNT} ]; do i=$((i+1)); ${LINE[kind]}
done`;

// ---- a relay that keeps the server's bytes --------------------------------------------
async function relay(targetPort) {
  const r = { chunks: [], up: null, paused: false };
  const srv = net.createServer((down) => {
    const up = net.connect(targetPort, '127.0.0.1');
    r.up = up;
    if (r.paused) up.pause();
    up.on('data', (d) => { r.chunks.push(d); down.write(d); });
    down.on('data', (d) => up.write(d));
    up.on('close', () => down.destroy());
    down.on('close', () => up.destroy());
    up.on('error', () => {});
    down.on('error', () => {});
  });
  srv.listen(0, '127.0.0.1');
  await new Promise((res) => srv.once('listening', res));
  r.port = srv.address().port;
  r.pause = (p) => { r.paused = p; if (r.up) (p ? r.up.pause() : r.up.resume()); };
  r.close = () => { r.up?.destroy(); srv.close(); };
  return r;
}

// One sync raw-inflate stream (zlib's own handle, as Node's one-shot functions drive it),
// fed one message at a time with the 00 00 ff ff tail put back (RFC 7692 7.2.2).
const TAIL = Buffer.from([0, 0, 0xff, 0xff]);
function inflater() {
  const z = zlib.createInflateRaw();
  const h = z._handle, st = z._writeState, out = Buffer.allocUnsafe(256 * 1024);
  const F = zlib.constants.Z_SYNC_FLUSH;
  const inflate = (input) => {
    const parts = [];
    let off = 0, len = input.length;
    for (;;) {
      h.writeSync(F, input, off, len, out, 0, out.length);
      const availOut = st[0], availIn = st[1];
      const have = out.length - availOut;
      if (have) parts.push(Buffer.from(out.subarray(0, have)));
      off += len - availIn; len = availIn;
      if (availOut !== 0) break;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  };
  inflate.reset = () => z.reset();
  return inflate;
}
function deflater() {
  const z = zlib.createDeflateRaw();
  const h = z._handle, st = z._writeState, out = Buffer.allocUnsafe(256 * 1024);
  const F = zlib.constants.Z_SYNC_FLUSH;
  return (input) => {
    const parts = [];
    let off = 0, len = input.length;
    for (;;) {
      h.writeSync(F, input, off, len, out, 0, out.length);
      const availOut = st[0], availIn = st[1];
      const have = out.length - availOut;
      if (have) parts.push(Buffer.from(out.subarray(0, have)));
      off += len - availIn; len = availIn;
      if (availOut !== 0) break;
    }
    const b = parts.length === 1 ? parts[0] : Buffer.concat(parts);
    return b.subarray(0, b.length - 4); // the sync flush's 00 00 ff ff is not sent
  };
}

/** Splits a relay's bytes (the 101 answer, then server frames) into WebSocket messages. */
function splitMessages(bytes) {
  const end = bytes.indexOf('\r\n\r\n');
  const head = bytes.subarray(0, end).toString('latin1');
  const ext = /^sec-websocket-extensions:\s*(.*)$/im.exec(head)?.[1]?.trim() || '';
  const msgs = [];
  let cur = null;
  for (let o = end + 4; o + 2 <= bytes.length;) {
    const b0 = bytes[o], b1 = bytes[o + 1];
    let len = b1 & 0x7f, h = 2;
    if (len === 126) { len = bytes.readUInt16BE(o + 2); h = 4; } else if (len === 127) { len = Number(bytes.readBigUInt64BE(o + 2)); h = 10; }
    if (b1 & 0x80) h += 4; // (servers do not mask)
    if (o + h + len > bytes.length) break; // cut short by the end of the recording
    const op = b0 & 0x0f, payload = bytes.subarray(o + h, o + h + len);
    if (op >= 8) { o += h + len; continue; } // close, ping, pong
    if (op !== 0) cur = { op, rsv1: !!(b0 & 0x40), parts: [], wire: 0 };
    cur.parts.push(payload);
    cur.wire += h + len;
    if (b0 & 0x80) {
      msgs.push({ op: cur.op, rsv1: cur.rsv1, raw: Buffer.concat(cur.parts), wire: cur.wire, frames: cur.parts.length });
      cur = null;
    }
    o += h + len;
  }
  const inf = inflater();
  for (const m of msgs) m.plain = m.rsv1 ? inf(Buffer.concat([m.raw, TAIL])) : m.raw;
  return { ext, msgs };
}

// ---- recording --------------------------------------------------------------------------
let LogRecord;
function gatewayClient(port, ref, deflate) {
  const c = { got: [], lines: 0, maxLn: 0, lost: 0, ready: false };
  c.ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { perMessageDeflate: deflate });
  c.ws.on('open', () => c.ws.send(JSON.stringify({ op: 'subscribe', id: 'cc', container: ref })));
  c.ws.on('message', (d, isBinary) => {
    c.got.push(Buffer.from(d));
    if (isBinary) return;
    const m = JSON.parse(d);
    if (m.type === 'replayed') c.ready = true;
    if (m.type === 'gap') c.lost += m.lost;
    if (m.type === 'lines') for (const l of m.lines) { c.lines++; c.maxLn = Math.max(c.maxLn, l.line_no); }
  });
  c.ws.on('error', (e) => { c.error = e; });
  return c;
}
function natsClient(port, subject, deflate) {
  const c = { got: [], lines: 0, maxLn: 0, lost: 0, ready: false };
  const parser = new Parser({ push(e) {
    if (e.kind === Kind.PONG) c.ready = true;
    if (e.kind === Kind.PING) c.ws.send(Buffer.from('PONG\r\n'));
    if (e.kind === Kind.MSG) {
      const m = new MsgImpl(e.msg, e.data, null);
      c.lines++; c.maxLn = Math.max(c.maxLn, Number(LogRecord.decode(m.data).lineNo));
    }
  } });
  c.ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: deflate });
  c.ws.binaryType = 'nodebuffer';
  c.ws.on('open', () => c.ws.send(Buffer.from('CONNECT {"verbose":false,"pedantic":false,"headers":true,' +
    `"no_responders":true,"protocol":1,"lang":"clientcost","version":"1"}\r\nSUB ${subject} 1\r\nPING\r\n`)));
  c.ws.on('message', (d) => { const b = Buffer.from(d); c.got.push(b); parser.parse(new Uint8Array(b)); });
  c.ws.on('error', (e) => { c.error = e; });
  return c;
}

async function record(stack, wsPort, kind, scenario) {
  const name = `${kind}-${scenario}`;
  const ctl = fs.mkdtempSync(path.join(os.tmpdir(), 'lj-cc-ctl-'));
  fs.chmodSync(ctl, 0o777);
  const c = await stack.run(name, scenario === 'live' ? liveScript(kind) : floodScript(kind), { args: ['-v', `${ctl}:/ctl`] });
  await waitFor(async () => (await (await fetch(`${stack.gatewayUrl}/api/containers`)).json())
    .containers.some((x) => x.name === c.name), 20000, `${c.name} registered`);
  const expect = scenario === 'live' ? Array.from({ length: BURSTS }, (_, b) => b % 3 + 1).reduce((a, b) => a + b, 0) : COUNT;
  const subject = `live.logs.${token(stack.hostId)}.${token(c.name)}`;
  const clients = [];
  for (const sys of ['gateway', 'nats']) {
    for (const deflate of [false, true]) {
      const r = await relay(sys === 'gateway' ? stack.ports.gateway : wsPort);
      const cl = sys === 'gateway' ? gatewayClient(r.port, stack.ref(c.name), deflate) : natsClient(r.port, subject, deflate);
      clients.push({ sys, deflate, r, cl });
    }
  }
  // ready: the gateway answers a live subscription with `replayed` once the container's
  // watch is set up; nats-server's PONG follows the SUB.
  await waitFor(() => clients.every((x) => x.cl.ready || x.cl.error), 20000, 'clients subscribed');
  for (const x of clients) if (x.cl.error) throw x.cl.error;
  await sleep(300);
  // behind: the clients read nothing while the container prints (a busy or hidden tab)
  // until JetStream holds all its lines (at most 8 s: nats-server's write deadline is
  // 10 s), then drain what the servers queued meanwhile.
  if (scenario === 'flood') for (const x of clients) x.r.pause(true);
  fs.writeFileSync(path.join(ctl, 'go'), '');
  const done = () => clients.every((x) => x.cl.maxLn >= expect);
  const t0 = Date.now();
  if (scenario === 'flood') {
    const jsm = await (await stack.nc()).jetstreamManager();
    // the line_no of the newest stored line (the stream keeps only the last 1000)
    const stored = async () => {
      const m = await jsm.streams.getMessage('LOGS', { last_by_subj: stack.subject(c.name) }).catch(() => null);
      return m ? Number(LogRecord.decode(m.data).lineNo) : 0;
    };
    let n = 0;
    while (Date.now() - t0 < 8000 && (n = await stored()) < expect) await sleep(100);
    await sleep(300); // the republish to live.logs and the gateway's hop
    log(`${name}: line ${n} stored after ${Date.now() - t0} ms`);
  }
  for (const x of clients) x.r.pause(false);
  log(`${name}: ${scenario === 'flood' ? 'paused' : 'ran'} ${Date.now() - t0} ms; clients at ${clients.map((x) => x.cl.lines).join(', ')} lines`);
  await waitFor(done, 30000, `${c.name}: every client at line ${expect}`, 50).catch((e) => log(`warning: ${e.message}`));
  await sleep(500);
  const out = [];
  for (const x of clients) {
    x.cl.ws.close();
    x.r.close();
    const { ext, msgs } = splitMessages(Buffer.concat(x.r.chunks));
    // The relay's messages, inflated here, must be exactly what ws delivered.
    const ok = msgs.length === x.cl.got.length && msgs.every((m, i) => m.plain.equals(x.cl.got[i]));
    if (!ok) throw new Error(`${name} ${x.sys} deflate=${x.deflate}: the relay's ${msgs.length} messages differ from ws's ${x.cl.got.length}`);
    if (x.deflate && !/permessage-deflate/.test(ext)) throw new Error(`${x.sys}: permessage-deflate not negotiated`);
    if (x.deflate && !msgs.some((m) => m.rsv1)) throw new Error(`${x.sys}: no compressed message`);
    out.push({ kind, scenario, sys: x.sys, deflate: x.deflate, ext, msgs, received: x.cl.lines, lost: x.cl.lost, expect });
    log(`${name} ${x.sys}${x.deflate ? '+deflate' : ''}: ${x.cl.lines}/${expect} lines (gap-lost ${x.cl.lost}) in ` +
      `${msgs.length} messages${ext ? `; ${ext}` : ''}`);
  }
  await stack.docker(['rm', '-f', c.name]);
  fs.rmSync(ctl, { recursive: true, force: true });
  return out;
}

// ---- decoders: one call per WebSocket message, records go to `sink` ---------------------
const td = new TextDecoder();
const LEVELS = ['unknown', 'trace', 'debug', 'info', 'warn', 'error', 'fatal'];
const STREAMS = ['stdout', 'stderr'];
const RING = new Array(4096);
let ringAt = 0, sum = 0;
const ringSink = (r) => { RING[ringAt++ & 4095] = r; sum += r.seq; };
let sink = ringSink;
/** The records a decoder makes of a capture (for the cross-checks). */
function records(make, bufs) {
  const out = [];
  sink = (r) => out.push(r);
  try { pass(make, bufs); } finally { sink = ringSink; }
  return out;
}
const FIELDS = ['seq', 'c', 'st', 'lv', 'ln', 'line'];
/** Throws unless two decoders made the same records (k within 1 µs: NATS's ns as a double). */
function sameRecords(what, a, b) {
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} records against ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    for (const f of FIELDS) if (a[i][f] !== b[i][f]) throw new Error(`${what}: record ${i} ${f} ${JSON.stringify(a[i][f])} != ${JSON.stringify(b[i][f])}`);
    if (Math.abs(a[i].k - b[i].k) > 1) throw new Error(`${what}: record ${i} time ${a[i].k} != ${b[i].k}`);
  }
}
const num = (v) => (typeof v === 'number' ? v : v.toNumber());

// What the page does with a text frame: Conn.onmessage -> JSON.parse -> Session.onLines -> makeLine.
function gatewayV1() {
  return (buf) => {
    const m = JSON.parse(td.decode(buf));
    if (m.type === 'lines') for (const l of m.lines) sink(makeLine(l));
  };
}
function gatewayParseOnly() {
  return (buf) => {
    const m = JSON.parse(td.decode(buf));
    if (m.type === 'lines') for (const l of m.lines) { sum += l.seq + l.ts.length + l.line.length; }
  };
}
// nats.ws's path for a message on a subscription: Parser -> MsgImpl -> headers -> data.
// stage: 'parse' (the protocol parser alone), 'headers' (+ Nats-Sequence from the
// message's headers), 'proto' (+ LogRecord.decode), 'full' (+ the line's text, the record).
function natsJs(stage = 'full') {
  const parser = new Parser({ push(e) {
    if (e.kind !== Kind.MSG) return;
    if (stage === 'parse') { sum += e.data.length; return; }
    const m = new MsgImpl(e.msg, e.data, null);
    const seq = Number(m.headers.get('Nats-Sequence'));
    if (stage === 'headers') { sum += seq; return; }
    const r = LogRecord.decode(m.data);
    if (stage === 'proto') { sum += seq + r.line.length; return; }
    const line = td.decode(r.line);
    sink({
      g: false, sep: false, seq, k: Math.floor(num(r.tsUnixNano) / 1000), c: r.host + '/' + r.container,
      st: STREAMS[r.stream] || 'stdout', lv: LEVELS[r.level] || 'unknown', ln: num(r.lineNo),
      line, p: null, h: 0, json: undefined, pretty: false, painted: false, m: false, hit: false,
    });
  } });
  return (buf) => parser.parse(buf);
}

// The least a JavaScript client of raw NATS must do, written for speed: a protocol
// reader that only knows the operations a subscriber receives (HMSG, MSG; INFO, PING,
// PONG, +OK, -ERR lines are stepped over), messages split across frames kept, the
// Nats-Sequence header found by its bytes, and a hand-written LogRecord reader (the
// fields the page uses; others skipped by wire type).
const SEQ_KEY = new TextEncoder().encode('Nats-Sequence:');
function natsMin() {
  let pend = null;
  const onMsg = (b, start, hdr, tot) => {
    let seq = 0;
    for (let p = start; p < start + hdr;) { // header lines
      let e = p;
      while (b[e] !== 13) e++;
      let k = 0;
      while (k < SEQ_KEY.length && b[p + k] === SEQ_KEY[k]) k++;
      if (k === SEQ_KEY.length) {
        let q = p + k;
        while (b[q] === 32) q++;
        while (q < e) seq = seq * 10 + (b[q++] - 48);
        break;
      }
      p = e + 2;
    }
    let p = start + hdr;
    const end = start + tot;
    let host = '', container = '', stream = 0, level = 0, ts = 0, lineNo = 0, ls = 0, le = 0, trunc = false;
    while (p < end) {
      const key = b[p++]; // field numbers here are < 16: one byte
      const f = key >> 3, wt = key & 7;
      if (wt === 0) {
        let v = 0, mul = 1, c;
        do { c = b[p++]; v += (c & 0x7f) * mul; mul *= 128; } while (c & 0x80);
        if (f === 4) stream = v; else if (f === 5) ts = v; else if (f === 7) level = v; else if (f === 8) lineNo = v; else if (f === 9) trunc = v !== 0;
      } else if (wt === 2) {
        let n = 0, mul = 1, c;
        do { c = b[p++]; n += (c & 0x7f) * mul; mul *= 128; } while (c & 0x80);
        if (f === 1) host = td.decode(b.subarray(p, p + n));
        else if (f === 3) container = td.decode(b.subarray(p, p + n));
        else if (f === 6) { ls = p; le = p + n; }
        p += n;
      } else if (wt === 1) p += 8;
      else if (wt === 5) p += 4;
      else throw new Error(`LogRecord: wire type ${wt}`);
    }
    sink({
      g: false, sep: false, seq, k: Math.floor(ts / 1000), c: host + '/' + container, st: STREAMS[stream] || 'stdout',
      lv: LEVELS[level] || 'unknown', ln: lineNo, line: td.decode(b.subarray(ls, le)), p: null, h: 0, json: undefined,
      pretty: false, painted: false, m: false, hit: false, t: trunc,
    });
  };
  return (chunk) => {
    let b = chunk;
    if (pend) { b = new Uint8Array(pend.length + chunk.length); b.set(pend); b.set(chunk, pend.length); pend = null; }
    const n = b.length;
    for (let i = 0; i < n;) {
      const e = b.indexOf(10, i);
      if (e < 0) { pend = b.slice(i); return; }
      const c0 = b[i];
      if ((c0 === 72 && b[i + 1] === 77) || (c0 === 77 && b[i + 1] === 83)) { // HMSG / MSG: ... [hdr] total\r\n
        let j = e - 2, tot = 0, mul = 1;
        while (b[j] !== 32) { tot += (b[j--] - 48) * mul; mul *= 10; }
        let hdr = 0;
        if (c0 === 72) { j--; mul = 1; while (b[j] !== 32) { hdr += (b[j--] - 48) * mul; mul *= 10; } }
        const start = e + 1;
        if (start + tot + 2 > n) { pend = b.slice(i); return; }
        onMsg(b, start, hdr, tot);
        i = start + tot + 2;
      } else i = e + 1; // INFO, PING, PONG, +OK, -ERR
    }
  };
}
function compactA() {
  return (buf) => {
    const m = JSON.parse(td.decode(buf));
    if (m.type !== 'lines') return;
    const c = m.container;
    for (const a of m.lines) {
      sink({
        g: false, sep: false, seq: a[0], k: parseTs(a[1]), c: a.length > 7 ? a[7] : c, st: a[2] === 'stderr' ? 'stderr' : 'stdout',
        lv: a[3], ln: a[4], line: a[5], p: null, h: 0, json: undefined, pretty: false, painted: false, m: false, hit: false,
      });
    }
  };
}
function compactB() {
  return (buf) => {
    const m = JSON.parse(td.decode(buf));
    if (m.type !== 'lines') return;
    const c = m.container;
    for (const a of m.lines) {
      sink({
        g: false, sep: false, seq: a[0], k: a[1] * 1e6 + Math.floor(a[2] / 1000), c: a.length > 8 ? a[8] : c,
        st: STREAMS[a[3]] || 'stdout', lv: LEVELS[a[4]] || 'unknown', ln: a[5], line: a[6],
        p: null, h: 0, json: undefined, pretty: false, painted: false, m: false, hit: false,
      });
    }
  };
}
const LEVEL_NO = Object.fromEntries(LEVELS.map((l, i) => [l, i]));
/** The recorded v1 messages as compact frames (A or B); other frames unchanged. */
function toCompact(msgs, variant) {
  return msgs.map((mm) => {
    const m = JSON.parse(mm.plain);
    if (m.type !== 'lines') return mm.plain;
    const c = m.lines[0].container;
    const one = m.lines.every((l) => l.container === c);
    const lines = m.lines.map((l) => {
      let a;
      if (variant === 'A') a = [l.seq, l.ts, l.stream, l.level, l.line_no, l.line];
      else {
        const s = Math.floor(Date.parse(l.ts.slice(0, 19) + 'Z') / 1000);
        const ns = Number((l.ts.slice(20, -1) + '000000000').slice(0, 9));
        a = [l.seq, s, ns, l.stream === 'stderr' ? 1 : 0, LEVEL_NO[l.level] ?? 0, l.line_no, l.line];
      }
      if (l.truncated) a.push(1);
      if (!one) { while (a.length < (variant === 'A' ? 7 : 8)) a.push(0); a.push(l.container); }
      return a;
    });
    return Buffer.from(JSON.stringify({ type: 'lines', id: m.id, ...(one ? { container: c } : {}), lines }));
  });
}

// ---- timing -----------------------------------------------------------------------------
function pass(make, bufs) {
  const f = make();
  for (let i = 0; i < bufs.length; i++) f(bufs[i]);
}
// measure() queues a decoder and returns its result object; runQueued() fills them:
// each warmed up, then the samples taken in turns (one of each decoder, again and
// again), so that a change in the machine's load falls on all of them alike.
const queued = [];
function measure(make, bufs, lines) {
  const res = {};
  queued.push({ make, bufs, lines, res, cpu: [], wall: [] });
  return res;
}
function runQueued() {
  const cpuNs = () => { const u = process.cpuUsage(); return (u.user + u.system) * 1000; };
  const t = () => Number(process.hrtime.bigint());
  for (const q of queued) for (const end = t() + 300e6; t() < end;) pass(q.make, q.bufs); // warm-up
  for (let s = 0; s < SAMPLES; s++) {
    for (const q of queued) {
      const c0 = cpuNs(), w0 = t();
      let n = 0;
      do { pass(q.make, q.bufs); n++; } while (t() - w0 < 200e6);
      q.cpu.push((cpuNs() - c0) / (n * q.lines));
      q.wall.push((t() - w0) / (n * q.lines));
    }
  }
  const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  for (const q of queued) Object.assign(q.res, { ns: med(q.cpu), min: Math.min(...q.cpu), max: Math.max(...q.cpu), wall: med(q.wall) });
  queued.length = 0;
}
const u8 = (b) => new Uint8Array(b.buffer, b.byteOffset, b.length);

function linesIn(cap) {
  if (cap.sys === 'gateway') {
    return cap.msgs.map((m) => { const j = JSON.parse(m.plain); return j.type === 'lines' ? j.lines.length : 0; });
  }
  const st = { hdr: 0, size: 0 };
  const p = new Parser({ push(e) { if (e.kind === Kind.MSG) { p.n++; st.hdr += e.msg.hdr; st.size += e.msg.size; } } });
  const per = cap.msgs.map((m) => { p.n = 0; p.parse(u8(m.plain)); return p.n; });
  per.natsBytes = st; // header and whole-message bytes (the protobuf is size - hdr)
  return per;
}

// ---- --merge: the table over several runs' --out files ------------------------------------
// Each cell: the median over the runs of each run's median (the runs' lowest and highest).
function merge(files) {
  const runs = files.map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
  const rowsOf = (r) => `${r.kind}|${r.scenario}|${r.sys}|${r.deflate}`;
  const by = new Map();
  for (const run of runs) for (const r of run) { const k = rowsOf(r); if (!by.has(k)) by.set(k, []); by.get(k).push(r); }
  const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
  const stat = (rs, get) => { const v = rs.map(get).filter((x) => Number.isFinite(x)); return v.length ? { m: med(v), lo: Math.min(...v), hi: Math.max(...v) } : null; };
  const c = (s, d = 0) => (s ? (runs.length > 1 ? `${s.m.toFixed(d)} (${s.lo.toFixed(d)}-${s.hi.toFixed(d)})` : s.m.toFixed(d)) : '');
  const samples = [...new Set(runs.flat().map((r) => r.samples ?? SAMPLES))].join(', ');
  console.log(`${runs.length} runs; ns of CPU per line: median over the runs of each run's median of ${samples} samples (lowest-highest run)\n`);
  console.log('| lines | phase | format | lines/msg: mean, median line\'s | B/line | decode ns | inflate ns | total ns | x v1 |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [k, rs] of by) {
    const [kind, scenario, sys, deflate] = k.split('|');
    const z = deflate === 'true' ? ' + deflate' : '';
    const head = `| ${kind} | ${scenario} |`;
    const per = `${c(stat(rs, (r) => r.lines_per_msg), 1)}, ${c(stat(rs, (r) => r.line_median_msg))}`;
    const wire = c(stat(rs, (r) => r.wire_per_line));
    const inf = stat(rs, (r) => r.decode.inflate?.ns);
    // x v1: the row's total over gateway v1's decode of the same lines in the same run
    // (measured in turns with it, so the machine's load changes cancel out)
    const base = by.get(`${kind}|${scenario}|gateway|false`);
    const line = (name, get, infl, bytes = wire, p = per, part = false) => {
      const d = stat(rs, get);
      const tot = (r) => get(r) + (infl ? infl(r) : 0);
      const x = stat(rs, (r, i) => tot(r) / base[rs.indexOf(r)].decode.v1.ns);
      console.log(`${head} ${name} | ${p} | ${bytes} | ${c(d)} | ${part ? '' : infl ? c(stat(rs, infl)) : '-'} | ` +
        `${part ? '' : c(stat(rs, tot))} | ${c(x, 2)} |`);
    };
    if (sys === 'gateway') {
      line(`gateway v1${z}`, (r) => r.decode.v1.ns, inf && ((r) => r.decode.inflate.ns));
      line('(of which UTF-8 + JSON.parse)', (r) => r.decode.parse.ns, null, '', '', true);
      if (!z) {
        line('gateway v1, same frames deflated here', (r) => r.decode.v1.ns, (r) => r.decode.inflate_redeflated.ns, c(stat(rs, (r) => r.redeflated_per_line)));
        for (const v of ['A', 'B']) {
          line(`compact ${v}, same frames`, (r) => r.decode[`compact${v}`].ns, null,
            `${c(stat(rs, (r) => r[`compact${v}_per_line`]))}; deflated ${c(stat(rs, (r) => r[`compact${v}_deflate_per_line`]))}`);
        }
      }
    } else {
      line(`NATS, nats.js + protobufjs${z}`, (r) => r.decode.natsjs.ns, inf && ((r) => r.decode.inflate.ns));
      line(`NATS, minimal reader${z}`, (r) => r.decode.natsmin.ns, inf && ((r) => r.decode.inflate.ns), '', '');
      if (!z) {
        line('NATS, nats.js, same frames deflated here', (r) => r.decode.natsjs.ns, (r) => r.decode.inflate_redeflated.ns, c(stat(rs, (r) => r.redeflated_per_line)));
        const st = ['natsjs_parse', 'natsjs_headers', 'natsjs_proto', 'natsjs'].map((s) => c(stat(rs, (r) => r.decode[s].ns))).join(' / ');
        console.log(`${head} (nats.js by stage: parser / + headers / + LogRecord.decode / + text and record) | | | ${st} | | | |`);
        console.log(`${head} (NATS bytes per line: headers / LogRecord) | | ${c(stat(rs, (r) => r.nats_header_per_line))} / ${c(stat(rs, (r) => r.nats_protobuf_per_line))} | | | | |`);
      }
    }
  }
}

// ---- main -------------------------------------------------------------------------------
if (arg('merge', '')) { merge(arg('merge').split(',')); process.exit(0); }
({ LogRecord } = await proto());
const wsPort = await freePort();
const stack = await Stack.start({
  publisher: true, gateway: true,
  gatewayArgs: ['--max-queue-bytes', String(256 << 20)], // a client far behind gets every line, no gap
  natsConfig: (s) => [`jetstream { store_dir: "${s.storeDir}" }`,
    `websocket { listen: "127.0.0.1:${wsPort}", no_tls: true, compression: true }`, ''].join('\n'),
});
let caps = [];
try {
  for (const kind of KINDS) {
    for (const scenario of ['live', 'flood']) caps = caps.concat(await record(stack, wsPort, kind, scenario));
  }
} finally {
  await stack.stop();
}

log('measuring');
const rows = [];
const refs = {};
for (const cap of caps) {
  const per = linesIn(cap);
  const lines = per.reduce((a, b) => a + b, 0);
  const data = cap.msgs.filter((m, i) => per[i] > 0);
  const wire = data.reduce((a, m) => a + m.wire, 0);
  const plainBytes = data.reduce((a, m) => a + m.plain.length, 0);
  const bufs = cap.msgs.map((m) => (cap.sys === 'nats' ? u8(m.plain) : m.plain));
  const row = { kind: cap.kind, scenario: cap.scenario, sys: cap.sys, deflate: cap.deflate, ext: cap.ext, samples: SAMPLES,
    lines, messages: data.length, lines_per_msg: lines / data.length,
    // the median line's message: half the lines came in messages of at least this many
    line_median_msg: (() => { const a = per.filter((n) => n > 0).sort((x, y) => x - y); let acc = 0; for (const n of a) { acc += n; if (acc >= lines / 2) return n; } return 0; })(), wire_per_line: wire / lines,
    payload_per_line: plainBytes / lines, decode: {} };
  // Every decoder must make the same records, and the same as the other system's for
  // the same lines (by line_no: both clients saw every line of the container).
  const ref = records(cap.sys === 'gateway' ? gatewayV1 : natsJs, bufs);
  if (ref.length !== lines) throw new Error(`${cap.kind} ${cap.scenario} ${cap.sys}: ${ref.length} records, ${lines} lines`);
  const key = `${cap.kind} ${cap.scenario}`;
  if (!refs[key]) refs[key] = ref;
  else sameRecords(`${key} ${cap.sys}${cap.deflate ? '+deflate' : ''} vs gateway`, [...ref].sort((x, y) => x.ln - y.ln), [...refs[key]].sort((x, y) => x.ln - y.ln));
  if (cap.sys === 'nats') sameRecords(`${key} minimal reader`, records(natsMin, bufs), ref);
  if (cap.sys === 'gateway' && !cap.deflate) {
    for (const v of ['A', 'B']) sameRecords(`${key} compact ${v}`, records(v === 'A' ? compactA : compactB, toCompact(cap.msgs, v)), ref);
  }
  if (cap.sys === 'gateway') {
    row.decode.v1 = measure(gatewayV1, bufs, lines);
    row.decode.parse = measure(gatewayParseOnly, bufs, lines);
    if (!cap.deflate) {
      for (const v of ['A', 'B']) {
        const cb = toCompact(cap.msgs, v);
        const cdata = cb.filter((b, i) => per[i] > 0);
        // bytes: payload + a WebSocket header (2, 4 or 10 bytes) per message
        const hdr = (n) => (n < 126 ? 2 : n < 65536 ? 4 : 10);
        row[`compact${v}_per_line`] = cdata.reduce((a, b) => a + b.length + hdr(b.length), 0) / lines;
        const d = deflater();
        row[`compact${v}_deflate_per_line`] = cdata.reduce((a, b) => { const z = d(b); return a + z.length + hdr(z.length); }, 0) / lines;
        row.decode[`compact${v}`] = measure(v === 'A' ? compactA : compactB, cb, lines);
      }
    }
  } else {
    row.decode.natsjs = measure(natsJs, bufs, lines);
    row.decode.natsmin = measure(natsMin, bufs, lines);
    if (!cap.deflate) for (const st of ['parse', 'headers', 'proto']) row.decode[`natsjs_${st}`] = measure(() => natsJs(st), bufs, lines);
  }
  if (per.natsBytes) {
    row.nats_header_per_line = per.natsBytes.hdr / lines;
    row.nats_protobuf_per_line = (per.natsBytes.size - per.natsBytes.hdr) / lines;
  }
  if (!cap.deflate) {
    // The same messages deflated here (zlib defaults, one stream with context takeover,
    // as the gateway negotiates): bytes, and the inflate cost of messages as large as
    // the uncompressed capture's (a compressed flood fits in the socket buffers, so the
    // servers never fell behind in the deflate captures and sent small frames).
    const d = deflater();
    const raws = cap.msgs.map((m) => Buffer.concat([d(m.plain), TAIL]));
    row.redeflated_per_line = raws.reduce((a, z, i) => a + (per[i] > 0 ? z.length - 4 + (z.length - 4 < 126 ? 2 : z.length - 4 < 65536 ? 4 : 10) : 0), 0) / lines;
    const inf = inflater();
    if (!cap.msgs.every((m, i) => inf(raws[i]).equals(m.plain))) throw new Error(`${cap.kind} ${cap.scenario} ${cap.sys}: re-deflated messages do not inflate back`);
    row.decode.inflate_redeflated = measure(() => { inf.reset(); return (b) => inf(b); }, raws, lines);
  }
  if (cap.deflate) {
    const raws = cap.msgs.map((m) => (m.rsv1 ? Buffer.concat([m.raw, TAIL]) : null));
    // one inflate stream per connection, reset (not rebuilt) before each pass
    const inf = inflater();
    inf.reset();
    if (!cap.msgs.every((m, i) => !raws[i] || inf(raws[i]).equals(m.plain))) throw new Error(`${cap.kind} ${cap.scenario} ${cap.sys}: inflate after reset differs`);
    row.decode.inflate = measure(() => { inf.reset(); return (b) => { if (b) inf(b); }; }, raws, lines);
  }
  rows.push(row);
  // the four captures of the same lines (gateway, NATS, each with and without deflate)
  // are measured together, their decoders in turns
  const next = caps[caps.indexOf(cap) + 1];
  if (next && next.kind === cap.kind && next.scenario === cap.scenario) continue;
  runQueued();
  for (const row of rows.filter((r) => r.kind === cap.kind && r.scenario === cap.scenario)) log(`${row.kind} ${row.scenario} ${row.sys}${row.deflate ? '+deflate' : ''}: ${lines} lines, ${row.lines_per_msg.toFixed(1)}/msg, ` +
    `median line in a message of ${row.line_median_msg}, ${row.wire_per_line.toFixed(0)} B/line; ` + Object.entries(row.decode).map(([k, v]) => `${k} ${v.ns.toFixed(0)} ns`).join(', '));
}
if (sum === -1) console.log(RING.length); // (keeps the sink's work observable)

// ---- the table --------------------------------------------------------------------------
const f0 = (x) => (x === undefined ? '-' : x.toFixed(0));
const cell = (d) => (d ? `${f0(d.ns)} (${f0(d.min)}-${f0(d.max)})` : '-');
console.log(`\nV8 ${process.versions.v8} (Node ${process.version}), ${os.cpus()[0].model}, ${os.cpus().length} CPUs, ` +
  `load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, ${new Date().toISOString()}`);
console.log('\nns of CPU per line, median of ' + SAMPLES + ' samples (min-max); B/line: bytes on the wire per line, WebSocket headers included; ' +
  'lines/msg: lines per WebSocket message, mean, and the size of the message holding the median line\n');
console.log('| lines | phase | format | lines/msg: mean, median line\'s | B/line | decode | inflate | total |');
console.log('|---|---|---|---|---|---|---|---|');
const tot = (d, r) => f0(d.ns + (r.decode.inflate ? r.decode.inflate.ns : 0));
for (const r of rows) {
  const z = r.deflate ? ' + deflate' : '';
  const head = `| ${r.kind} | ${r.scenario} |`;
  const per = `${r.lines_per_msg.toFixed(1)}, ${r.line_median_msg}`;
  if (r.sys === 'gateway') {
    console.log(`${head} gateway v1${z} | ${per} | ${f0(r.wire_per_line)} | ${cell(r.decode.v1)} | ${cell(r.decode.inflate)} | ${tot(r.decode.v1, r)} |`);
    console.log(`${head} (of which UTF-8 + JSON.parse${z}) | | | ${cell(r.decode.parse)} | | |`);
  } else {
    console.log(`${head} NATS, nats.js + protobufjs${z} | ${per} | ${f0(r.wire_per_line)} | ${cell(r.decode.natsjs)} | ${cell(r.decode.inflate)} | ${tot(r.decode.natsjs, r)} |`);
    console.log(`${head} NATS, minimal reader${z} | | | ${cell(r.decode.natsmin)} | ${cell(r.decode.inflate)} | ${tot(r.decode.natsmin, r)} |`);
  }
  if (r.decode.inflate_redeflated) {
    const dec = r.sys === 'gateway' ? r.decode.v1 : r.decode.natsjs;
    console.log(`${head} ${r.sys === 'gateway' ? 'gateway v1' : 'NATS, nats.js'}, these frames deflated here | ${per} | ${f0(r.redeflated_per_line)} | ` +
      `${cell(dec)} | ${cell(r.decode.inflate_redeflated)} | ${f0(dec.ns + r.decode.inflate_redeflated.ns)} |`);
  }
  if (r.decode.compactA) {
    for (const v of ['A', 'B']) {
      console.log(`${head} compact ${v} (same frames) | ${per} | ${f0(r[`compact${v}_per_line`])} (deflated ${f0(r[`compact${v}_deflate_per_line`])}) | ` +
        `${cell(r.decode[`compact${v}`])} | | ${f0(r.decode[`compact${v}`].ns)} |`);
    }
  }
}
console.log('\nNATS message bytes per line: ' + rows.filter((r) => r.sys === 'nats' && !r.deflate)
  .map((r) => `${r.kind} ${r.scenario}: headers ${f0(r.nats_header_per_line)}, LogRecord ${f0(r.nats_protobuf_per_line)}`).join('; '));
console.log('\nnats.js path by stage, ns per line (cumulative: protocol parser; + MsgImpl and headers; + LogRecord.decode; + TextDecoder and the record):');
for (const r of rows.filter((x) => x.decode.natsjs_parse)) {
  console.log(`- ${r.kind} ${r.scenario}: ${f0(r.decode.natsjs_parse.ns)} / ${f0(r.decode.natsjs_headers.ns)} / ${f0(r.decode.natsjs_proto.ns)} / ${f0(r.decode.natsjs.ns)}`);
}
if (OUT) fs.writeFileSync(OUT, JSON.stringify(rows.map((r) => ({ ...r })), null, 1));
