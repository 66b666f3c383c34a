#!/usr/bin/env node
// churn.mjs - the adversarial churn run: containers printing at mixed rates are
// started, stopped, restarted, killed, removed and renamed at random moments while the
// publisher is kill -9'ed and restarted (containers change during its start-up too)
// and nats-server restarts on its store; then checker.mjs compares, container by
// container, Docker's log with what JetStream holds. Exits 0 only on a clean verdict.
//
// Seeded and reproducible: the seed is printed first; the same seed makes the same
// plan (containers, scripts, names, actions and the pauses between them). Timings are
// the machine's own, so a seed reproduces the plan, not every interleaving.
//
// Usage: node tests/chaos/churn.mjs [--seed N] [--default-seed N] [--seconds S] [--containers N]
//        [--publisher-restarts P] [--nats-restarts P]   (chance per action; 0.08, 0.03)
//        env LOGJET_CHAOS_SEED=N (wins over --default-seed, not over --seed),
//        LOGJET_CHAOS_SECONDS, LOGJET_CHAOS_CONTAINERS, LOGJET_CHAOS_STATS=FILE
//        (one line of publisher RSS/CPU every 5 s), plus the harness's LOGJET_* set-up.
import fs from 'node:fs';
import path from 'node:path';
import { Stack, DOCKER_HOST, IMAGE, docker, sleep, waitFor } from '../lib/harness.mjs';
import { Engine, EventLog, check } from './checker.mjs';

const argv = process.argv.slice(2);
const arg = (name, env, def) => {
  const i = argv.indexOf(`--${name}`);
  if (i >= 0) return Number(argv[i + 1]);
  if (process.env[env]) return Number(process.env[env]);
  return def;
};
// --default-seed is the seed when neither --seed nor LOGJET_CHAOS_SEED is given (the
// meson test's fixed run); without any, a random one.
const seed = arg('seed', 'LOGJET_CHAOS_SEED', arg('default-seed', '-', Math.floor(Math.random() * 2 ** 31)));
const seconds = arg('seconds', 'LOGJET_CHAOS_SECONDS', 75);
const maxContainers = arg('containers', 'LOGJET_CHAOS_CONTAINERS', 12);
// Chance per action of a publisher restart (kill -9 mostly) and of a nats-server restart.
const pubRestart = arg('publisher-restarts', 'LOGJET_CHAOS_PUBLISHER_RESTARTS', 0.08);
const natsRestart = arg('nats-restarts', 'LOGJET_CHAOS_NATS_RESTARTS', 0.03);
const statsFile = process.env.LOGJET_CHAOS_STATS;
const MAX_LINE = 4096;

console.log(`churn: seed=${seed} seconds=${seconds} containers=${maxContainers} ` +
  `publisher-restarts=${pubRestart} nats-restarts=${natsRestart} ` +
  `(re-run: LOGJET_CHAOS_SEED=${seed} node tests/chaos/churn.mjs)`);

