// The node example (examples/node/consume.cjs) against a real nats-server and publisher:
// it prints every line, and a gap with the exact count when it missed some. The gap is
// real: the consumer is paused (SIGSTOP) until nats-server cuts it off as a slow consumer
// (max_pending is small here). The same cut-off, done to logjet-tail, must not lose a
// line: it reads what it missed back from JetStream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { Stack, SOURCE_DIR, sleep, waitFor } from '../../lib/harness.mjs';
import { gate, openGate, stored } from '../gateway/client.mjs';
import { Tail } from './lib.mjs';

let s;
before(async () => {
  // Depth 5000: the whole burst stays in the stream, so logjet-tail can read it all back.
  s = await Stack.start({ replayDepth: 5000, natsConfig: (st) => `max_pending: 262144\nmax_payload: 65536\nwrite_deadline: "1s"\njetstream { store_dir: "${st.storeDir}" }\n` });
  await s.startPublisher();
});
after(async () => { if (s) await s.stop(); });

// 1 KiB lines: 4000 of them are far more than the server lets a paused client owe.
const BIG = 's=x; for k in 1 2 3 4 5 6 7 8 9 10; do s="$s$s"; done';
const burst = (a, b) => `i=${a}; while [ $i -le ${b} ]; do echo "line $i $s"; i=$((i+1)); done`;
const script = `${BIG}; ${burst(1, 10)}; ${gate(1)}; ${burst(11, 4010)}; ${gate(2)}; ${burst(4011, 4020)}; sleep 3600`;

function startExample(subject) {
  const p = spawn('node', [path.join(SOURCE_DIR, 'examples/node/consume.cjs'), '--server', s.natsUrl, '--subject', subject],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_PATH: path.join(SOURCE_DIR, 'tests/node_modules') } });
  const st = { p, out: '', err: '' };
  p.stdout.on('data', (d) => { st.out += d; });
  p.stderr.on('data', (d) => { st.err += d; });
  return st;
}

test('the node example prints lines and one exact gap after being cut off', async () => {
  const ex = startExample(`live.logs.${s.subject('x').split('.')[1]}.>`);
  await waitFor(() => ex.err.includes('subscribed'), 15000, 'example subscribed');
  const c = await s.run('ex', script);
  await waitFor(() => ex.out.split('\n').length > 10, 30000, 'first 10 lines');
  ex.p.kill('SIGSTOP');
  await openGate(s, c.name, 1);
  await stored(s, c.name, 4010);
  await sleep(3000);    // past the server's write deadline
  ex.p.kill('SIGCONT');
  await waitFor(() => ex.err.includes('reconnect'), 30000, `example reconnected (${ex.err})`);
  await openGate(s, c.name, 2);
  await waitFor(() => ex.out.includes(`line 4020 `), 30000, 'the last line');
  ex.p.kill('SIGTERM');
  const lines = ex.out.split('\n').filter(Boolean);
  const gaps = lines.filter((l) => l.startsWith('GAP '));
  assert.equal(gaps.length, 1, gaps.join('\n'));
  const printed = lines.filter((l) => !l.startsWith('GAP ')).map((l) => Number(l.split(' ')[1]));
  // Every line it printed is in order, once; the gap says exactly how many it did not.
  assert.ok(printed.every((n, i) => i === 0 || n > printed[i - 1]));
  const m = gaps[0].match(/^GAP (\S+) lost (\d+) \(line_no (\d+)\.\.(\d+)\)$/);
  assert.equal(m[1], `${s.hostId}/${c.name}`);
  assert.equal(Number(m[2]), 4020 - printed.length);
  assert.equal(Number(m[4]) - Number(m[3]) + 1, Number(m[2]));
  assert.ok(!printed.some((n) => n >= Number(m[3]) && n <= Number(m[4])));
});

test('logjet-tail cut off the same way reads back what it missed: every line once', async () => {
  const t = Tail.start(s, ['-o', 'raw', '--delay', '0', `*/${s.prefix}tl`]);
  await sleep(500);
  const c = await s.run('tl', script);
  await t.until((x) => x.lines().length >= 10, 30000, 'first 10 lines');
  t.child.kill('SIGSTOP');
  await openGate(s, c.name, 1);
  await stored(s, c.name, 4010);
  await sleep(3000);
  t.child.kill('SIGCONT');
  await waitFor(() => /reconnected/.test(t.err), 30000, `logjet-tail reconnected (${t.err})`);
  await openGate(s, c.name, 2);
  await t.until((x) => x.lines().length >= 4020, 60000, 'all 4020 lines').catch((e) => {
    const got = new Set(t.lines().map((l) => Number(l.split(' ')[1])));
    const missing = Array.from({ length: 4020 }, (_, i) => i + 1).filter((n) => !got.has(n));
    e.message = `missing ${missing.length}: ${missing.slice(0, 5)}..${missing.slice(-5)}; gap lines: `
      + `${t.lines().filter((l) => l.includes('gap')).join(' | ')}\n${e.message.slice(0, 300)}`;
    throw e;
  });
  await sleep(300);
  assert.equal((await t.stop()).code, 0, t.err);
  const nos = t.lines().map((l) => Number(l.split(' ')[1]));
  assert.deepEqual(nos, Array.from({ length: 4020 }, (_, i) => i + 1));
});
