// The container that crashed before logjet ran: started, printed and exited before the
// publisher and gateway existed, it is in the viewer's list as stopped and its lines
// show, as the engine has them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sleep } from '../lib/harness.mjs';
import { openBrowser, snapshot, until } from './lib.mjs';

let s;
let b;
before(async () => {
  s = await Stack.start({ publisher: false, gateway: false });
  b = await openBrowser();
});
after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

test('a container that exited before logjet started: listed as stopped, its lines shown', async () => {
  const c = await s.run('crashed.1', 'i=0; while [ $i -lt 30 ]; do i=$((i+1)); echo "crash line $i"; done; echo "panic: out of cheese" >&2; exit 2');
  assert.equal(await s.wait(c.name), 2);
  await s.startPublisher();
  await s.startGateway();
  const { page, errors } = b;
  const key = s.ref(c.name);
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(key)}`);
  await page.waitForSelector(`#clist .citem[data-key="${key}"]`, { timeout: 20000 });
  const item = await page.$eval(`#clist .citem[data-key="${key}"]`, (e) => ({ cls: e.className, title: e.title }));
  assert.match(item.cls, /\bstopped\b/, `listed as stopped: ${item.cls}`);
  assert.match(item.title, /exited/, `its state in the tooltip: ${item.title}`);
  let rows = [];
  await until(async () => (rows = (await snapshot(page)).filter((r) => r.c === key && !r.gap)).length >= 31, 20000, 'its 31 lines');
  await sleep(500);
  rows = (await snapshot(page)).filter((r) => r.c === key && !r.gap);
  // The page keeps lines in time order (ui/store.js: by Docker's time to the
  // microsecond, then seq). A stderr line may be stamped before stdout lines the engine
  // wrote earlier (each stream has its own copier), so the engine's lines are put in
  // that order here, from the engine's own times; equal times keep the engine's order.
  const usOf = (ts) => { const m = /^(.{19})(?:\.(\d+))?Z$/.exec(ts);
    return Date.parse(m[1] + 'Z') * 1000 + Number(((m[2] || '') + '000000').slice(0, 6)); };
  const want = (await s.engineLogs(c.name, { timestamps: true }))
    .map((l) => ({ us: usOf(l.ts), line: l.line.toString() }))
    .sort((a, b) => a.us - b.us).map((l) => l.line);
  assert.equal(want.length, 31);
  assert.deepEqual(rows.map((r) => r.line), want, 'the lines the engine has, in time order');
  assert.deepEqual(errors, []);
});
