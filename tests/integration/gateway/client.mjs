// client.mjs - a small browser-protocol client for the gateway tests, on node's `ws`.
// Keeps every message received, in order, and lets a test wait for conditions on them.
import WebSocket from 'ws';
import { waitFor, proto } from '../../lib/harness.mjs';

export class Client {
  /** Opens url; resolves once open (rejects when refused). opts go to `ws`. */
  static async open(url, opts = {}) {
    const c = new Client(url, opts);
    await c.opened;
    return c;
  }

  constructor(url, opts = {}) {
    this.msgs = [];
    this.closed = null;
    this.ws = new WebSocket(url, { perMessageDeflate: false, ...opts });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (req, res) => reject(new Error(`refused: HTTP ${res.statusCode}`)));
    });
    this.ws.on('error', () => {});
    this.ws.on('message', (d) => this.msgs.push(JSON.parse(d.toString())));
    this.ws.on('close', (code, reason) => { this.closed = { code, reason: reason.toString() }; });
  }

  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }

  subscribe(id, container, extra = {}) { this.send({ op: 'subscribe', id, container, ...extra }); }

  /** Every line object received for subscription id, in order. */
  lines(id) {
    return this.msgs.filter((m) => m.type === 'lines' && m.id === id).flatMap((m) => m.lines);
  }

  of(type, id) { return this.msgs.filter((m) => m.type === type && (id === undefined || m.id === id)); }

  async until(fn, timeoutMs = 20000, what = 'client condition') {
    return waitFor(() => fn(this), timeoutMs, what, 20);
  }

  /** Waits until subscription id has n lines. */
  async untilLines(id, n, timeoutMs = 30000) {
    return this.until(() => this.lines(id).length >= n, timeoutMs, `${n} lines on ${id} (have ${this.lines(id).length})`);
  }

  async close() {
    if (this.closed) return;
    const done = new Promise((r) => this.ws.once('close', r));
    this.ws.close();
    await done;
  }
}

/** Asserts-free check: line_no values form first..last with no hole and no repeat. */
export function contiguous(lines, first) {
  for (let i = 0; i < lines.length; i++) if (lines[i].line_no !== first + i) return { at: i, got: lines[i].line_no, want: first + i };
  return null;
}

/** A shell loop printing "line N" for N in from..to (busybox sh). */
export function numbered(from, to, prefix = 'line') {
  return `i=${from}; while [ $i -le ${to} ]; do echo "${prefix} $i"; i=$((i+1)); done`;
}

/** Script that blocks until openGate(s, name, n) (the test image has no /tmp). */
export function gate(n) {
  return `while [ ! -f /go${n} ]; do sleep 0.05; done`;
}

export async function openGate(s, name, n) {
  const r = await s.docker(['exec', name, 'touch', `/go${n}`]);
  if (r.code !== 0) throw new Error(`cannot open gate ${n} of ${name}: ${r.stderr}`);
}

/** The newest stored record of a container ({lineNo, seq, ...}) or null. */
export async function newest(s, name) {
  const jsm = await (await s.nc()).jetstreamManager();
  const m = await jsm.streams.getMessage('LOGS', { last_by_subj: s.subject(name) }).catch(() => null);
  if (!m) return null;
  const { LogRecord } = await proto();
  const rec = LogRecord.toObject(LogRecord.decode(m.data), { longs: Number, defaults: true });
  rec.seq = m.seq;
  return rec;
}

/** Waits until the stored newest line_no of container reaches n; returns that record. */
export async function stored(s, name, n, timeoutMs = 60000) {
  return waitFor(async () => {
    const r = await newest(s, name);
    return r && r.lineNo >= n ? r : null;
  }, timeoutMs, `${name} stored up to line_no ${n}`, 100);
}
