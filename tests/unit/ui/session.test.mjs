// Unit tests of ui/session.js: subscriptions for the watched specs, resume after the last
// seq on reconnect, gaps from the gateway and from line_no jumps, fills of gaps.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Session } from '../../../ui/session.js';
import { Store } from '../../../ui/store.js';
import { Filter, serverGrep } from '../../../ui/filter.js';
import { defaults } from '../../../ui/settings.js';

function setup(over = {}) {
  const S = Object.assign(defaults(), over);
  const f = new Filter();
  f.set(S);
  const list = { setRows() {}, invalidateFrom() {}, invalidateAll() {}, invalidate() {}, trimFront() {} };
  const store = new Store(S, f, list);
  store.refilter();
  const sent = [];
  let open = true;
  const errors = [];
  const se = new Session({
    send: (o) => { if (!open) return false; sent.push(o); return true; }, store, S,
    spec: () => { const s = {}; if (S.levels.length) s.levels = S.levels; const g = serverGrep(S, f.err); if (g) s.grep = g; return s; },
    now: () => 0, onChange() {}, onInvalidate() {}, onContainers() {}, onError: (m) => errors.push(m),
  });
  se.settle();
  return { S, store, se, sent, errors, setOpen: (v) => { open = v; } };
}
const L = (seq, ln, c = 'h/a') => ({ seq, line_no: ln, ts: '2026-01-01T00:00:00.' + String(seq).padStart(6, '0') + 'Z', container: c, line: 'l' + seq });

test('one live subscription per spec with the replay; removed specs unsubscribe', () => {
  const { S, se, sent } = setup({ containers: ['h/a', 'h/b*'], replay: 100 });
  se.apply();
  assert.deepEqual(sent.map((m) => [m.op, m.container, m.replay]), [['subscribe', 'h/a', 100], ['subscribe', 'h/b*', 100]]);
  S.containers = ['h/a'];
  se.apply();
  assert.equal(sent[2].op, 'unsubscribe');
  assert.equal(sent[2].id, sent[1].id);
});

test('a reconnect resumes after the last seq (with its line_no, not for globs)', () => {
  const { se, sent, setOpen } = setup({ containers: ['h/a', 'h/*'] });
  se.apply();
  const [a, g] = sent.splice(0);
  se.frame({ type: 'lines', id: a.id, lines: [L(10, 5), L(11, 6)] });
  se.frame({ type: 'lines', id: g.id, lines: [L(12, 1, 'h/b')] });
  setOpen(false); se.closed(); setOpen(true); se.opened();
  const byC = Object.fromEntries(sent.map((m) => [m.container, m]));
  assert.equal(byC['h/a'].after_seq, 11);
  assert.equal(byC['h/a'].after_line_no, 6);
  assert.equal(byC['h/a'].replay, undefined);
  assert.equal(byC['h/*'].after_seq, 12);
  assert.equal(byC['h/*'].after_line_no, undefined);
});

test('a line_no jump is a gap marker; a gap frame is one, and not reported twice', () => {
  const { store, se, sent } = setup({ containers: ['h/a'] });
  se.apply();
  const id = sent[0].id;
  se.frame({ type: 'lines', id, lines: [L(1, 1), L(2, 2), L(5, 6)] });
  const gaps = store.incoming.toArray().filter((r) => r.g);
  assert.equal(gaps.length, 1);
  assert.equal(gaps[0].lost, 3);
  se.frame({ type: 'gap', id, container: 'h/a', after_seq: 5, next_seq: 9, lost: 2, reason: 'slow_client' });
  se.frame({ type: 'lines', id, lines: [L(9, 9)] });
  assert.equal(store.incoming.toArray().filter((r) => r.g).length, 2, 'the jump after the gap frame is that gap');
  assert.equal(store.gapsOpen, 2);
});

test('a gap fill reads the range and the marker leaves when every line came', () => {
  const { store, se, sent } = setup({ containers: ['h/a'] });
  se.apply();
  se.frame({ type: 'lines', id: sent[0].id, lines: [L(1, 1), L(4, 4)] });
  store.work(Infinity, () => 0);
  const g = store.buffer.toArray().find((r) => r.g);
  se.fetchGap(g);
  const fill = sent[sent.length - 1];
  assert.equal(fill.after_seq, 1);
  se.frame({ type: 'lines', id: fill.id, lines: [L(2, 2), L(3, 3), L(4, 4)] });
  store.work(Infinity, () => 0);
  assert.equal(sent[sent.length - 1].op, 'unsubscribe');
  assert.equal(store.buffer.toArray().some((r) => r.g), false);
  assert.deepEqual(store.buffer.toArray().map((r) => r.seq), [1, 2, 3, 4]);
  assert.equal(store.gapsOpen, 0);
});

test('a search change resubscribes with the grep; duplicates of a backfill are dropped', () => {
  const { S, store, se, sent } = setup({ containers: ['h/a'], q: 'x' });
  se.settle();
  se.apply();
  assert.equal(sent[0].grep, '(?i)x');
  se.frame({ type: 'lines', id: sent[0].id, lines: [L(1, 1)] });
  S.q = '';
  se.apply({ loosened: true });
  const bf = sent.find((m) => m.id.startsWith('bf-'));
  assert.ok(bf && bf.replay === S.replay);
  se.frame({ type: 'lines', id: bf.id, lines: [L(1, 1), L(2, 2)] });
  assert.equal(store.stats.duplicates, 1);
});

