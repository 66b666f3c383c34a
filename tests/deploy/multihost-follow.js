// The viewer of tests/deploy/multihost.sh: one WebSocket client following a glob
// across every host, through the balancer, for the whole run, the way the UI does
// (ui/conn.js, ui/session.js): it subscribes to the glob with a replay, and whenever
// the connection drops it reconnects after a jittered exponential backoff and
// resumes the glob with after_seq = the highest seq it has received
// (docs/protocol.md: for a glob, after_seq positions every container). SIGUSR1 cuts
// its connection at once (a network drop, driven by the test's seed).
//
// It keeps every line it receives, never dropping a repeat, so that a line sent twice
// is seen. Once EXPECT_DIR/.done exists (EXPECT_DIR/<host>/<name> holds each
// container's lines as its own engine's `docker logs` gives them; every file there is
// a container whose name the glob matches, EXPECT_DIR/.absent lists "<host>/<name>"
// of containers it must not get), it waits until it has at least as many lines of
// each as Docker has (at most 45 s, and SECONDS from the start), then 3 s more for late
// repeats, and checks: per container exactly Docker's lines, each once, in Docker's
// order, line_no 1..N and seq rising; nothing of any other container; no gap frame.
// It prints its counts (lines per host, connections, drops, resumes) and exits 0 only
// when everything holds.
//
// usage: node multihost-follow.js WS_URL GLOB EXPECT_DIR SECONDS [STATUS_FILE]
// STATUS_FILE gets "connections C resumes R lines L" as things change.
'use strict';
const fs = require('fs');
const path = require('path');
const WebSocket = require('ws');

const [url, glob, expectDir, secsArg, statusFile] = process.argv.slice(2);
if (!url || !glob || !expectDir || !secsArg) {
  console.error('usage: node multihost-follow.js WS_URL GLOB EXPECT_DIR SECONDS [STATUS_FILE]');
  process.exit(2);
}
const started = Date.now();
const deadline = started + Number(secsArg) * 1000;
const got = new Map(); // "host/name" -> [{seq, line_no, line}] in arrival order
const gaps = [];
const errors = [];
let total = 0;
let lastSeq = 0;
let connections = 0;
let drops = 0; // connections that ended (by the gateway, the balancer or SIGUSR1)
let cuts = 0; // of them, cut here on SIGUSR1
let resumes = 0; // subscribes with after_seq
let events = 0;
let attempt = 0;
let ws = null;
let statusTimer = null;

// The journal, on stdout as it happens: connections, resumes, and every jump in a
// container's line_no (a line missing) with the connection it came on.
function journal(s) {
  console.log(`${new Date().toISOString()} ${s}`);
}

function status() {
  if (!statusFile || statusTimer) return;
  statusTimer = setTimeout(() => {
    statusTimer = null;
    fs.writeFileSync(statusFile, `connections ${connections} resumes ${resumes} lines ${total}\n`);
  }, 100);
}

function scheduleConnect() {
  const base = Math.min(10000, 250 * Math.pow(2, attempt));
  attempt++;
  setTimeout(connect, Math.round(base / 2 + (Math.random() * base) / 2));
}

function connect() {
  const sock = new WebSocket(url);
  let openedAt = 0;
  let ended = false;
  ws = sock;
  const end = () => {
    if (ended) return;
    ended = true;
    if (openedAt) {
      drops++;
      journal(`connection ${connections} ended, highest seq ${lastSeq}`);
    }
    // A connection that stayed up for a while resets the backoff (as ui/conn.js).
    if (openedAt && Date.now() - openedAt > 5000) attempt = 0;
    if (ws === sock) ws = null;
    sock.terminate();
    status();
    scheduleConnect();
  };
  sock.on('open', () => {
    openedAt = Date.now();
    connections++;
    const sub = { op: 'subscribe', id: 'm', container: glob };
    if (lastSeq > 0) {
      sub.after_seq = lastSeq;
      resumes++;
    } else {
      sub.replay = 1000;
    }
    journal(`connection ${connections} open: ${lastSeq > 0 ? `after_seq ${lastSeq}` : 'replay 1000'}`);
    sock.send(JSON.stringify(sub));
    status();
  });
  sock.on('message', (data) => {
    let f;
    try {
      f = JSON.parse(data.toString());
    } catch (e) {
      errors.push(`unparsable frame: ${String(data).slice(0, 80)}`);
      return;
    }
    if (f.type === 'lines') {
      for (const l of f.lines) {
        if (!got.has(l.container)) got.set(l.container, []);
        const have = got.get(l.container);
        const prev = have[have.length - 1];
        if (prev && l.line_no !== prev.line_no + 1) {
          journal(`${l.container}: line_no ${prev.line_no} (seq ${prev.seq}) then ${l.line_no} (seq ${l.seq}) ` +
            `on connection ${connections}, ${have.length} lines of it so far`);
        }
        have.push({ seq: l.seq, line_no: l.line_no, line: l.line });
        total++;
        if (l.seq > lastSeq) lastSeq = l.seq;
      }
      status();
    } else if (f.type === 'gap') {
      journal(`gap frame ${JSON.stringify(f)}`);
      gaps.push(f);
    } else if (f.type === 'event') {
      events++;
    } else if (f.type === 'error') {
      // `limit` means "try again later"; anything else is the client's fault or a bug.
      if (f.code !== 'limit') errors.push(`error frame: ${JSON.stringify(f)}`);
      end();
    }
  });
  sock.on('error', end);
  sock.on('close', end);
}

process.on('SIGUSR1', () => {
  if (ws) {
    cuts++;
    ws.terminate();
  }
});

