// Reads every record of one container's subject from the JetStream stream and
// checks what the design promises: line_no runs 1, 2, 3, ... with no gap and
// no repeat, and each line is the one the container printed ("line <n>" when
// --numbered is given, as the test containers print them).
//
// usage: node stream-check.js NATS_URLS STREAM SUBJECT EXPECT_COUNT [--numbered]
// Prints a one-line summary; exit 0 when the subject holds exactly records
// 1..EXPECT_COUNT in order.
'use strict';
const path = require('path');
const protobuf = require('protobufjs');
const { connect, AckPolicy, DeliverPolicy, nanos } = require('nats');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// retry WHAT FN: after a failover the stream or the meta leader may still be
// electing; JetStream API calls fail (or time out) until then.
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

const [urls, stream, subject, expectArg, flag] = process.argv.slice(2);
if (!urls || !stream || !subject || !expectArg) {
  console.error('usage: node stream-check.js NATS_URLS STREAM SUBJECT EXPECT_COUNT [--numbered]');
  process.exit(2);
}
const expect = Number(expectArg);
const problems = [];
const seen = new Map(); // line_no -> times stored
let outOfOrder = 0;
let count = 0;
let prevLineNo = 0;
let prevSeq = 0;
const numbered = flag === '--numbered';

async function main() {
  const root = await protobuf.load(path.join(__dirname, '../../proto/logjet/v1/logjet.proto'));
  const LogRecord = root.lookupType('logjet.v1.LogRecord');
  const nc = await connect({ servers: urls.split(','), timeout: 10000 });
  try {
    const js = nc.jetstream();
    const jsm = await nc.jetstreamManager({ timeout: 5000 });
    // A plain pull consumer made here, so that a failure shows as an error
    // rather than an ordered consumer quietly recreating itself.
    const info = await retry('create consumer', () => jsm.consumers.add(stream, {
      filter_subject: subject, ack_policy: AckPolicy.None, deliver_policy: DeliverPolicy.All,
      inactive_threshold: nanos(120000), mem_storage: true, num_replicas: 1,
    }));
    const consumer = await js.consumers.get(stream, info.name);
    // Batches until one comes back empty (2 s without a message).
    for (;;) {
      let got = 0;
      const batch = await consumer.fetch({ max_messages: 500, expires: 2000 });
      for await (const m of batch) {
        got++;
        const r = LogRecord.toObject(LogRecord.decode(m.data), { longs: Number, defaults: true });
        const lineNo = r.lineNo;
        const text = Buffer.from(r.line).toString('utf8');
        count++;
        seen.set(lineNo, (seen.get(lineNo) || 0) + 1);
        if (lineNo !== prevLineNo + 1) {
          if (lineNo < prevLineNo) outOfOrder++;
          if (problems.length < 10) problems.push(`seq ${m.seq}: line_no ${lineNo} after ${prevLineNo}`);
        }
        if (m.seq <= prevSeq) problems.push(`seq ${m.seq} after ${prevSeq}`);
        if (numbered && text !== `line ${lineNo}` && problems.length < 10) {
          problems.push(`line_no ${lineNo} holds "${text.slice(0, 80)}"`);
        }
        prevLineNo = lineNo;
        prevSeq = m.seq;
      }
      if (got === 0) break;
    }
  } finally {
    await nc.close();
  }
  if (count !== expect) problems.push(`${count} records, want ${expect}`);
  let missing = 0;
  let doubled = 0;
  for (let i = 1; i <= expect; i++) if (!seen.has(i)) missing++;
  for (const n of seen.values()) if (n > 1) doubled += n - 1;
  console.log(`stream-check: ${subject}: ${count} records, ${missing} line_no missing, ` +
    `${doubled} doubled, ${outOfOrder} stored out of order` +
    (problems.length ? `; first problems: ${problems.join('; ')}` : '; line_no 1..N contiguous in stream order'));
  process.exit(problems.length ? 1 : 0);
}

// However the server behaves, give an answer within two minutes.
setTimeout(() => {
  console.log(`stream-check: gave up after 120 s, ${count} records read, last line_no ${prevLineNo}`);
  process.exit(1);
}, 120000).unref();

main().catch((e) => {
  console.log(`stream-check: ${e.message}`);
  process.exit(1);
});
