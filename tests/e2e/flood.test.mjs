// Acceptance: a container printing 10,000 lines/s for 10 s. The page keeps answering
// (pause, search and scrolling work during the flood), the buffer bound holds, nothing
// crashes; long tasks and frame times are reported.
//
// The machine running this is shared (2 cores: dockerd, nats-server, publisher, gateway,
// Chromium and node itself), so a task's wall time includes time the renderer was not
// scheduled. The asserted bounds are therefore sanity bounds that a frozen page fails
// (reaction within REACT_MS, no task over LONG_MAX_MS, frames keep coming); the measured
// figures are printed and saved for bench/ui/RESULTS-ui.md, whose target is 50 ms.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sleep } from '../lib/harness.mjs';
import { openBrowser, stats, summary, pct, visibleRows, until, screenshot, saveArtifact, startTrace } from './lib.mjs';

const RATE = Number(process.env.LOGJET_FLOOD_RATE || 10000); // lines per second
const SECONDS = Number(process.env.LOGJET_FLOOD_SECONDS || 10);
const BUF = 20000; // page buffer bound for this test (set through the URL)
const REACT_MS = Number(process.env.LOGJET_FLOOD_REACT_MS || 2000); // input -> visible effect, asserted
const LONG_MAX_MS = Number(process.env.LOGJET_FLOOD_LONG_MAX_MS || 1000); // no single task longer, asserted
const WAIT_MS = 15000; // how long a reaction is waited for (measured beyond the bound, then asserted)
// LOGJET_FLOOD_TRACE=1: also trace the page (Chromium trace) for the main-thread CPU time of each task.
// Off by default: on a 2-core machine the trace itself costs the page a lot and its collection takes ~1 min.
const TRACE = process.env.LOGJET_FLOOD_TRACE === '1';

let s;
let b;

before(async () => {
  s = await Stack.start({ publisher: true, gateway: true });
  b = await openBrowser({ perf: true });
});

after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

/** Traces the page's tasks; stop() returns the renderer main thread's tasks
 *  [{wall, cpu}] (ms; cpu is the thread time, which a loaded machine does not inflate). */
async function traceTasks(page) {
  const stop = await startTrace(page, 'disabled-by-default-devtools.timeline');
  return async () => {
    const events = await stop();
    const mains = events.filter((e) => e.name === 'thread_name' && e.args && e.args.name === 'CrRendererMain');
    const tasks = [];
    for (const m of mains) {
      for (const e of events) {
        if (e.pid === m.pid && e.tid === m.tid && e.ph === 'X' && e.name === 'RunTask') {
          tasks.push({ wall: e.dur / 1000, cpu: (e.tdur || 0) / 1000 });
        }
      }
    }
    return tasks;
  };
}

/** Time from an input to its visible effect, measured in node (includes the CDP round trips).
 *  Kept apart: `act` (playwright delivering the input: several round trips for a fill) and
 *  `effect` (from the input delivered to the effect seen). A reaction that never comes is
 *  recorded as null (asserted after the report is written). */
const effects = {};
async function timed(what, act, check, timeoutMs = WAIT_MS) {
  const t0 = Date.now();
  await act();
  const t1 = Date.now();
  try {
    await until(check, timeoutMs, what, 10);
  } catch (e) {
    console.log(`no reaction: ${e.message}`);
    effects[what] = null;
    return null;
  }
  effects[what] = Date.now() - t1;
  return Date.now() - t0;
}

