// Connects to a logjet gateway's /ws, subscribes to one container with replay
// and waits for a "lines" frame holding a line that contains TEXT.
// Speaks version 1 of the browser protocol (see the design contract).
//
// usage: node ws-expect.js WS_URL CONTAINER TEXT [SECONDS]
//   e.g. node ws-expect.js ws://127.0.0.1:8080/ws myhost/web-1 "hello" 30
// Exit 0 when the line arrived, 1 on timeout or a protocol error.
'use strict';
const WebSocket = require('ws');

const [url, container, text, secs = '30'] = process.argv.slice(2);
if (!url || !container || !text) {
  console.error('usage: node ws-expect.js WS_URL CONTAINER TEXT [SECONDS]');
  process.exit(2);
}
const deadline = Date.now() + Number(secs) * 1000;
let attempt = 0;
// What the client saw, printed when the line never comes: a timeout then says
// whether the replay was empty, ended early, or reported a gap.
const seen = { frames: {}, lastSeq: 0, lastLine: null, replayed: null, gaps: [], errors: [] };

function finish(code, msg) {
  console.log(`ws-expect: ${msg}`);
  if (code !== 0) console.log(`ws-expect: saw ${JSON.stringify(seen)}`);
  process.exit(code);
}

function connect() {
  attempt++;
  const ws = new WebSocket(url);
  let hello = false;
  let gone = false;
  const retry = (why) => {
    if (gone) return;
    gone = true;
    ws.terminate();
    if (Date.now() > deadline) finish(1, `timed out (${why})`);
    setTimeout(connect, 1000);
  };
  ws.on('open', () => {
    ws.send(JSON.stringify({ op: 'subscribe', id: 'a', container, replay: 10 }));
  });
  ws.on('message', (data) => {
    let f;
    try {
      f = JSON.parse(data.toString());
    } catch (e) {
      finish(1, `not a JSON frame: ${data.toString().slice(0, 200)}`);
    }
    seen.frames[f.type] = (seen.frames[f.type] || 0) + 1;
    if (f.type === 'replayed') seen.replayed = f.seq;
    if (f.type === 'gap') seen.gaps.push(f);
    if (f.type === 'error') seen.errors.push(`${f.code}: ${f.message}`);
    if (f.type === 'lines' && Array.isArray(f.lines) && f.lines.length) {
      const l = f.lines[f.lines.length - 1];
      seen.lastSeq = l.seq;
      seen.lastLine = `${l.line_no} ${l.line}`;
    }
    if (f.type === 'hello') {
      hello = true;
      if (f.version !== 1) finish(1, `hello with version ${f.version}, want 1`);
    } else if (f.type === 'lines') {
      if (!Array.isArray(f.lines)) finish(1, 'lines frame without a lines array');
      for (const l of f.lines) {
        if (typeof l.line === 'string' && l.line.includes(text)) {
          if (l.container !== container) finish(1, `line arrived for ${l.container}, want ${container}`);
          finish(0, `got seq=${l.seq} line_no=${l.line_no} stream=${l.stream} "${l.line}" (hello=${hello}, attempt ${attempt})`);
        }
      }
    } else if (f.type === 'error') {
      // The container may not be registered yet: try again until the deadline.
      retry(`error ${f.code}: ${f.message}`);
    }
  });
  ws.on('error', (e) => retry(e.message));
  ws.on('close', () => retry('connection closed'));
}

setTimeout(() => finish(1, `no line containing "${text}" within ${secs} s`), Number(secs) * 1000);
connect();
