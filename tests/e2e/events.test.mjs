// Browser test of lifecycle events inline: containers that start, print, exit with a code,
// get OOM-killed under a small --memory limit, restart, are renamed and removed, watched
// live through a glob; each event is a row of its own among the container's lines, in
// order, checked against `docker inspect` and against what the page counts as lines.
// A page opened afterwards sees the registry's current state at the right places.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sleep } from '../lib/harness.mjs';
import { openBrowser, timeline, until, screenshot } from './lib.mjs';

let s;
let b;

before(async () => {
  s = await Stack.start({ publisher: true, gateway: true });
  b = await openBrowser();
});

after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

const inspect = async (name) => {
  const r = await s.docker(['inspect', '-f', '{{.State.ExitCode}} {{.State.OOMKilled}}', name]);
  const [code, oom] = r.stdout.trim().split(' ');
  return { code: Number(code), oom: oom === 'true' };
};

/** One container's records in page order: lines as their text, events as "[kind]" (with the code). */
const story = (tl, key) => tl.filter((r) => r.c === key && !r.gap)
  .map((r) => (r.event ? `[${r.event}${r.event === 'exited' ? ' ' + r.code : ''}]` : r.line));

test('start, exit with its code, OOM kill, restart, rename and removal appear in order among the lines', async () => {
  const { page, errors } = b;
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(s.ref(s.prefix + 'ev-*'))}`);
  await until(async () => page.evaluate(() => window.__logjet.stats.connected), 15000, 'connected');
  await sleep(500);

  const a = await s.run('ev-exit', 'echo a1; echo a2; sleep 1; echo a3; exit 3');
  // Allocates 64 MB in a shell variable under an 8 MB limit (no swap): the kernel kills it.
  const o = await s.run('ev-oom', 'echo b1; sleep 0.5; x=$(head -c 64000000 /dev/zero | tr "\\0" a); echo "never ${#x}"',
    { args: ['--memory', '8m', '--memory-swap', '8m'] });
  assert.equal(await s.wait(a.name), 3);
  assert.equal(await s.wait(o.name), 137);
  assert.deepEqual(await inspect(o.name), { code: 137, oom: true }, 'Docker says the kernel killed it');
  assert.deepEqual(await inspect(a.name), { code: 3, oom: false });
  const ka = s.ref(a.name);
  const ko = s.ref(o.name);
  await until(async () => story(await timeline(page), ka).includes('[exited 3]'), 20000, 'the first exit shown');

  // a second run of the same container, then a new name for it; the other one is removed
  assert.equal((await s.docker(['start', a.name])).code, 0);
  assert.equal(await s.wait(a.name), 3);
  await until(async () => story(await timeline(page), ka).filter((x) => x === 'a3').length === 2, 20000, 'the second run\'s lines');
  await sleep(1000);
  const renamed = s.prefix + 'ev-renamed';
  assert.equal((await s.docker(['rename', a.name, renamed])).code, 0);
  assert.equal((await s.docker(['rm', '-f', o.name])).code, 0);

  const wantA = ['[started]', 'a1', 'a2', 'a3', '[exited 3]', '[restarted]', 'a1', 'a2', 'a3', '[exited 3]', '[renamed]'];
  const wantO = ['[started]', 'b1', '[oom_killed]', '[exited 137]', '[removed]'];
  let tl = [];
  try {
    await until(async () => {
      tl = await timeline(page);
      return story(tl, ka).length >= wantA.length && story(tl, ko).length >= wantO.length;
    }, 20000, 'every event');
  } catch (e) {
    throw new Error(`${e.message}: ${JSON.stringify(story(tl, ka))} ${JSON.stringify(story(tl, ko))}`);
  }
  await sleep(2500); // (nothing more may come: no event twice)
  tl = await timeline(page);
  assert.deepEqual(story(tl, ka), wantA, 'exit code and restart in order between the lines');
  assert.deepEqual(story(tl, ko), wantO, 'OOM kill in order between the lines');
  const ren = tl.find((r) => r.c === ka && r.event === 'renamed');
  assert.equal(ren.text, 'container renamed to ' + renamed);
  const oom = tl.find((r) => r.c === ko && r.event === 'exited');
  assert.equal(oom.text, 'container exited with code 137 (OOM-killed)');

  // not lines: the page counts 6 and 1 lines; rows of their own, with accessible text
  const counts = await page.evaluate(([x, y]) => [window.__logjet.store.perContainer.get(x), window.__logjet.store.perContainer.get(y)], [ka, ko]);
  assert.deepEqual(counts, [6, 1], 'events are not counted as lines');
  const rows = await page.evaluate(() => [...document.querySelectorAll('#layer .row.event')].map((r) => ({
    kind: r.dataset.event, c: r.dataset.container, role: r.getAttribute('role'), label: r.getAttribute('aria-label'),
    text: r.innerText, seq: r.dataset.seq || null, level: r.dataset.level || null,
  })));
  const oomRow = rows.find((r) => r.kind === 'oom_killed');
  assert.ok(oomRow, `an OOM row on screen: ${JSON.stringify(rows)}`);
  assert.equal(oomRow.role, 'note');
  assert.match(oomRow.label, new RegExp(`^${ko.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: container OOM-killed`));
  assert.match(oomRow.text, /OOM-killed/);
  assert.equal(oomRow.seq, null, 'no line attributes on an event row');
  await screenshot(page, 'ui-events-light.png');

  // the level filter leaves events in view; a search matches an event by its text
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(s.ref(s.prefix + 'ev-*'))}&lv=error&q=OOM`);
  await until(async () => (await timeline(page)).some((r) => r.event === 'oom_killed' && r.shown), 15000, 'OOM row matched by the search');
  tl = await timeline(page);
  assert.ok(!tl.some((r) => r.event === 'started' && r.shown), 'a search hides the events it does not match');
  assert.deepEqual(errors, []);
});

test('a page opened later sees the current state: start, OOM kill, exit and removal around the lines', async () => {
  const { page, errors } = b;
  const ko = s.ref(s.prefix + 'ev-oom');
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(ko)}`);
  let tl = [];
  await until(async () => { tl = await timeline(page); return story(tl, ko).length >= 5; }, 20000, 'the replay and its events');
  await sleep(2000);
  tl = await timeline(page);
  assert.deepEqual(story(tl, ko), ['[started]', 'b1', '[oom_killed]', '[exited 137]', '[removed]']);
  assert.ok(tl.filter((r) => r.event).every((r) => r.current), 'marked as the state at subscribe');
  assert.deepEqual(errors, []);
});
