#!/usr/bin/env node
// consume.cjs - another service reading logjet's stream, with no gateway and no
// JetStream consumer: node with the `nats` and `protobufjs` packages.
//
//   npm install && node consume.cjs --server nats://127.0.0.1:4222 [--subject 'live.logs.web-1.>']
//
// It subscribes (core NATS) to the subjects the stream republishes every stored line on,
// decodes each payload as logjet.v1.LogRecord with the project's .proto, and prints
//   <host>/<container> <line_no> <line>
// Every message carries Nats-Sequence (its stream sequence) and Nats-Last-Sequence (the
// previous sequence of the same subject). When the latter is not the last sequence this
// consumer saw on that subject, lines were missed (a reconnect, a slow consumer); it
// prints one line saying so, with the exact count from line_no:
//   GAP <host>/<container> lost <n> (line_no <a>..<b>)
// The missed lines are still in the stream (within its depth): a service that needs them
// reads them with a JetStream consumer from the sequence after the last one it saw.
'use strict';
const path = require('node:path');
const { connect } = require('nats');
const protobuf = require('protobufjs');

function option(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : def;
}

async function main() {
  const server = option('server', 'nats://127.0.0.1:4222');
  const subject = option('subject', 'live.logs.>');
  const protoFile = option('proto', path.join(__dirname, '../../proto/logjet/v1/logjet.proto'));
  const LogRecord = (await protobuf.load(protoFile)).lookupType('logjet.v1.LogRecord');
  const nc = await connect({ servers: server, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
  (async () => {
    for await (const s of nc.status()) if (s.type === 'disconnect' || s.type === 'reconnect') console.error(`nats ${s.type}`);
  })();
  const last = new Map();    // subject -> { seq, lineNo }
  const sub = nc.subscribe(subject);
  console.error(`subscribed to ${subject}`);
  for await (const m of sub) {
    const seq = Number(m.headers?.get('Nats-Sequence') || 0);
    const prevSeq = Number(m.headers?.get('Nats-Last-Sequence') || 0);
    const rec = LogRecord.decode(m.data);
    const lineNo = Number(rec.lineNo);
    const name = `${rec.host}/${rec.container}`;
    const seen = last.get(m.subject);
    if (seen && seq <= seen.seq) continue;    // already seen (at most once)
    if (seen && prevSeq !== seen.seq && lineNo > seen.lineNo + 1) {
      console.log(`GAP ${name} lost ${lineNo - seen.lineNo - 1} (line_no ${seen.lineNo + 1}..${lineNo - 1})`);
    }
    last.set(m.subject, { seq, lineNo });
    console.log(`${name} ${lineNo} ${Buffer.from(rec.line).toString('utf8')}`);
  }
}

process.on('SIGTERM', () => process.exit(0));
main().catch((e) => { console.error(e.message); process.exit(1); });