// mulberry32: small, good enough, and the same in every node.
function prng(a) {
  return () => {
    a |= 0; a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rnd = prng(seed);
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = (a) => a[Math.floor(rnd() * a.length)];
const chance = (p) => rnd() < p;
const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const NAMECH = ALNUM + '_.-';

const runTag = `${int(0, 9)}${Array.from({ length: 5 }, () => pick('abcdefghijklmnopqrstuvwxyz0123456789')).join('')}`;
const label = `logjet.chaos=${runTag}`;
const usedNames = new Set();
function newName() {
  for (;;) {
    // Docker's whole alphabet after the prefix: dots, dashes, underscores, digits first.
    const tail = Array.from({ length: int(1, 14) }, () => pick(NAMECH)).join('');
    const n = runTag + pick(['.', '-', '_', '']) + tail;
    if (!usedNames.has(n) || chance(0.5)) return n; // sometimes a name again (recreated)
  }
}

/** A busybox script: phases of bursts, trickles, stderr, long lines; then exit or sleep. */
function script(tag, tty) {
  const parts = ['r=$(($(cat /r 2>/dev/null || echo 0)+1)); echo $r > /r', `L=$(printf '%0${int(4200, 5200)}d' 0)`];
  if (!tty) parts.push(`X=$(printf '%0${int(16500, 40000)}d' 0)`);
  const phases = int(1, 4);
  for (let p = 0; p < phases; p++) {
    const n = pick([1, 5, 50, 300, 2000]);
    const kind = pick(p === 0 ? ['burst', 'burst', 'mixed', 'trickle'] : ['burst', 'trickle', 'mixed', 'long']);
    const body = {
      burst: `echo "${tag} r$r p${p} burst $i"`,
      trickle: `echo "${tag} r$r p${p} slow $i"; usleep ${int(5, 200) * 1000}`,
      mixed: `echo "${tag} r$r p${p} out $i"; if [ $((i % 3)) -eq 0 ]; then echo "${tag} r$r p${p} err $i" >&2; fi`,
      long: `echo "${tag} r$r p${p} long $i $L"; if [ $((i % 4)) -eq 0 ]; then echo "${tag} r$r p${p} huge $i ${tty ? '$L' : '$X'}" >&2; fi`,
    }[kind];
    const count = kind === 'trickle' ? Math.min(n, 200) : kind === 'long' ? Math.min(n, 50) : n;
    parts.push(`i=1; while [ $i -le ${count} ]; do ${body}; i=$((i+1)); done`);
  }
  parts.push(`echo "${tag} r$r done"`);
  parts.push(pick(['exit 0', 'exit 3', 'exec sleep 100000', 'exec sleep 100000']));
  return parts.join('; ');
}

// ---- the world ---------------------------------------------------------------------------

const engine = new Engine(DOCKER_HOST);
const events = new EventLog(engine, label);
const snapshots = new Map();
const publisherStarts = [];
const containers = []; // { name, tty, removed }
let s;
const actionLog = [];
const log = (msg) => { const line = `${((Date.now() - t0) / 1000).toFixed(2).padStart(7)}s ${msg}`; actionLog.push(line); if (process.env.LOGJET_CHAOS_VERBOSE) console.log(line); };
let t0 = Date.now();
const nowNs = () => BigInt(Date.now()) * 1000000n;

async function dockerRun(c) {
  const args = ['run', '-d', '--network', 'none', '--name', c.name, '--label', label,
    '--log-driver', 'json-file', '--log-opt', 'max-size=500m'];
  if (c.tty) args.push('-t');
  args.push(IMAGE, 'sh', '-c', c.script);
  const r = await docker(args);
  if (r.code !== 0) {
    // The name may be held by a container being removed in parallel: not an error of the product.
    log(`run ${c.name} failed: ${r.stderr.trim()}`);
    return false;
  }
  c.id = r.stdout.trim();
  return true;
}

async function removeContainer(c) {
  // Docker deletes the log with the container: keep it first (stopped, so it is whole).
  await docker(['kill', c.id]);
  await docker(['wait', c.id]);
  const info = await engine.inspect(c.id);
  if (info) snapshots.set(c.id, { log: await engine.logs(c.id, info.Config.Tty), tty: info.Config.Tty, name: info.Name.replace(/^\//, '') });
  await docker(['rm', '-f', c.id]);
  c.removed = true;
}

async function containerAction(kind) {
  const live = containers.filter((c) => !c.removed && c.id);
  if (kind === 'run' || live.length === 0) {
    if (containers.filter((c) => !c.removed).length >= maxContainers) return;
    const tty = chance(0.3);
    const c = { name: newName(), tty, removed: false };
    c.script = script(`c${containers.length}`, tty);
    usedNames.add(c.name);
    containers.push(c);
    log(`run ${c.name} tty=${tty}`);
    if (!(await dockerRun(c))) c.removed = true;
    return;
  }
  const c = pick(live);
  switch (kind) {
    case 'stop': log(`stop ${c.name}`); await docker(['stop', '-t', String(int(0, 1)), c.id]); break;
    case 'start': log(`start ${c.name}`); await docker(['start', c.id]); break;
    case 'restart': log(`restart ${c.name}`); await docker(['restart', '-t', String(int(0, 1)), c.id]); break;
    case 'kill': log(`kill ${c.name}`); await docker(['kill', c.id]); break;
    case 'rm': log(`rm ${c.name}`); await removeContainer(c); break;
    case 'rename': {
      const to = newName();
      log(`rename ${c.name} -> ${to}`);
      const r = await docker(['rename', c.id, to]);
      if (r.code === 0) { c.name = to; usedNames.add(to); } else log(`rename failed: ${r.stderr.trim()}`);
      break;
    }
    default: throw new Error(kind);
  }
}

const CONTAINER_ACTIONS = [['run', 4], ['stop', 1], ['start', 1.2], ['restart', 1], ['kill', 0.8], ['rm', 0.6], ['rename', 0.8]];
function pickWeighted(list) {
  const total = list.reduce((a, [, w]) => a + w, 0);
  let x = rnd() * total;
  for (const [k, w] of list) { if ((x -= w) < 0) return k; }
  return list.at(-1)[0];
}

async function startPublisher() {
  publisherStarts.push(nowNs());
  await s.startPublisher().catch((e) => { log(`publisher start: ${e.message.split('\n')[0]}`); });
}

async function restartPublisher(signal) {
  log(`publisher ${signal}`);
  await s.killPublisher(signal);
  await sleep(int(0, 1500));
  log('publisher start');
  let starting = startPublisher();
  // Killed again in the middle of its start-up (listing, positions, the event stream),
  // sometimes.
  if (chance(0.2)) {
    await sleep(int(0, 400));
    log('publisher SIGKILL during start-up');
    await s.killPublisher('SIGKILL');
    // (The first start's wait for /healthz gives up by itself, 20 s on; not awaited.)
    await sleep(int(0, 500));
    log('publisher start');
    starting = startPublisher();
  }
  // Containers change while it starts: listing, positions and the event stream race them.
  await sleep(int(0, 300));
  for (let k = int(0, 3); k > 0; k--) await containerAction(pickWeighted(CONTAINER_ACTIONS));
  await starting;
}

async function restartNats() {
  log('nats-server SIGTERM');
  await s.stopNats();
  await sleep(int(200, 3000));
  log('nats-server start');
  await s.startNats();
}

function procStats(pid) {
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const rss = Number(fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/)[1]);
    return { cpuTicks: Number(st[11]) + Number(st[12]), rssKiB: rss };
  } catch { return null; }
}

async function settle() {
  // Done when nothing is queued in the publisher and the stream stops growing; the
  // verdict itself never relies on the publisher's word.
  let last = -1, stable = 0;
  const end = Date.now() + 180000;
  while (Date.now() < end) {
    let queued = 1, stored = -1;
    try {
      const m = await s.metrics('publisher');
      queued = m.logjet_publisher_lines_queued;
      const nc = await s.nc();
      stored = (await (await nc.jetstreamManager()).streams.info('LOGS')).state.messages;
    } catch { /* restarting */ }
    stable = queued === 0 && stored === last ? stable + 1 : 0;
    last = stored;
    if (stable >= 4) return true;
    await sleep(1000);
  }
  return false;
}

async function main() {
  t0 = Date.now();
  await events.start();
  s = await Stack.start({ publisher: false, replayDepth: 10000000, env: {} });
  s.prefix = runTag;
  s.opts.publisherArgs = ['--max-line-bytes', String(MAX_LINE), '--log-level', 'debug'];
  let statsTimer, statsOut;
  if (statsFile) {
    statsOut = fs.openSync(statsFile, 'a');
    let prev = null;
    statsTimer = setInterval(() => {
      const p = s.procs.publisher;
      const st = p?.running ? procStats(p.pid) : null;
      const line = { t: Math.round((Date.now() - t0) / 1000), pid: p?.pid, rssKiB: st?.rssKiB ?? null,
        cpuPct: st && prev && prev.pid === p.pid ? Math.round((st.cpuTicks - prev.cpuTicks) / 5 * 100 / 100) : null };
      prev = st ? { ...st, pid: p.pid } : null;
      fs.writeSync(statsOut, JSON.stringify(line) + '\n');
    }, 5000);
  }
  let verdict;
  try {
    // Some containers exist before the first publisher start, some start with it.
    for (let k = int(0, 3); k > 0; k--) await containerAction('run');
    log('publisher start');
    const first = startPublisher();
    for (let k = int(0, 3); k > 0; k--) await containerAction('run');
    await first;
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      await sleep(int(0, 700));
      const x = rnd();
      if (x < pubRestart) await restartPublisher(chance(0.8) ? 'SIGKILL' : 'SIGTERM');
      else if (x < pubRestart + natsRestart) await restartNats();
      else await containerAction(pickWeighted(CONTAINER_ACTIONS));
    }
    // Quiesce: the publisher and NATS up; containers still printing are killed, the
    // ones asleep after their last line stay running.
    if (!s.procs.publisher?.running) { log('publisher start (final)'); await startPublisher(); }
    for (const c of containers.filter((x) => !x.removed && x.id)) {
      const info = await engine.inspect(c.id);
      if (!info?.State.Running) continue;
      const { lines } = await engine.logs(c.id, info.Config.Tty);
      const text = lines.map((l) => l.line.toString('latin1'));
      const lastRun = Math.max(0, ...text.map((t) => Number((t.match(/ r(\d+) /) || [0, 0])[1])));
      if (!text.some((t) => t.endsWith(` r${lastRun} done`))) {
        log(`final kill ${c.name}`);
        await docker(['kill', c.id]);
      }
    }
    await sleep(1500);
    log(`settling (${(await settle()) ? 'settled' : 'did not settle in 180 s'})`);
    if (statsTimer) clearInterval(statsTimer);
    verdict = await check({ engine, natsUrl: s.natsUrl, stream: 'LOGS', host: s.hostId, label,
      maxLineBytes: MAX_LINE, events, snapshots, seed });
  } catch (e) {
    console.error(`churn: aborted: ${e.stack}`);
    verdict = { ok: false, lines: [`FAIL seed=${seed}: ${e.message}`] };
  } finally {
    if (statsTimer) clearInterval(statsTimer);
    if (statsOut) fs.closeSync(statsOut);
    events.stop();
  }
  for (const l of verdict.lines) console.log(l);
  const actions = actionLog.length;
  console.log(`churn: ${actions} actions, ${publisherStarts.length} publisher starts, ${containers.length} containers made`);
  if (!verdict.ok) {
    const keep = path.join(s.dir, 'actions.log');
    fs.writeFileSync(keep, actionLog.join('\n') + '\n');
    console.log(`churn: actions in ${keep}; publisher log ${s.procs.publisher?.logPath}`);
    process.env.LOGJET_KEEP_TEST_DIRS = '1';
    s.dumpLogs();
  }
  const r = await docker(['ps', '-aq', '--filter', `label=${label}`]);
  const ids = r.stdout.split('\n').filter(Boolean);
  await s.stop().catch((e) => { console.error(e.message); verdict.ok = false; });
  if (ids.length) await docker(['rm', '-f', ...ids]);
  console.log(`churn: seed=${seed} ${verdict.ok ? 'PASS' : 'FAIL'}`);
  process.exit(verdict.ok ? 0 : 1);
}

main();
