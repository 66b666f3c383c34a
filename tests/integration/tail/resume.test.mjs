// Acceptance 3: --resume. Kill the client, let 500 lines pass, run again: exactly those
// 500. With more than the retained depth in between: one gap line with the exact count.
// Interrupted while lines flow (Ctrl-C, or kill -9 at a random moment): never a line twice.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Stack, sleep } from '../../lib/harness.mjs';
import { gate, openGate, stored } from '../gateway/client.mjs';
import { Tail, tailRun, jsonLines } from './lib.mjs';

let s, c, file;
before(async () => {
  s = await Stack.start({ publisher: true });    // replay depth 1000
  const loop = (a, b, pause = '') => `i=${a}; while [ $i -le ${b} ]; do echo "line $i"; ${pause} i=$((i+1)); done`;
  c = await s.run('res', `${loop(1, 100)}; ${gate(1)}; ${loop(101, 600)}; ${gate(2)}; ${loop(601, 2100)}; `
    + `${gate(3)}; ${loop(2101, 3000, '[ $((i % 10)) -eq 0 ] && sleep 0.02;')}; ${gate(4)}; `
    + `${loop(3001, 4000, '[ $((i % 10)) -eq 0 ] && sleep 0.02;')}; sleep 3600`);
  file = path.join(s.dir, 'tail.resume');
});
after(async () => { if (s) await s.stop(); });

const lineNos = (out) => out.filter((o) => o.type === 'line').map((o) => o.line_no);
const seq = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const args = () => ['--resume', file, '-o', 'json', '--tail', 'all', '--delay', '0', `*/${c.name}`];

test('killed, 500 lines pass, run again: exactly those 500', async () => {
  await stored(s, c.name, 100);
  const t = Tail.start(s, args());
  await t.until((x) => x.json.length >= 100, 30000, '100 lines');
  await sleep(300);
  await t.stop('SIGKILL');
  assert.deepEqual(lineNos(t.json), seq(1, 100));
  await openGate(s, c.name, 1);
  await stored(s, c.name, 600);
  const r = await tailRun(s, ['--no-follow', ...args()]);
  assert.equal(r.code, 0, r.stderr);
  const out = jsonLines(r.stdout);
  assert.deepEqual(lineNos(out), seq(101, 600));
  assert.equal(out.filter((o) => o.type === 'gap').length, 0);
  assert.deepEqual(out.map((o) => o.line), seq(101, 600).map((n) => `line ${n}`));
});

test('more than the depth in between: one gap line with the exact count', async () => {
  await openGate(s, c.name, 2);
  await stored(s, c.name, 2100);    // 1101..2100 retained; 601..1100 expired
  fs.copyFileSync(file, `${file}.copy`);
  const r = await tailRun(s, ['--no-follow', ...args()]);
  assert.equal(r.code, 0, r.stderr);
  const out = jsonLines(r.stdout);
  assert.deepEqual(out[0], { type: 'gap', host: s.hostId, container: c.name, after_line_no: 600,
    next_line_no: 1101, lost: 500, reason: 'not in the stream any more' });
  assert.equal(out.filter((o) => o.type === 'gap').length, 1);
  assert.deepEqual(lineNos(out), seq(1101, 2100));
  // The same hole in the default format, from the saved copy of the resume file.
  const d = await tailRun(s, ['--no-follow', '--resume', `${file}.copy`, '--tail', 'all', `*/${c.name}`]);
  const lines = d.stdout.split('\n').filter(Boolean);
  assert.equal(lines.length, 1001);
  assert.equal(lines[0], `${s.hostId}/${c.name} [logjet-tail] gap: 500 lines lost (line_no 601..1100, not in the stream any more)`);
  assert.equal(lines[1], `${s.hostId}/${c.name} line 1101`);
});

test('Ctrl-C while lines flow, then again: continues exactly after the last line printed', async () => {
  const t = Tail.start(s, args());
  await sleep(300);
  await openGate(s, c.name, 3);
  await t.until((x) => x.json.length >= 200, 30000, '200 live lines');
  assert.equal((await t.stop('SIGINT')).code, 0, t.err);
  const first = lineNos(t.json);
  assert.deepEqual(first, seq(2101, 2100 + first.length));
  await stored(s, c.name, 3000);
  const r = await tailRun(s, ['--no-follow', ...args()]);
  const second = lineNos(jsonLines(r.stdout));
  assert.deepEqual([...first, ...second], seq(2101, 3000), `stopped after ${first.length} lines`);
});

test('kill -9 at a random moment while lines flow: never a line twice', async () => {
  const seed = Number(process.env.LOGJET_TEST_SEED || Date.now() % 100000);
  const wait = 200 + (seed * 7919) % 1500;
  console.log(`# seed ${seed}: kill -9 after ${wait} ms of flow`);
  const t = Tail.start(s, args());
  await sleep(300);
  await openGate(s, c.name, 4);
  await sleep(wait);
  await t.stop('SIGKILL');
  const first = lineNos(t.json);
  await stored(s, c.name, 4000);
  const r = await tailRun(s, ['--no-follow', ...args()]);
  const out = jsonLines(r.stdout);
  const second = lineNos(out);
  const all = [...first, ...second];
  assert.equal(new Set(all).size, all.length, 'a line printed twice');
  assert.ok(all.every((n, i) => i === 0 || n > all[i - 1]), 'out of order');
  assert.equal(second.at(-1), 4000);
  // What the killed run had recorded but not yet written is lost from the screen
  // (at most once): the two runs together miss at most that, and say nothing false.
  console.log(`# first run ${first.length} lines, second ${second.length}, missing ${1000 - all.length}`);
});