test('unknown frames are ignored; errors reach the callback', () => {
  const { se, errors } = setup();
  se.frame({ type: 'future-thing', x: 1 });
  se.frame({ type: 'error', code: 'bad_request', message: 'no' });
  assert.equal(errors.length, 1);
});

test('lifecycle events sit among their container\'s lines: a start before the run, an end after its last lines', async () => {
  const { se, store, S } = setup({ containers: ['h/a'], replay: 10 });
  se.apply();
  const id = [...se.subs.keys()][0];
  const ts = (ms) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString().replace('Z', '000Z');
  // Docker's times as measured: StartedAt after the first line, FinishedAt before the last
  se.frame({ type: 'event', id, container: 'h/a', event: 'started', ts: ts(500) });
  se.frame({ type: 'lines', id, lines: [{ seq: 1, line_no: 1, ts: ts(400), container: 'h/a', line: 'one' }] });
  se.frame({ type: 'event', id, container: 'h/a', event: 'oom_killed', ts: ts(600), exit_code: 137, oom_killed: true });
  se.frame({ type: 'event', id, container: 'h/a', event: 'exited', ts: ts(600), exit_code: 137, oom_killed: true });
  se.frame({ type: 'lines', id, lines: [{ seq: 2, line_no: 2, ts: ts(700), container: 'h/a', line: 'two' }] });
  // a resend (reconnect, a second subscription) is dropped
  se.frame({ type: 'event', id, container: 'h/a', event: 'started', ts: ts(500), current: true });
  // an event of a subscription this page does not hold is ignored
  se.frame({ type: 'event', id: 'nope', container: 'h/a', event: 'removed', ts: ts(800) });
  const order = () => { store.work(Infinity, () => 0); return store.buffer.toArray().map((r) => (r.ev ? '[' + r.kind + ']' : r.line)); };
  assert.deepEqual(order(), ['[started]', 'one', 'two'], 'the end waits for the last lines');
  // the restart comes: the ended run's events go first, then the new run
  se.frame({ type: 'event', id, container: 'h/a', event: 'restarted', ts: ts(650) });
  se.frame({ type: 'lines', id, lines: [{ seq: 3, line_no: 3, ts: ts(900), container: 'h/a', line: 'three' }] });
  assert.deepEqual(order(), ['[started]', 'one', 'two', '[oom_killed]', '[exited]', '[restarted]', 'three']);
  const ex = store.buffer.toArray().find((r) => r.kind === 'exited');
  assert.equal(ex.line, 'container exited with code 137 (OOM-killed)');
  assert.equal(store.lineCount, 3, 'events are not lines');
  assert.equal(store.perContainer.get('h/a'), 3);
  // an end with nothing after it is placed once its wait is over
  se.frame({ type: 'event', id, container: 'h/a', event: 'exited', ts: ts(950), exit_code: 0 });
  assert.deepEqual(order().slice(-2), ['[restarted]', 'three']);
  await new Promise((r) => setTimeout(r, se.constructor.HOLD_MS + 200));
  assert.deepEqual(order().slice(-2), ['three', '[exited]']);
  // a run's first line may come before its start event: the start still goes first
  se.frame({ type: 'lines', id, lines: [{ seq: 20, line_no: 1, ts: ts(400), container: 'h/b', line: 'b-one' }] });
  se.frame({ type: 'event', id, container: 'h/b', event: 'started', ts: ts(450) });
  assert.deepEqual(order().filter((x) => x === 'b-one' || x === '[started]').slice(-2), ['[started]', 'b-one']);
  // level filters leave events shown; a search matches them by their text
  S.levels = ['error'];
  store.filter.set(S);
  store.refilter();
  while (store.rf) store.refilterStep();
  assert.deepEqual(store.rows.toArray().filter((r) => r.c === 'h/a').map((r) => r.kind), ['started', 'oom_killed', 'exited', 'restarted', 'exited']);
});

test('a time jump subscribes again with since (no resume, no replay); a reconnect after it resumes', () => {
  const { S, se, sent } = setup({ containers: ['h/a'], replay: 100 });
  se.apply();
  const first = sent[0].id;
  se.frame({ type: 'lines', id: first, lines: [L(5, 1)] });
  S.since = '2026-12-01T10:00:00.000Z';
  se.jump();
  assert.deepEqual(sent[1], { op: 'unsubscribe', id: first });
  const sub = sent[2];
  assert.equal(sub.op, 'subscribe');
  assert.equal(sub.since, S.since);
  assert.equal(sub.after_seq, undefined);
  assert.equal(sub.replay, undefined);
  let jumped = 0;
  se.o.onJumped = () => jumped++;
  se.frame({ type: 'lines', id: sub.id, lines: [L(9, 4)] });
  se.frame({ type: 'replayed', id: sub.id, seq: 9 });
  se.frame({ type: 'replayed', id: sub.id, seq: 9 });
  assert.equal(jumped, 1, 'told once that the jump is replayed');
  se.closed();
  se.opened();
  assert.equal(sent.at(-1).after_seq, 9);
  assert.equal(sent.at(-1).since, undefined);
  // back to the newest lines
  S.since = '';
  se.jump();
  assert.equal(sent.at(-1).replay, 100);
  assert.equal(sent.at(-1).since, undefined);
});
