// The volume chart's cost during the 10,000 lines/s flood, from a Chromium trace: the
// chart draws in a task of its own (ui/chart.js's loop), so the trace's FunctionCall
// events of chart.js are its CPU time (thread time, which a loaded machine does not
// inflate), and the main thread's tasks over 50 ms of CPU can be told apart by whether
// the chart ran in them. The view is merged (a glob over two containers), so the chart
// stacks by container, its most expensive drawing. Half the flood with the chart shown,
// half with it hidden (the toolbar's Chart button), in the same run: the difference is
// the chart's own share.
//
// Asserted (sanity bounds on a shared 2-core machine, the figures are printed): the chart
// drew while shown and not while hidden; no chart call took 50 ms of CPU and no task over
// 50 ms of CPU had the chart in it; the chart took under a fifth of the main thread's CPU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sleep } from '../lib/harness.mjs';
import { openBrowser, stats, until, saveArtifact, startTrace } from './lib.mjs';

const RATE = Number(process.env.LOGJET_FLOOD_RATE || 10000);
const PHASE_S = Number(process.env.LOGJET_CHARTPERF_PHASE_S || 6);
const BUF = 20000;
const LONG_CPU_MS = 50;

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

/** Traces the page; stop() returns the renderer main thread's events (the one running the page's scripts). */
async function traceMain(page) {
  const stop = await startTrace(page, 'devtools.timeline,disabled-by-default-devtools.timeline');
  return async () => {
    const events = await stop();
    const ours = events.find((e) => e.name === 'FunctionCall' && e.args?.data?.url?.endsWith('/app.js'));
    if (!ours) throw new Error(`no FunctionCall of app.js in ${events.length} trace events`);
    return events.filter((e) => e.pid === ours.pid && e.tid === ours.tid);
  };
}

/** Per phase [from, to) (trace µs): tasks, their CPU, long ones, the chart's calls. */
function account(ev, from, to) {
  const inP = (e) => e.ts >= from && e.ts < to;
  const tasks = ev.filter((e) => e.ph === 'X' && e.name === 'RunTask' && inP(e)).map((e) => ({ ts: e.ts, end: e.ts + e.dur, cpu: (e.tdur || 0) / 1000, wall: e.dur / 1000 }));
  const calls = ev.filter((e) => e.ph === 'X' && e.name === 'FunctionCall' && inP(e) && e.args?.data?.url?.endsWith('/chart.js'))
    .map((e) => ({ ts: e.ts, cpu: (e.tdur || 0) / 1000, fn: e.args.data.functionName }));
  const long = tasks.filter((t) => t.cpu > LONG_CPU_MS);
  const withChart = long.filter((t) => calls.some((c) => c.ts >= t.ts && c.ts < t.end));
  const r1 = (x) => Math.round(x * 10) / 10;
  return {
    seconds: r1((to - from) / 1e6), tasks: tasks.length, cpuMs: Math.round(tasks.reduce((a, t) => a + t.cpu, 0)),
    longTasks: long.length, longCpuMaxMs: long.length ? r1(Math.max(...long.map((t) => t.cpu))) : 0, taskCpuMaxMs: tasks.length ? r1(Math.max(...tasks.map((t) => t.cpu))) : 0,
    chartCalls: calls.length, chartCpuMs: r1(calls.reduce((a, c) => a + c.cpu, 0)), chartCallCpuMaxMs: calls.length ? r1(Math.max(...calls.map((c) => c.cpu))) : 0,
    longTasksWithChart: withChart.length,
  };
}

