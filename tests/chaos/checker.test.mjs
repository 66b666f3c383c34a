// The churn checker judged on made-up cases: a judge that cannot see a lost or doubled
// line would let every churn run pass. No servers: engine bytes are built here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseLogs, parseStamp, compareContainer, checkLineNos, escapeToken } from './checker.mjs';

const T0 = 1796150000000000000n;
const stamp = (ns) => {
  const d = new Date(Number(ns / 1000000n));
  return d.toISOString().slice(0, 19) + '.' + String(ns % 1000000000n).padStart(9, '0') + 'Z';
};
const frame = (type, ns, text) => {
  const payload = Buffer.from(`${stamp(ns)} ${text}`, 'latin1');
  const h = Buffer.alloc(8);
  h[0] = type;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
};

test('engine bytes: frames, both streams, a line Docker split at 16 KiB, TTY endings', () => {
  assert.equal(parseStamp(stamp(T0 + 123n)), T0 + 123n);
  const big = 'y'.repeat(16384);
  const body = Buffer.concat([frame(1, T0, 'a\n'), frame(2, T0 + 5n, 'e1\n'), frame(1, T0 + 9n, big),
    frame(1, T0 + 9n, 'tail\n'), frame(1, T0 + 10n, 'last')]);
  const l = parseLogs(body, false);
  assert.deepEqual(l.map((x) => [x.stream, x.ts, x.line.toString()]),
    [[0, T0, 'a'], [1, T0 + 5n, 'e1'], [0, T0 + 9n, big + 'tail'], [0, T0 + 10n, 'last']]);
  const tty = Buffer.from(`${stamp(T0)} one\r\n${stamp(T0 + 1n)} two\r\n`, 'latin1');
  assert.deepEqual(parseLogs(tty, true).map((x) => x.line.toString()), ['one', 'two']);
  assert.equal(escapeToken('9a.b-c_d'), '9a=2Eb-c_d');
});

/** A container's log of n stdout lines (and every 3rd on stderr) and its records. */
function world(n) {
  const lines = [];
  for (let i = 0; i < n; i++) {
    lines.push({ stream: 0, ts: T0 + BigInt(i * 10), line: Buffer.from(`out ${i}`) });
    if (i % 3 === 0) lines.push({ stream: 1, ts: T0 + BigInt(i * 10 + 1), line: Buffer.from(`err ${i}`) });
  }
  let seq = 0;
  const recs = lines.map((l, i) => ({ seq: ++seq, subject: 'logs.h.c', id: 'X', stream: l.stream, ts: l.ts,
    line: l.line, lineNo: i + 1, truncated: false }));
  return { c: { id: 'X', tty: false, removed: false, log: { lines }, events: [] }, recs };
}

test('exact copy: nothing lost or doubled', () => {
  const { c, recs } = world(30);
  const v = compareContainer(c, recs, 4096);
  assert.equal(v.expected, 40);
  assert.deepEqual([v.lost, v.doubled, v.extra, v.gone], [0, 0, 0, 0]);
  assert.deepEqual(checkLineNos(recs), []);
});

test('a line missing, a line twice, a line Docker never had, a wrong cut', () => {
  const { c, recs } = world(30);
  const lost = recs.filter((_, i) => i !== 7);
  assert.equal(compareContainer(c, lost, 4096).lost, 1);
  assert.match(checkLineNos(lost)[0], /gap/);
  const twice = [...recs, { ...recs[4], seq: 99, lineNo: 41 }];
  assert.equal(compareContainer(c, twice, 4096).doubled, 1);
  const extra = [...recs, { ...recs[4], seq: 99, line: Buffer.from('never printed'), lineNo: 41 }];
  assert.equal(compareContainer(c, extra, 4096).extra, 1);
  // Same line_no twice in a subject.
  assert.match(checkLineNos([...recs, { ...recs[2], seq: 100 }])[0], /twice/);
  // A line longer than the cut is expected cut and flagged.
  const long = { ...c, log: { lines: [{ stream: 0, ts: T0, line: Buffer.alloc(5000, 0x61) }] } };
  const cut = [{ seq: 1, subject: 'logs.h.c', id: 'X', stream: 0, ts: T0, line: Buffer.alloc(4096, 0x61), lineNo: 1, truncated: true }];
  assert.deepEqual([compareContainer(long, cut, 4096).lost, compareContainer(long, cut, 4096).badTruncated], [0, 0]);
  assert.equal(compareContainer(long, [{ ...cut[0], truncated: false }], 4096).badTruncated, 1);
  assert.equal(compareContainer(long, [{ ...cut[0], line: Buffer.alloc(5000, 0x61) }], 4096).lost, 1);
});

test('a removed container: a missing tail is gone with it, a hole is still lost', () => {
  const { c, recs } = world(30);
  const removed = { ...c, removed: true };
  const tail = recs.filter((r) => r.ts < T0 + 200n);
  const v = compareContainer(removed, tail, 4096);
  assert.equal(v.lost, 0);
  assert.ok(v.gone > 0);
  const hole = tail.filter((_, i) => i !== 3);
  assert.equal(compareContainer(removed, hole, 4096).lost, 1);
});

test('a line stored again under another subject (a rename) is a double', () => {
  const { c, recs } = world(10);
  const again = recs.map((r, i) => ({ ...r, seq: 100 + i, subject: 'logs.h.renamed', lineNo: i + 1 }));
  assert.equal(compareContainer(c, [...recs, ...again], 4096).doubled, recs.length);
});

test('runs are split at die events and counted per run', () => {
  const { c, recs } = world(30);
  const events = [{ action: 'start', ns: T0 - 1n }, { action: 'die', ns: T0 + 150n }, { action: 'start', ns: T0 + 160n }];
  const v = compareContainer({ ...c, events }, recs.filter((_, i) => i !== 30), 4096);
  assert.equal(v.runs.length, 2);
  assert.deepEqual(v.runs.map((r) => r.lost), [0, 1]);
});
