// Acceptance 2: --tail, --since (relative and absolute), --until and --no-follow print
// exactly the expected lines; start-up failures exit non-zero with a clear message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, freePort } from '../../lib/harness.mjs';
import { stored } from '../gateway/client.mjs';
import { tailRun, jsonLines } from './lib.mjs';

let s, c, recs;
before(async () => {
  s = await Stack.start({ publisher: true });
  // 1..20 quickly, then a 3 s pause, then 21..40: a clear boundary for relative times.
  c = await s.run('hist', 'i=1; while [ $i -le 20 ]; do echo "line $i"; i=$((i+1)); done; sleep 3; '
    + 'while [ $i -le 40 ]; do echo "line $i"; i=$((i+1)); done');
  await s.wait(c.name);
  await stored(s, c.name, 40);
  recs = await s.records(c.name);    // the independent source: a raw JetStream read
  assert.equal(recs.length, 40);
});
after(async () => { if (s) await s.stop(); });

const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => `line ${a + i}`);
const rfc3339 = (ns) => {
  const ms = BigInt(ns) / 1000000n;
  return new Date(Number(ms)).toISOString().replace(/\.\d+Z$/, '.' + (BigInt(ns) % 1000000000n).toString().padStart(9, '0') + 'Z');
};

async function raw(args) {
  const r = await tailRun(s, ['--no-follow', '-o', 'raw', ...args, `*/${c.name}`]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.split('\n').slice(0, -1);
}

test('--tail N, default 10, all, 0', async () => {
  assert.deepEqual(await raw(['--tail', '5']), range(36, 40));
  assert.deepEqual(await raw([]), range(31, 40));
  assert.deepEqual(await raw(['--tail', 'all']), range(1, 40));
  assert.deepEqual(await raw(['--tail', '1000']), range(1, 40));
  assert.deepEqual(await raw(['--tail', '0']), []);
});

test('--since and --until, absolute (RFC 3339 and Unix seconds)', async () => {
  const ts = (n) => recs[n - 1].tsUnixNano;
  assert.deepEqual(await raw(['--since', rfc3339(ts(25))]), range(25, 40));
  assert.deepEqual(await raw(['--until', rfc3339(ts(7))]), range(1, 7).slice(-10));
  assert.deepEqual(await raw(['--until', rfc3339(ts(7)), '--tail', 'all']), range(1, 7));
  assert.deepEqual(await raw(['--since', rfc3339(ts(12)), '--until', rfc3339(ts(30))]), range(12, 30));
  assert.deepEqual(await raw(['--since', rfc3339(ts(12)), '--tail', '3']), range(38, 40));
  const secs = (BigInt(ts(21)) / 1000000000n).toString() + '.' + (BigInt(ts(21)) % 1000000000n).toString().padStart(9, '0');
  assert.deepEqual(await raw(['--since', secs]), range(21, 40));
});

test('--since relative', async () => {
  // Lines 21..40 came at least 3 s after line 20: a window reaching 1.5 s before line 21
  // holds exactly them, however long this test took to get here.
  const ago = (Date.now() - Number(BigInt(recs[20].tsUnixNano) / 1000000n)) / 1000 + 1.5;
  assert.deepEqual(await raw(['--since', `${ago.toFixed(3)}s`]), range(21, 40));
  assert.deepEqual(await raw(['--since', '1h']), range(1, 40));
  assert.deepEqual(await raw(['--since', '1h', '--until', '1h']), []);
});

test('-o json holds the record fields and the stream sequence', async () => {
  const r = await tailRun(s, ['--no-follow', '-o', 'json', '--tail', '3', `*/${c.name}`]);
  const out = jsonLines(r.stdout);
  // JSON numbers past 2^53 lose digits in JSON.parse: the nanoseconds are read as text.
  const nanos = [...r.stdout.matchAll(/"ts_unix_nano":(\d+)/g)].map((m) => m[1]);
  assert.equal(out.length, 3);
  out.forEach((o, i) => {
    const rec = recs[37 + i];
    assert.equal(o.seq, rec.seq);
    assert.equal(o.line, rec.line.toString());
    assert.equal(o.line_no, rec.lineNo);
    assert.equal(nanos[i], rec.tsUnixNano);
    assert.equal(o.ts, rfc3339(rec.tsUnixNano));
    assert.equal(o.host, s.hostId);
    assert.equal(o.container, c.name);
    assert.equal(o.container_id, c.id);
    assert.equal(o.stream, 'stdout');
  });
});

test('nothing matches with --no-follow: exit 1 with a message', async () => {
  const r = await tailRun(s, ['--no-follow', `*/${s.prefix}no-such-container`]);
  assert.equal(r.code, 1);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /no container matches/);
});

test('NATS not reachable at start: exit 2 naming the URL; bad options name the value', async () => {
  const port = await freePort();
  const r = await tailRun({ natsUrl: `nats://127.0.0.1:${port}` }, ['--no-follow']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, new RegExp(`cannot connect to NATS at nats://127.0.0.1:${port}`));
  for (const [args, re] of [[['--since', 'yesterday'], /'yesterday'/], [['--tail', 'many'], /'many'/],
    [['--level', 'loud'], /'loud'/], [['-i', '('], /'\('/], [['--template', '{nope}'], /\{nope\}/],
    [['--color', 'sometimes'], /'sometimes'/], [['--state', 'paused'], /'paused'/]]) {
    const b = await tailRun(s, ['--no-follow', ...args]);
    assert.equal(b.code, 2, args.join(' '));
    assert.match(b.stderr, re);
  }
});