test(`flood: ${RATE} lines/s for ${SECONDS} s`, async () => {
  const { page, errors } = b;
  // batches of RATE/10 lines every 100 ms
  const per = Math.max(1, Math.round(RATE / 10));
  const batches = SECONDS * 10;
  const script = `sleep 2; i=0; while [ $i -lt ${batches} ]; do ` +
    `seq $((i*${per}+1)) $(((i+1)*${per})) | sed 's/^/flood level=info n=/'; i=$((i+1)); sleep 0.1; done; ` +
    'echo "flood done"; while true; do sleep 1; done';
  const c = await s.run('flood', script);
  const reactions = {};
  const key = s.ref(c.name);
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(key)}&buf=${BUF}`);
  await until(() => page.evaluate(() => window.__logjet.stats.connected), 10000, 'connected');
  const start = Date.now();
  await until(async () => (await stats(page)).received > 1000, 20000, 'flood reaches the page');
  const floodStart = Date.now();
  const floodT0 = await page.evaluate(() => performance.now()); // page clock: long tasks after this are the flood's
  const stopTrace = TRACE ? await traceTasks(page) : null;

  // pause during the flood: the screen stops, the count of waiting lines grows
  await sleep(1500);
  console.log(`flood on screen after ${Date.now() - start} ms`);
  const phases = [];
  const phase = async (name) => phases.push({ name, at: await page.evaluate(() => performance.now()) });
  await phase('pause/resume');
  reactions.pause = await timed('pause', () => page.keyboard.press('Space'),
    () => page.evaluate(() => /Resume/.test(document.getElementById('pause').textContent)));
  const maxSeq = async () => Math.max(0, ...(await visibleRows(page)).map((r) => r.seq || 0));
  // Lines merged before the key press may still be painted by the next frame (the pause
  // shows on its button at once): the screen is frozen from the frame after that.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(() => r()))));
  const frozen = await maxSeq();
  await sleep(1000);
  const checks = [];
  const frozenAfter = await maxSeq();
  checks.push([frozenAfter === frozen, `paused screen does not move (${frozen} -> ${frozenAfter})`]);
  const waiting = (await stats(page)).pending;
  checks.push([waiting > 1000, `lines kept while paused: ${waiting}`]);
  reactions.resume = await timed('resume', () => page.keyboard.press('Space'),
    async () => (await maxSeq()) > frozen);

  // search during the flood
  await phase('search');
  await page.keyboard.press('/');
  reactions.search = await timed('search', async () => { await page.fill('#q', '77'); await page.press('#q', 'Enter'); },
    async () => { const v = await visibleRows(page); return v.length > 0 && v.every((r) => r.text.includes('77')); });
  await sleep(1000);
  const vis = await visibleRows(page);
  checks.push([vis.length > 0 && vis.every((r) => r.text.includes('77')), 'search applies during the flood']);
  await phase('screenshot');
  await screenshot(page, 'ui-flood-search-light.png');
  await phase('search cleared');
  reactions.searchClear = await timed('search cleared', async () => { await page.fill('#q', ''); await page.press('#q', 'Enter'); },
    async () => (await visibleRows(page)).some((r) => r.text && !r.text.includes('77')));
  await page.press('#q', 'Escape');

  // scrolling during the flood
  await phase('scroll/End');
  await page.mouse.move(700, 400);
  reactions.scrollUp = await timed('scroll up', () => page.mouse.wheel(0, -3000),
    () => page.evaluate(() => !window.__logjet.api.follow));
  const top = (await visibleRows(page))[0]?.seq;
  await sleep(500);
  // the view holds still while lines stream in below (unless they are trimmed away)
  const top2 = (await visibleRows(page))[0]?.seq;
  checks.push([top2 >= top, `scrolled view does not jump backwards (${top} -> ${top2})`]);
  // End: following again, and the newest line held by the page is on screen
  reactions.end = await timed('End', () => page.keyboard.press('End'),
    () => page.evaluate(() => {
      const L = window.__logjet;
      if (!L.api.follow) return false;
      const vp = document.getElementById('viewport');
      return vp.scrollTop + vp.clientHeight >= vp.scrollHeight - 2;
    }));

  // the rest of the flood
  console.log(`interactions done after ${Date.now() - start} ms`);
  await phase('following');
  await until(async () => (await stats(page)).received >= RATE * SECONDS * 0.99 || Date.now() - floodStart > SECONDS * 1000 + 30000,
    SECONDS * 1000 + 40000, 'flood received', 250);
  await sleep(1500);
  // whatever arrived is merged: the page is not stuck behind its own queue
  const drained = await until(async () => (await stats(page)).queued === 0, 10000, 'queue drained').then(() => true, () => false);
  const tTrace = Date.now();
  const tasks = stopTrace ? await stopTrace() : [];
  if (stopTrace) console.log(`trace collected in ${Date.now() - tTrace} ms`);
  const st = await stats(page);
  const perf = await page.evaluate(() => { window.__perf.running = false; window.__perf.now = performance.now(); return window.__perf; });
  const long = perf.longtasks.filter((t) => t.start >= floodT0);
  const loadLong = perf.longtasks.filter((t) => t.start < floodT0);
  const frames = perf.frames.slice(perf.framesAt ? perf.framesAt.findIndex((t) => t >= floodT0) : 0);
  const fs = summary(frames);
  const ls = summary(long.map((t) => t.dur));
  const byPhase = {};
  for (let i = 0; i < phases.length; i++) {
    const end = i + 1 < phases.length ? phases[i + 1].at : Infinity;
    const ls2 = long.filter((t) => t.start >= phases[i].at && t.start < end).map((t) => Math.round(t.dur));
    byPhase[phases[i].name] = { seconds: Math.round(((end === Infinity ? perf.now : end) - phases[i].at) / 100) / 10, longTasks: ls2.length, maxMs: ls2.length ? Math.max(...ls2) : 0 };
  }
  const inPage = await page.evaluate(() => (window.__logjet.reactions || []).map((r) => ({ what: r.what, ms: Math.round(r.ms) })));
  const wallLong = tasks.filter((t) => t.wall > 50);
  const cpuTotal = tasks.reduce((a, t) => a + t.cpu, 0);
  const wallTotal = tasks.reduce((a, t) => a + t.wall, 0);
  const mainThread = TRACE ? {
    tasks: tasks.length, cpuMs: Math.round(cpuTotal), wallMs: Math.round(wallTotal),
    wallOver50: wallLong.length, cpuOfThoseMax: wallLong.length ? Math.round(Math.max(...wallLong.map((t) => t.cpu))) : 0,
    cpuOver50: tasks.filter((t) => t.cpu > 50).length, cpuMax: tasks.length ? Math.round(Math.max(...tasks.map((t) => t.cpu)) * 10) / 10 : 0,
    cpuP99: Math.round(pct(tasks.map((t) => t.cpu), 99) * 10) / 10,
  } : null;
  const heap = await page.evaluate(() => (performance.memory ? performance.memory.usedJSHeapSize : 0));
  // the volume chart during the flood: a few small draws a second, not one per batch
  const chart = await page.evaluate(() => ({ draws: window.__logjet.chart.draws, drawMsMax: Math.round(window.__logjet.chart.drawMsMax * 10) / 10 }));
  const chartSeconds = (Date.now() - start) / 1000;
  console.log(`volume chart: ${chart.draws} draws in ${chartSeconds.toFixed(1)} s, longest ${chart.drawMsMax} ms`);
  checks.push([chart.draws > 0 && chart.draws <= chartSeconds * 4 + 8, `chart draws at most ~4 a second: ${chart.draws} in ${chartSeconds.toFixed(1)} s`]);
  const report = {
    rate: RATE, seconds: SECONDS, received: st.received, queued: st.queued, buffered: st.buffered, bound: BUF, trimmed: st.trimmed,
    gaps: st.gaps, duplicates: st.duplicates, frames: st.frames, frameWorkMaxMs: st.frameMsMax,
    frameIntervalMs: fs, longTasks: { count: long.length, ...ls, over50: long.filter((t) => t.dur > 50).length },
    longTasksBeforeFlood: loadLong.map((t) => Math.round(t.dur)), longTasksMs: long.map((t) => Math.round(t.dur)), longTasksByPhase: byPhase,
    reactionsMs: reactions, effectsMs: effects, chart, reactionsInPageMs: inPage, mainThread, heapMB: Math.round(heap / 1048576), wallMs: Date.now() - start,
    load: (await import('node:os')).loadavg().map((x) => Math.round(x * 100) / 100),
  };
  console.log('flood report ' + JSON.stringify(report));
  console.log(`frames: n=${fs.n} p50=${fs.p50?.toFixed(1)} p99=${fs.p99?.toFixed(1)} max=${fs.max?.toFixed(1)} ms; ` +
    `long tasks: ${long.length} (max ${long.length ? ls.max.toFixed(0) : 0} ms, over 50 ms: ${report.longTasks.over50}); ` +
    `reactions ${JSON.stringify(reactions)} (after the input was delivered: ${JSON.stringify(effects)}); in the page (event -> painted) ${inPage.map((r) => r.what + ' ' + r.ms).join(', ')}`);
  console.log(`long tasks by phase: ${JSON.stringify(byPhase)}`);
  if (mainThread) {
    console.log(`main thread (trace): ${mainThread.tasks} tasks, CPU ${mainThread.cpuMs} ms in ${mainThread.wallMs} ms of task wall time; ` +
      `tasks over 50 ms wall: ${mainThread.wallOver50} (their CPU at most ${mainThread.cpuOfThoseMax} ms); ` +
      `tasks over 50 ms CPU: ${mainThread.cpuOver50}; task CPU p99 ${mainThread.cpuP99} ms, max ${mainThread.cpuMax} ms`);
  }
  saveArtifact('flood-ui.json', JSON.stringify(report, null, 2));
  await screenshot(page, 'ui-flood-light.png');

  for (const [ok, what] of checks) assert.ok(ok, what);
  // (how much of the flood gets through depends on the publisher and gateway sharing the
  // machine too; a page that stops reading shows as a slow_client gap, and as this bound)
  assert.ok(st.received >= RATE * SECONDS * 0.3, `the page received the flood: ${st.received}`);
  assert.ok(drained, `the page merged everything it received (queued: ${st.queued})`);
  assert.ok(st.buffered <= BUF, `buffer bound holds: ${st.buffered} <= ${BUF}`);
  assert.ok(st.trimmed > 0, 'old lines were dropped from the page');
  assert.ok(await page.evaluate(() => document.querySelectorAll('#layer .row').length) < 500, 'virtualised: few rows in the DOM');
  // a key press or a wheel: from sending it to seeing the effect; the search box (fill, then
  // Enter: several round trips through a busy machine): from Enter delivered to the effect
  for (const [k, v] of Object.entries(reactions)) {
    const typed = k === 'search' || k === 'searchClear';
    const ms = typed ? effects[k === 'search' ? 'search' : 'search cleared'] : v;
    assert.ok(ms !== null && ms !== undefined && ms < REACT_MS, `${k} answered in ${ms} ms (bound ${REACT_MS}; with the input ${v} ms)`);
  }
  for (const r of inPage) assert.ok(r.ms < REACT_MS, `${r.what}: input event -> painted frame in the page ${r.ms} ms (bound ${REACT_MS})`);
  // a page that freezes has a task as long as the freeze, or stops producing frames
  assert.ok(!long.some((t) => t.dur > LONG_MAX_MS), `no task over ${LONG_MAX_MS} ms (longest ${long.length ? ls.max.toFixed(0) : 0} ms)`);
  assert.ok(fs.n > 0 && fs.p50 < 100, `animation frames kept coming (p50 interval ${fs.p50} ms)`);
  // still alive
  assert.equal(await page.evaluate(() => 1 + 1), 2);
  assert.deepEqual(errors, []);
});
