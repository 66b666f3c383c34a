// Acceptance 3: resume with after_seq gets exactly what was missed; a seq older than
// the retained window yields a `gap` with the exact `lost`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack } from '../../lib/harness.mjs';
import { Client, contiguous, numbered, gate, openGate, stored } from './client.mjs';

let s;
before(async () => { s = await Stack.start({ publisher: true, gateway: true }); });
after(async () => { if (s) await s.stop(); });

test('disconnect, 200 more lines, reconnect with after_seq: exactly those 200; older seq: exact gap', async () => {
  const c = await s.run('resume',
    `${numbered(1, 300)}; ${gate(1)}; ${numbered(301, 500)}; ${gate(2)}; ${numbered(501, 2600)}; sleep 3600`);
  await stored(s, c.name, 300);
  // A watcher keeps the container watched throughout (as other viewers would).
  const watcher = await Client.open(s.wsUrl);
  watcher.subscribe('w', s.ref(c.name), { replay: 1000 });
  await watcher.untilLines('w', 300);

  const a = await Client.open(s.wsUrl);
  a.subscribe('a', s.ref(c.name), { replay: 1000 });
  await a.untilLines('a', 300);
  const seen = a.lines('a');
  const lastSeq = seen.at(-1).seq, seq100 = seen[99].seq;
  assert.equal(seen[99].line_no, 100);
  await a.close();

  await openGate(s, c.name, 1);
  await stored(s, c.name, 500);
  const b = await Client.open(s.wsUrl);
  b.subscribe('a', s.ref(c.name), { after_seq: lastSeq });
  await b.until(() => b.of('replayed', 'a').length === 1, 20000, 'replayed');
  const missed = b.lines('a');
  assert.equal(missed.length, 200);
  assert.equal(contiguous(missed, 301), null);
  assert.equal(b.of('gap').length, 0);
  // `replayed` names the newest line the gateway held when the subscription came: the
  // last line before it in message order (later ones may still have been on their way
  // to the gateway and follow as live lines).
  const at = b.msgs.findIndex((m) => m.type === 'replayed');
  const before = b.msgs.slice(0, at).filter((m) => m.type === 'lines').flatMap((m) => m.lines);
  assert.equal(b.of('replayed', 'a')[0].seq, before.length ? before.at(-1).seq : lastSeq);
  await b.close();

  await openGate(s, c.name, 2);
  const last = await stored(s, c.name, 2600);
  await watcher.untilLines('w', 2600);
  const first = watcher.lines('w').find((l) => l.line_no === 1601);
  const old = await Client.open(s.wsUrl);
  old.subscribe('o', s.ref(c.name), { after_seq: seq100 });
  await old.until(() => old.of('replayed', 'o').length === 1, 20000, 'replayed');
  const gaps = old.of('gap', 'o');
  assert.equal(gaps.length, 1);
  assert.deepEqual(gaps[0], { type: 'gap', id: 'o', container: s.ref(c.name), after_seq: seq100,
    next_seq: first.seq, lost: 1500, reason: 'expired' });
  const got = old.lines('o');
  assert.equal(got.length, 1000);
  assert.equal(contiguous(got, 1601), null);
  assert.equal(got.at(-1).seq, last.seq);
  // the gap precedes the lines
  assert.ok(old.msgs.findIndex((m) => m.type === 'gap') < old.msgs.findIndex((m) => m.type === 'lines'));
  await old.close();
  await watcher.close();
});
