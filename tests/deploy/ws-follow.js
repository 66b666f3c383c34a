// Follows one container through a logjet gateway (or a balancer in front of
// several) the way the UI does: subscribe with replay, and when the connection
// drops, reconnect and resume with after_seq = the last seq seen. Stops once
// the line "line <N>" arrived, then checks what a user would: line_no 1..N,
// each once, in order, and no gap frame.
//
// usage: node ws-follow.js WS_URL CONTAINER N SECONDS [STATUS_FILE]
// STATUS_FILE, when given, gets "connected <count>" after each (re)connection
// and "lines <count>" as lines arrive, for the test driving the failure.
'use strict';
const fs = require('fs');
const WebSocket = require('ws');

const [url, container, nArg, secs, statusFile] = process.argv.slice(2);
const N = Number(nArg);
const lines = [];
const gaps = [];
let connects = 0;
let lastSeq = 0;

function status(s) {
  if (statusFile) fs.writeFileSync(statusFile, s + '\n');
}

function finish() {
  const problems = [];
  let prev = 0;
  const seen = new Set();
  for (const l of lines) {
    if (seen.has(l.line_no)) problems.push(`line_no ${l.line_no} twice`);
    else if (l.line_no !== prev + 1) problems.push(`line_no ${l.line_no} after ${prev}`);
    if (l.line !== `line ${l.line_no}`) problems.push(`line_no ${l.line_no} holds "${l.line}"`);
    seen.add(l.line_no);
    prev = Math.max(prev, l.line_no);
  }
  if (gaps.length) problems.push(`${gaps.length} gap frames: ${JSON.stringify(gaps[0])}`);
  if (lines.length !== N) problems.push(`${lines.length} lines, want ${N}`);
  console.log(`ws-follow: ${lines.length} lines over ${connects} connections` +
    (problems.length ? `; problems: ${problems.slice(0, 5).join('; ')}` : '; line_no 1..N each once, in order, no gap'));
  process.exit(problems.length ? 1 : 0);
}

function connect() {
  const ws = new WebSocket(url);
  let gone = false;
  const again = () => {
    if (gone) return;
    gone = true;
    ws.terminate();
    setTimeout(connect, 200);
  };
  ws.on('open', () => {
    connects++;
    status(`connected ${connects}`);
    const sub = { op: 'subscribe', id: 'f', container };
    if (lastSeq > 0) sub.after_seq = lastSeq;
    else sub.replay = 1000;
    ws.send(JSON.stringify(sub));
  });
  ws.on('message', (data) => {
    const f = JSON.parse(data.toString());
    if (f.type === 'lines') {
      for (const l of f.lines) {
        lines.push(l);
        lastSeq = Math.max(lastSeq, l.seq);
        if (l.line === `line ${N}`) finish();
      }
      status(`connected ${connects} lines ${lines.length}`);
    } else if (f.type === 'gap') {
      gaps.push(f);
    } else if (f.type === 'error') {
      // Not registered yet, or the gateway is going away: try again.
      again();
    }
  });
  ws.on('error', again);
  ws.on('close', again);
}

setTimeout(() => {
  console.log(`ws-follow: timed out after ${secs} s`);
  finish();
}, Number(secs) * 1000);
connect();
