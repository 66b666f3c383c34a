// Time jump (subscribe "since"): the lines from a time on, within what the stream keeps,
// found by JetStream start time. Checked against `docker logs -t` (Docker's own times):
// the first line is the first at or after the time, none older, none missing; a time
// older than what is kept is answered with a `retention` frame naming the first line kept.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Stack, sleep } from '../../lib/harness.mjs';
import { Client, stored } from './client.mjs';

const DEPTH = 20;
const N = 40;
let s;
let c;
let logs; // [{ts (ns, BigInt), text}] from docker logs -t

/** RFC 3339 with any fraction -> BigInt ns since the epoch. */
function ns(ts) {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(ts);
  assert.ok(m, `an RFC 3339 UTC time: ${ts}`);
  return BigInt(Date.parse(m[1] + 'Z')) * 1000000n + BigInt((m[2] || '').padEnd(9, '0').slice(0, 9));
}
const rfc = (n) => new Date(Number(n / 1000000n)).toISOString().slice(0, 19) + '.' + String(n % 1000000000n).padStart(9, '0') + 'Z';

before(async () => {
  s = await Stack.start({ publisher: true, gateway: true, replayDepth: DEPTH });
  c = await s.run('since', `i=1; while [ $i -le ${N} ]; do echo "line $i"; i=$((i+1)); sleep 0.05; done`);
  await s.wait(c.name);
  await stored(s, c.name, N);
  const r = await s.docker(['logs', '-t', c.name]);
  logs = r.stdout.trim().split('\n').map((l) => ({ ts: ns(l.slice(0, l.indexOf(' '))), text: l.slice(l.indexOf(' ') + 1) }));
  assert.equal(logs.length, N);
});
after(async () => {
  // how often JetStream's start-time answer needed the window's correction (see hub.c since_from)
  const log = s ? path.join(s.dir, 'gateway.log') : '';
  if (log && fs.existsSync(log)) {
    const late = fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.includes('time jump:'));
    console.log(`# JetStream start-time answers corrected from the window: ${late.length}${late.length ? '\n# ' + late.join('\n# ') : ''}`);
  }
  if (s) await s.stop();
});

async function jump(id, since) {
  const cl = await Client.open(s.wsUrl);
  cl.subscribe(id, s.ref(c.name), { since });
  await cl.until(() => cl.of('replayed', id).length === 1 || cl.of('error', id).length > 0, 20000, `replayed ${id}`);
  await sleep(200);
  return cl;
}

test('since a retained time: exactly the lines stamped at or after it, no retention notice', async () => {
  const at = logs[N - 8].ts; // line 33's own time
  const cl = await jump('a', rfc(at));
  const got = cl.lines('a');
  const want = logs.filter((l) => l.ts >= at).map((l) => l.text);
  if (got.length !== want.length) s.dumpLogs();
  assert.deepEqual(got.map((l) => l.line), want, JSON.stringify(cl.msgs.filter((m) => m.type !== 'lines')));
  assert.equal(got[0].line, `line ${N - 7}`);
  assert.ok(ns(got[0].ts) >= at, 'the first line is at or after the time');
  assert.deepEqual(cl.of('retention', 'a'), []);
  // one nanosecond later: that line is left out
  const cl2 = await jump('b', rfc(at + 1n));
  assert.equal(cl2.lines('b')[0].line, `line ${N - 6}`);
  await cl.close();
  await cl2.close();
});

test('since a time older than what is kept: the kept lines, and a retention frame naming the first', async () => {
  const at = logs[2].ts; // line 3: the stream keeps only the last DEPTH
  const cl = await jump('old', rfc(at));
  const got = cl.lines('old');
  assert.deepEqual(got.map((l) => l.line), logs.slice(N - DEPTH).map((l) => l.text));
  const ret = cl.of('retention', 'old');
  assert.equal(ret.length, 1, JSON.stringify(cl.msgs.filter((m) => m.type !== 'lines')));
  assert.equal(ret[0].container, s.ref(c.name));
  assert.equal(ret[0].first_line_no, N - DEPTH + 1);
  assert.equal(ret[0].first_seq, got[0].seq);
  assert.equal(ns(ret[0].first_ts), logs[N - DEPTH].ts);
  assert.equal(ns(ret[0].since), at);
  // it comes before the lines
  const order = cl.msgs.filter((m) => m.id === 'old').map((m) => m.type);
  assert.ok(order.indexOf('retention') < order.indexOf('lines'), order.join(','));
  await cl.close();
});

test('since a time after the last line: nothing replayed, then live; a bad time is a bad_request', async () => {
  const cl = await jump('late', rfc(logs[N - 1].ts + 1000000n));
  assert.deepEqual(cl.lines('late'), []);
  assert.deepEqual(cl.of('retention', 'late'), []);
  cl.subscribe('bad', s.ref(c.name), { since: 'yesterday' });
  await cl.until(() => cl.of('error', 'bad').length === 1, 5000, 'error');
  assert.equal(cl.of('error', 'bad')[0].code, 'bad_request');
  assert.match(cl.of('error', 'bad')[0].message, /since/);
  // a live container: the lines after the jump keep coming
  const live = await s.run('since-live', 'i=1; while [ $i -le 400 ]; do echo "live $i"; i=$((i+1)); sleep 0.05; done');
  await stored(s, live.name, 10);
  const r = await s.docker(['logs', '-t', live.name]);
  const first = r.stdout.trim().split('\n').map((l) => ({ ts: ns(l.slice(0, l.indexOf(' '))), text: l.slice(l.indexOf(' ') + 1) }));
  const at = first[5].ts;
  cl.subscribe('lv', s.ref(live.name), { since: rfc(at) });
  await cl.until(() => cl.lines('lv').length >= 30, 20000, 'live lines after the jump');
  const got = cl.lines('lv');
  assert.equal(got[0].line, 'live 6');
  for (let i = 1; i < got.length; i++) assert.equal(got[i].line_no, got[i - 1].line_no + 1, 'no hole from the jump into live');
  await s.docker(['rm', '-f', live.name]);
  await cl.close();
});