test(`the volume chart during a ${RATE} lines/s flood: its own CPU, shown and hidden`, async () => {
  const { page, errors } = b;
  const per = Math.max(1, Math.round(RATE / 10));
  const batches = (2 * PHASE_S + 8) * 10;
  const flood = await s.run('perf-flood', `sleep 2; i=0; while [ $i -lt ${batches} ]; do ` +
    `seq $((i*${per}+1)) $(((i+1)*${per})) | sed 's/^/flood level=info n=/'; i=$((i+1)); sleep 0.1; done; while true; do sleep 1; done`);
  await s.run('perf-other', 'i=0; while true; do i=$((i+1)); echo "level=warn other $i"; sleep 0.2; done');
  const glob = s.ref(s.prefix + 'perf-*');
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(glob)}&buf=${BUF}`);
  await until(async () => (await stats(page)).received > 5000, 30000, 'the flood reaches the page');
  assert.equal(await page.evaluate(() => window.__logjet.chart.model?.byC), true, 'merged view: the chart stacks by container');
  const stop = await traceMain(page);
  const draws = () => page.evaluate(() => window.__logjet.chart.draws);
  const mark = (m) => page.evaluate((x) => console.timeStamp(x), m);
  await mark('chartperf-shown');
  const d0 = await draws();
  await sleep(PHASE_S * 1000);
  const d1 = await draws();
  // hidden from its button (a page script click: no mouse round trips in the measure)
  await page.evaluate(() => { console.timeStamp('chartperf-hidden'); document.getElementById('chart-tog').click(); });
  const d2 = await draws();
  await sleep(PHASE_S * 1000);
  await mark('chartperf-end');
  const d3 = await draws();
  const st = await stats(page);
  const t0 = Date.now();
  const ev = await stop();
  const ts = (m) => ev.find((e) => e.name === 'TimeStamp' && e.args?.data?.message === m)?.ts;
  const [a, h, z] = ['chartperf-shown', 'chartperf-hidden', 'chartperf-end'].map(ts);
  assert.ok(a && h && z, `phase marks in the trace: ${a} ${h} ${z}`);
  const shown = account(ev, a, h);
  const hidden = account(ev, h, z);
  const report = {
    rate: RATE, received: st.received, buffered: st.buffered, traceMs: Date.now() - t0,
    shown: { ...shown, draws: d1 - d0 }, hidden: { ...hidden, draws: d3 - d2 },
    chartShareOfCpu: shown.cpuMs ? Math.round((shown.chartCpuMs / shown.cpuMs) * 1000) / 10 + '%' : 'n/a',
    load: (await import('node:os')).loadavg().map((x) => Math.round(x * 100) / 100),
  };
  console.log('chart perf ' + JSON.stringify(report));
  console.log(`# chart shown: ${d1 - d0} draws, ${shown.chartCalls} calls of chart.js (checks and draws), ${shown.chartCpuMs} ms CPU (longest ${shown.chartCallCpuMaxMs} ms) of ${shown.cpuMs} ms main-thread CPU in ${shown.seconds} s; ` +
    `tasks over ${LONG_CPU_MS} ms CPU: ${shown.longTasks} (with the chart in them: ${shown.longTasksWithChart})`);
  console.log(`# chart hidden: ${d3 - d2} draws, ${hidden.chartCalls} calls of chart.js, ${hidden.chartCpuMs} ms CPU of ${hidden.cpuMs} ms main-thread CPU in ${hidden.seconds} s; ` +
    `tasks over ${LONG_CPU_MS} ms CPU: ${hidden.longTasks}`);
  saveArtifact('chart-perf.json', JSON.stringify(report, null, 2));

  assert.ok(st.received > RATE * PHASE_S * 0.3, `the flood went on: ${st.received} lines received`);
  assert.ok(d1 - d0 >= PHASE_S, `the chart drew while shown: ${d1 - d0} draws in ${PHASE_S} s`);
  assert.ok(shown.chartCalls > 0, 'its calls are in the trace');
  assert.equal(d3 - d2, 0, 'no draw while hidden');
  assert.ok(shown.chartCallCpuMaxMs < LONG_CPU_MS, `no chart call of ${LONG_CPU_MS} ms CPU: longest ${shown.chartCallCpuMaxMs} ms`);
  assert.equal(shown.longTasksWithChart, 0, `no task over ${LONG_CPU_MS} ms CPU has the chart in it`);
  assert.ok(shown.chartCpuMs < shown.cpuMs / 5, `the chart's CPU ${shown.chartCpuMs} ms is under a fifth of the main thread's ${shown.cpuMs} ms`);
  assert.deepEqual(errors, []);
  await s.docker(['rm', '-f', flood.name]);
});
