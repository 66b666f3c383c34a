// Acceptance 4: levels, streams and grep return exactly the matching lines; a
// catastrophic pattern on long lines does not stall other clients.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from '../../lib/harness.mjs';
import { Client, stored } from './client.mjs';

let s, c, all;
before(async () => {
  s = await Stack.start({ publisher: true, gateway: true });
  c = await s.run('mixed', 'i=1; while [ $i -le 300 ]; do case $((i % 3)) in ' +
    '0) echo "level=error msg=\\"fail $i\\"" >&2 ;; 1) echo "level=info msg=\\"ok $i\\"" ;; ' +
    '2) echo "level=warn msg=\\"slow $i\\"" ;; esac; i=$((i+1)); done');
  await stored(s, c.name, 300);
  const cl = await Client.open(s.wsUrl);
  cl.subscribe('all', s.ref(c.name), { replay: 1000 });
  await cl.until(() => cl.of('replayed', 'all').length === 1);
  all = cl.lines('all');
  await cl.close();
});
after(async () => { if (s) await s.stop(); });

async function filtered(extra) {
  const cl = await Client.open(s.wsUrl);
  cl.subscribe('f', s.ref(c.name), { replay: 1000, ...extra });
  await cl.until(() => cl.of('replayed', 'f').length === 1 || cl.of('error').length);
  await cl.close();
  assert.deepEqual(cl.of('error'), []);
  return cl.lines('f');
}

test('the unfiltered replay has all 300 lines with detected levels and streams', () => {
  assert.equal(all.length, 300);
  assert.equal(all.filter((l) => l.level === 'error').length, 100);
  assert.equal(all.filter((l) => l.stream === 'stderr').length, 100);
});

test('levels', async () => {
  const got = await filtered({ levels: ['error'] });
  assert.deepEqual(got.map((l) => l.seq), all.filter((l) => l.level === 'error').map((l) => l.seq));
  const two = await filtered({ levels: ['warn', 'info'] });
  assert.deepEqual(two.map((l) => l.seq), all.filter((l) => l.level !== 'error').map((l) => l.seq));
});

test('streams', async () => {
  const got = await filtered({ streams: ['stderr'] });
  assert.deepEqual(got.map((l) => l.seq), all.filter((l) => l.stream === 'stderr').map((l) => l.seq));
  const out = await filtered({ streams: ['stdout'], levels: ['info'] });
  assert.deepEqual(out.map((l) => l.seq), all.filter((l) => l.stream === 'stdout' && l.level === 'info').map((l) => l.seq));
});

test('grep', async () => {
  const re = /ok [0-9]*5"$/;
  const got = await filtered({ grep: 'ok [0-9]*5"$' });
  assert.ok(got.length > 0);
  assert.deepEqual(got.map((l) => l.seq), all.filter((l) => re.test(l.line)).map((l) => l.seq));
  const bad = await Client.open(s.wsUrl);
  bad.subscribe('x', s.ref(c.name), { grep: '(unclosed' });
  await bad.until(() => bad.of('error', 'x').length === 1);
  assert.equal(bad.of('error', 'x')[0].code, 'bad_request');
  await bad.close();
});

test('a catastrophic pattern on long lines does not stall another client', async () => {
  // The attackers ask for a replay too, so they see the evil lines whether they
  // subscribe before or after the container prints (on a loaded machine, after).
  const evil = await s.run('evil', 'sleep 1; i=0; while [ $i -lt 40 ]; do head -c 12000 /dev/zero | tr "\\0" a; ' +
    'echo "!"; i=$((i+1)); done; head -c 12000 /dev/zero | tr "\\0" a; echo');
  const tick = await s.run('tick', 'i=1; while [ $i -le 150 ]; do echo "tick $i"; i=$((i+1)); usleep 20000; done');
  const victim = await Client.open(s.wsUrl);
  victim.subscribe('t', s.ref(tick.name));
  const arrivals = [];
  victim.ws.on('message', () => arrivals.push(Date.now()));
  const attackers = [];
  for (let k = 0; k < 5; k++) {
    const a = await Client.open(s.wsUrl);
    a.subscribe('e', s.ref(evil.name), { grep: '(a+)+$', replay: 1000 });
    attackers.push(a);
  }
  await stored(s, evil.name, 41);
  for (const a of attackers) {
    await a.untilLines('e', 1);
    assert.equal(a.lines('e').length, 1);           // only the line without '!'
    assert.equal(a.lines('e')[0].line_no, 41);
  }
  await victim.untilLines('t', 100);
  let worst = 0;
  for (let i = 1; i < arrivals.length; i++) worst = Math.max(worst, arrivals[i] - arrivals[i - 1]);
  assert.ok(worst < 1000, `victim waited ${worst} ms between frames`);
  for (const a of attackers) await a.close();
  await victim.close();
});
