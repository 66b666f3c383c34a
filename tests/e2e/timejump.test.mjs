// Browser test of the time jump: `since=` in the URL and the time picker show the lines
// from the chosen time on (checked against `docker logs -t`), with that time at the top
// of the view; a time older than what the stream keeps is explained beside the picker;
// "Latest" goes back to the newest lines.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sleep } from '../lib/harness.mjs';
import { openBrowser, snapshot, visibleRows, until, screenshot } from './lib.mjs';
import { stored } from '../integration/gateway/client.mjs';

const DEPTH = 50;
const N = 120;
let s;
let b;
let c;
let logs; // [{ms, text}] from docker logs -t, Docker's own times

before(async () => {
  s = await Stack.start({ publisher: true, gateway: true, replayDepth: DEPTH });
  c = await s.run('jump', `i=1; while [ $i -le ${N} ]; do echo "tick $i"; i=$((i+1)); sleep 0.02; done; sleep 3600`);
  await stored(s, c.name, N);
  const r = await s.docker(['logs', '-t', c.name]);
  logs = r.stdout.trim().split('\n').map((l) => {
    const ts = l.slice(0, l.indexOf(' '));
    // (ms precision: the picker's; fractions past ms only make a line later, never earlier)
    return { ms: Date.parse(ts.replace(/(\.\d{3})\d*Z$/, '$1Z')), ns: ts, text: l.slice(l.indexOf(' ') + 1) };
  });
  assert.equal(logs.length, N);
  b = await openBrowser();
});

after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

const lines = async (page) => (await snapshot(page)).filter((r) => !r.gap);

test('since= in the URL: the lines from that time on, the time at the top of the view', async () => {
  const { page, errors } = b;
  const at = logs[N - 20].ms; // "tick 101", to the millisecond
  const want = logs.filter((l) => l.ms >= at).map((l) => l.text);
  const since = new Date(at).toISOString();
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(s.ref(c.name))}&since=${encodeURIComponent(since)}`);
  await until(async () => (await lines(page)).length >= want.length, 20000, 'the lines from the time on');
  await sleep(1000);
  const got = await lines(page);
  assert.deepEqual(got.map((r) => r.line), want, 'exactly the lines stamped at or after the time');
  assert.ok(got.every((r) => r.ts >= at), 'none earlier than the time');
  await until(async () => (await visibleRows(page))[0]?.text === want[0], 5000, 'the first of them at the top');
  const info = await page.textContent('#since-info');
  assert.match(info, /^Lines from .* on\.$/);
  assert.equal(new URL(page.url()).searchParams.get('since'), since);
  assert.equal(await page.inputValue('#since'), new Date(at).toISOString().slice(0, 19), 'the picker shows it (UTC here)');
  assert.deepEqual(errors, []);
});

test('the picker: a time older than what is kept shows the kept lines and says from when they are kept', async () => {
  const { page, errors } = b;
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(s.ref(c.name))}&utc=1`);
  await until(async () => (await lines(page)).length >= DEPTH, 20000, 'the replay');
  const old = new Date(logs[9].ms).toISOString().slice(0, 19); // "tick 10": long evicted
  await page.fill('#since', old);
  await page.click('#since-go');
  await until(async () => /older than what is kept/.test(await page.textContent('#since-info')), 20000, 'the explanation');
  const info = await page.textContent('#since-info');
  const kept = logs[N - DEPTH];
  assert.ok(info.includes(`kept from ${kept.ns.slice(0, 10)} ${kept.ns.slice(11, 23)}Z`), `names the first line kept (${kept.ns}): ${info}`);
  assert.ok(info.includes(c.name), info);
  await until(async () => (await lines(page)).length >= DEPTH, 20000, 'the kept lines');
  const got = await lines(page);
  assert.deepEqual(got.map((r) => r.line), logs.slice(N - DEPTH).map((l) => l.text));
  assert.equal(new URL(page.url()).searchParams.get('since'), old + '.000Z');
  const hook = await page.evaluate(() => window.__logjet.retention.map((m) => [m.first_line_no, m.container]));
  assert.deepEqual(hook, [[N - DEPTH + 1, s.ref(c.name)]]);
  await screenshot(page, 'ui-timejump-light.png');

  // back to the newest lines: the URL forgets the time, the explanation goes
  await page.click('#since-live');
  await until(async () => (await page.textContent('#since-info')) === '', 5000, 'the explanation cleared');
  assert.equal(new URL(page.url()).searchParams.get('since'), null);
  await until(async () => (await lines(page)).length >= DEPTH, 20000, 'the newest lines');
  assert.deepEqual((await lines(page)).map((r) => r.line), logs.slice(N - DEPTH).map((l) => l.text));
  assert.deepEqual(errors, []);
});
