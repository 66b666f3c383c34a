// bench/tail/bench.mjs - logjet-tail at a high input rate (run by hand; not a test).
//
//   meson compile -C build bench/tail/rawsub bench/tail/tailgen
//   node bench/tail/bench.mjs [lines=300000] [containers=1000] [repeats=3]
//
// A fresh nats-server; bench/tail/gen.c stores N records (~100-byte lines) over C
// containers into a LOGS stream with RePublish (memory storage, so JetStream can take
// more than 100k lines/s), as fast as it can. Consumers, one at a time, each started
// before the load:
//   (a) bench/tail/rawsub.c: a bare nats.c subscriber on live.logs.> writing the raw
//       payloads to /dev/null, timing itself from its first to its N-th message;
//   (b) logjet-tail -o raw --tail 0 (the default 250 ms reorder window, decode, dedupe,
//       sanitise, print), its output counted by this script from a pipe.
// Reports lines/s (first to last line), peak RSS and CPU per 1000 lines; Markdown out.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Stack, run, sleep, BUILD_DIR } from '../../tests/lib/harness.mjs';

const N = Number(process.argv[2] || 300000);
const C = Number(process.argv[3] || 1000);
const R = Number(process.argv[4] || 3);

function cpuSeconds(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
function vmHWM(pid) {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function consume(s, kind) {
  await run('nats-server', ['--version']);
  const js = (await (await s.nc()).jetstreamManager());
  await js.streams.delete('LOGS').catch(() => {});
  let child, done;
  let firstAt = 0, lastAt = 0, count = 0;
  if (kind === 'rawsub') {
    child = spawn(path.join(BUILD_DIR, 'bench/tail/rawsub'), [s.natsUrl, 'live.logs.>', String(N)],
      { stdio: ['ignore', fs.openSync('/dev/null', 'w'), 'pipe'] });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    done = once(child, 'exit').then(() => {
      const [n, secs, cpu, rssKb] = err.trim().split(' ').map(Number);
      return { n, secs, cpu, rss: rssKb / 1024 };
    });
  } else {
    child = spawn(path.join(BUILD_DIR, 'tail/logjet-tail'), ['--nats-url', s.natsUrl, '-o', 'raw', '--tail', '0'],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    done = new Promise((resolve) => {
      child.stdout.on('data', (d) => {
        const now = process.hrtime.bigint();
        if (!firstAt) firstAt = now;
        for (let i = d.indexOf(10); i >= 0; i = d.indexOf(10, i + 1)) count++;
        if (count >= N && !lastAt) { lastAt = now; resolve({ n: count, secs: Number(lastAt - firstAt) / 1e9 }); }
      });
    });
  }
  await sleep(1500);
  const cpu0 = kind === 'rawsub' ? 0 : cpuSeconds(child.pid);
  const gen = await run(path.join(BUILD_DIR, 'bench/tail/tailgen'), [s.natsUrl, String(N), String(C)]);
  const timeout = sleep(120000).then(() => ({ n: count, secs: NaN }));
  const r = await Promise.race([done, timeout]);
  const cpu = kind === 'rawsub' ? r.cpu : cpuSeconds(child.pid) - cpu0;    // rawsub: whole life
  const rss = kind === 'rawsub' ? r.rss : vmHWM(child.pid);
  child.kill('SIGTERM');
  await once(child, 'exit').catch(() => {});
  return { kind, input: gen.stdout.trim(), rate: r.n / r.secs, n: r.n, rss, cpuPer1000: cpu / r.n * 1000 * 1000 };
}

const s = await Stack.start({});
const results = { rawsub: [], tail: [] };
try {
  for (let i = 0; i < R; i++) {
    for (const k of ['rawsub', 'tail']) {
      const r = await consume(s, k);
      console.error(JSON.stringify(r));
      results[k].push(r);
    }
  }
} finally {
  await s.stop();
}
const med = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
const span = (a) => `${Math.round(Math.min(...a))}-${Math.round(Math.max(...a))}`;
const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
console.log(`Run ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, ${os.cpus().length} x ${os.cpus()[0].model}, `
  + `load average ${load} at the end, ${N} lines over ${C} containers, ${R} repeats (median [min-max])`);
console.log('| measure | (a) bare nats.c subscriber | (b) logjet-tail -o raw |');
console.log('|---|---|---|');
const row = (name, f, fmt) => console.log(`| ${name} | ${fmt(med(results.rawsub.map(f)))} [${span(results.rawsub.map(f))}] | ${fmt(med(results.tail.map(f)))} [${span(results.tail.map(f))}] |`);
row('lines/s printed', (r) => r.rate, (x) => `${Math.round(x)}`);
row('lines received of N', (r) => r.n, (x) => `${x}`);
row('peak RSS (MB)', (r) => r.rss, (x) => x.toFixed(1));
row('CPU ms per 1000 lines', (r) => r.cpuPer1000, (x) => x.toFixed(1));
console.log(`input (gen): ${[...results.rawsub, ...results.tail].map((r) => r.input.replace(/^.*: /, '')).join(', ')}`);