function readExpect() {
  const want = new Map();
  for (const host of fs.readdirSync(expectDir)) {
    const dir = path.join(expectDir, host);
    if (!fs.statSync(dir).isDirectory()) continue;
    for (const name of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, name), 'utf8');
      want.set(`${host}/${name}`, text === '' ? [] : text.replace(/\n$/, '').split('\n'));
    }
  }
  const absentFile = path.join(expectDir, '.absent');
  const absent = fs.existsSync(absentFile) ? fs.readFileSync(absentFile, 'utf8').split('\n').filter(Boolean) : [];
  return { want, absent };
}

// One container: Docker's lines against what arrived.
function compare(key, want, have, problems) {
  const seen = new Map();
  let doubled = 0;
  for (const l of have) {
    seen.set(l.line, (seen.get(l.line) || 0) + 1);
    if (seen.get(l.line) === 2) doubled++;
  }
  const wantSet = new Set(want);
  const missing = want.filter((w) => !seen.has(w));
  const extra = have.filter((l) => !wantSet.has(l.line));
  let firstDiff = -1;
  for (let i = 0; i < Math.max(want.length, have.length); i++) {
    if (want[i] !== (have[i] && have[i].line)) { firstDiff = i; break; }
  }
  let lineNo = null;
  let seq = null;
  for (let i = 0; i < have.length; i++) {
    if (lineNo === null && have[i].line_no !== i + 1) lineNo = `line_no ${have[i].line_no} at position ${i + 1}`;
    if (seq === null && i > 0 && have[i].seq <= have[i - 1].seq) seq = `seq ${have[i].seq} after ${have[i - 1].seq}`;
  }
  if (firstDiff >= 0 || lineNo || seq) {
    const show = (i) => (i < have.length ? JSON.stringify(have[i]) : 'nothing');
    problems.push(`${key}: docker logs has ${want.length} lines, the client ${have.length}: ` +
      `${missing.length} missing, ${doubled} doubled, ${extra.length} not in docker logs` +
      (firstDiff >= 0 ? `; first difference at line ${firstDiff + 1}: docker "${want[firstDiff]}", client ${show(firstDiff)}` : '') +
      (missing.length ? `; first missing "${missing[0]}"` : '') +
      (lineNo ? `; ${lineNo}` : '') + (seq ? `; ${seq}` : ''));
  }
}

function finish(timedOut) {
  const { want, absent } = readExpect();
  const problems = [];
  if (timedOut) problems.push(`gave up waiting for every line (${((Date.now() - started) / 1000).toFixed(0)} s from the start, ${doneAt ? ((Date.now() - doneAt) / 1000).toFixed(0) : 0} s after docker's logs were taken)`);
  for (const [key, lines] of want) compare(key, lines, got.get(key) || [], problems);
  for (const [key, have] of got) {
    if (want.has(key)) continue;
    problems.push(`${key}: ${have.length} lines arrived for a container` +
      (absent.includes(key) ? ' the glob does not match' : ' docker does not list'));
  }
  // The comparison itself must see a line missing and a line doubled.
  for (const [key, lines] of want) {
    const have = got.get(key) || [];
    if (have.length < 5) continue;
    const seen = [];
    compare(key, lines, have.filter((_, i) => i !== 4), seen);
    compare(key, lines, [...have.slice(0, 5), have[4], ...have.slice(5)], seen);
    if (seen.length !== 2) problems.push(`the comparison missed a doctored copy of ${key}'s lines`);
    break;
  }
  if (gaps.length) problems.push(`${gaps.length} gap frames, first ${JSON.stringify(gaps[0])}`);
  problems.push(...errors.slice(0, 5));
  const perHost = new Map();
  for (const [key, have] of got) {
    const host = key.slice(0, key.indexOf('/'));
    perHost.set(host, (perHost.get(host) || 0) + have.length);
  }
  const wanted = [...want.values()].reduce((a, l) => a + l.length, 0);
  console.log(`multihost-follow: ${total} lines received (docker logs: ${wanted}) of ${got.size} containers ` +
    `(${want.size} expected, ${absent.length} not matching the glob); per host: ` +
    [...perHost].sort().map(([h, n]) => `${h} ${n}`).join(', '));
  console.log(`multihost-follow: ${connections} connections, ${drops} dropped (${cuts} cut by the test), ` +
    `${resumes} resumes with after_seq, ${events} lifecycle events, ${gaps.length} gaps, ` +
    `${((Date.now() - started) / 1000).toFixed(1)} s`);
  for (const [key, have] of [...got].sort()) console.log(`  ${key}: ${have.length} lines`);
  if (problems.length) {
    for (const p of problems) console.log(`PROBLEM ${p}`);
  } else {
    console.log('multihost-follow: every line of every matching container, once, in docker\'s order; nothing else');
  }
  process.exit(problems.length ? 1 : 0);
}

// Waits for the expectation, then for the lines, then a little longer for repeats.
let doneAt = 0;
function poll() {
  if (Date.now() > deadline) return finish(true);
  if (!fs.existsSync(path.join(expectDir, '.done'))) return setTimeout(poll, 300);
  // Docker's logs are complete by then: 45 s is plenty for the last lines, and a
  // run that lost some ends soon.
  if (!doneAt) doneAt = Date.now();
  if (Date.now() - doneAt > 45000) return finish(true);
  const { want } = readExpect();
  for (const [key, lines] of want) {
    if ((got.get(key) || []).length < lines.length) return setTimeout(poll, 300);
  }
  setTimeout(() => finish(false), 3000);
}

connect();
poll();
