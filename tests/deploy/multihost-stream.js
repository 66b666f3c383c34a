// The raw side of tests/deploy/multihost.sh: reads every record of the JetStream
// stream straight from NATS (no gateway) and compares each container's records with
// its own engine's `docker logs`: per container exactly Docker's lines, once each, in
// Docker's order, line_no 1..N, on the subject logs.<host>.<container> (=HH escape).
// A line missing here was lost by the publisher or NATS; one missing only at the
// WebSocket client was lost by the gateway or the client's resume.
//
// usage: node multihost-stream.js NATS_URLS STREAM LOGS_DIR
// LOGS_DIR/<host>/<name> holds each container's `docker logs`. Prints one line per
// container and a summary; exit 0 when every container holds.
'use strict';
const fs = require('fs');
const path = require('path');
const protobuf = require('protobufjs');
const { connect, AckPolicy, DeliverPolicy, nanos } = require('nats');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const [urls, stream, logsDir] = process.argv.slice(2);
if (!urls || !stream || !logsDir) {
  console.error('usage: node multihost-stream.js NATS_URLS STREAM LOGS_DIR');
  process.exit(2);
}

// The =HH escape of subject tokens (common/subject.c): every byte outside [A-Za-z0-9_-].
function escapeToken(s) {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ||
      b === 0x5f || b === 0x2d;
    out += ok ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

// After a failover JetStream API calls fail until the leaders are elected.
async function retry(what, fn) {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (i >= 30) throw new Error(`${what}: ${e.message}`);
      await sleep(1000);
    }
  }
}

async function readStream() {
  const root = await protobuf.load(path.join(__dirname, '../../proto/logjet/v1/logjet.proto'));
  const LogRecord = root.lookupType('logjet.v1.LogRecord');
  const nc = await connect({ servers: urls.split(','), timeout: 10000 });
  const got = new Map(); // "host/name" -> [{seq, subject, line_no, line}]
  try {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager({ timeout: 5000 });
    const info = await retry('create consumer', () => jsm.consumers.add(stream, {
      filter_subject: 'logs.>', ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All,
      inactive_threshold: nanos(120000), mem_storage: true, num_replicas: 1,
    }));
    const consumer = await js.consumers.get(stream, info.name);
    for (;;) {
      let n = 0;
      const batch = await consumer.fetch({ max_messages: 1000, expires: 2000 });
      for await (const m of batch) {
        n++;
        const r = LogRecord.toObject(LogRecord.decode(m.data), { longs: Number, defaults: true });
        const key = `${r.host}/${r.container}`;
        if (!got.has(key)) got.set(key, []);
        got.get(key).push({ seq: m.seq, subject: m.subject, line_no: r.lineNo,
          line: Buffer.from(r.line).toString('utf8') });
      }
      if (n === 0) break;
    }
  } finally {
    await nc.close();
  }
  return got;
}

async function main() {
  const got = await readStream();
  const problems = [];
  let records = 0;
  let wanted = 0;
  const seenKeys = new Set();
  for (const host of fs.readdirSync(logsDir).sort()) {
    for (const name of fs.readdirSync(path.join(logsDir, host)).sort()) {
      const key = `${host}/${name}`;
      seenKeys.add(key);
      const text = fs.readFileSync(path.join(logsDir, host, name), 'utf8');
      const want = text === '' ? [] : text.replace(/\n$/, '').split('\n');
      const have = got.get(key) || [];
      const subject = `logs.${escapeToken(host)}.${escapeToken(name)}`;
      wanted += want.length;
      records += have.length;
      const bad = [];
      for (let i = 0; i < Math.max(want.length, have.length) && bad.length < 3; i++) {
        const h = have[i];
        if (!h) bad.push(`record ${i + 1} missing (docker: "${want[i]}")`);
        else if (h.line !== want[i]) bad.push(`record ${i + 1} (seq ${h.seq}) is "${h.line}", docker has "${want[i] === undefined ? 'nothing' : want[i]}"`);
        else if (h.line_no !== i + 1) bad.push(`record ${i + 1} (seq ${h.seq}) has line_no ${h.line_no}`);
        else if (h.subject !== subject) bad.push(`record ${i + 1} on subject ${h.subject}, want ${subject}`);
      }
      if (want.length >= 1000) bad.push(`${want.length} lines: beyond the stream's per-subject depth, the test must print fewer`);
      console.log(`  ${key}: docker ${want.length}, stream ${have.length}` + (bad.length ? `: ${bad.join('; ')}` : ''));
      if (bad.length) problems.push(key);
    }
  }
  for (const [key, have] of got) {
    if (!seenKeys.has(key)) problems.push(`${key}: ${have.length} records of a container no engine lists`);
  }
  console.log(`multihost-stream: ${records} records of ${got.size} containers, docker logs ${wanted} lines` +
    (problems.length ? `; wrong: ${problems.join(', ')}` : '; every container exactly as docker logs, line_no 1..N'));
  process.exit(problems.length ? 1 : 0);
}

setTimeout(() => {
  console.log('multihost-stream: gave up after 90 s');
  process.exit(1);
}, 90000).unref();

main().catch((e) => {
  console.log(`multihost-stream: ${e.message}`);
  process.exit(1);
});
