// The publisher's core promises against a real dockerd and nats-server:
// exact lines, in order, byte-identical to `docker logs`, line_no contiguous.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, waitFor } from '../../lib/harness.mjs';

let s;
before(async () => { s = await Stack.start({ publisher: true }); });
after(async () => { if (s) await s.stop(); });

/** Waits until the subject's newest record has line_no >= n; returns all records. */
async function recordsUpTo(name, n, timeoutMs = 60000) {
  let recs = [];
  await waitFor(async () => {
    recs = await s.records(name);
    return recs.length && recs[recs.length - 1].lineNo >= n;
  }, timeoutMs, `${name} to reach line_no ${n}`, 250);
  // Read once more: the walk that saw line n may have overlapped its arrival.
  return s.records(name);
}

/** Splits docker logs output into lines (without the final newline). */
function lines(buf) {
  const t = buf.toString('latin1');
  const parts = t.split('\n');
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

test('5000 numbered lines on stdout and stderr: exactly the last 1000, in order, byte-identical', async () => {
  const c = await s.run('numbers',
    'i=1; while [ $i -le 5000 ]; do if [ $((i % 3)) -eq 0 ]; then echo "err line $i" >&2; ' +
    'else echo "out line $i with some text"; fi; i=$((i+1)); done');
  assert.equal(await s.wait(c.name), 0);
  const recs = await recordsUpTo(c.name, 5000);
  assert.equal(recs.length, 1000);
  assert.deepEqual(recs.map((r) => r.lineNo), Array.from({ length: 1000 }, (_, i) => 4001 + i));
  // The stored lines are the engine's last 1000, in the engine's order (Docker reads
  // stdout and stderr separately, so its order interleaves them its own way).
  const engine = (await s.engineLogs(c.name)).slice(-1000);
  assert.deepEqual(recs.map((r) => [r.stream, r.line.toString('latin1')]),
    engine.map((e) => [e.stream, e.line.toString('latin1')]));
  // And byte-identical to what `docker logs` prints on each stream.
  const dl = await s.dockerLogs(c.name);
  // (Docker copies the two streams concurrently: the last 1000 lines in its order may
  // all be stdout, so a stream's tail can be empty; slice(-0) would be everything.)
  const tail = (buf, n) => (n === 0 ? [] : lines(buf).slice(-n));
  const outs = recs.filter((r) => r.stream === 'STDOUT').map((r) => r.line.toString('latin1'));
  const errs = recs.filter((r) => r.stream === 'STDERR').map((r) => r.line.toString('latin1'));
  assert.deepEqual(outs, tail(dl.stdout, outs.length));
  assert.deepEqual(errs, tail(dl.stderr, errs.length));
  assert.equal(outs.length + errs.length, 1000);
  for (const r of recs) {
    assert.equal(r.container, c.name);
    assert.equal(r.containerId, c.id);
    assert.equal(r.host, s.hostId);
  }
  // Every printed line made it, once: the full set of numbers is 1..5000 across both
  // streams' stored tails plus what was evicted (checked via line_no contiguity above).
  for (let k = 1; k < recs.length; k++) assert.ok(recs[k].seq > recs[k - 1].seq);
  assert.equal(new Set(recs.map((r) => r.msgId)).size, recs.length);
});

test('a container started after the publisher is followed from its first line', async () => {
  const c = await s.run('late', 'echo first; echo second; echo third');
  await s.wait(c.name);
  const recs = await recordsUpTo(c.name, 3, 20000);
  assert.deepEqual(recs.map((r) => r.line.toString()), ['first', 'second', 'third']);
  assert.deepEqual(recs.map((r) => r.lineNo), [1, 2, 3]);
});
