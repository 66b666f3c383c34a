// checker.mjs - the churn suite's independent judge: what Docker holds against what
// JetStream holds, container by container.
//
// It shares no code with the publisher or with tests/lib/harness.mjs: it reads the
// Engine API itself (its own HTTP over the unix socket, its own frame and timestamp
// parser), JetStream and the registry bucket with the nats package, and decodes the
// payloads with protobufjs from the public .proto. What it expects is defined from
// Docker's own data only (each container's log with timestamps, its event stream, its
// state), never from what the publisher reports about itself.
//
// Per container, per stream, byte-exact (a line longer than --max-line-bytes is
// expected cut there and flagged truncated):
//   expected  lines in the engine's log (for a removed container: its log read just
//             before removal, see Snapshot below)
//   stored    records in JetStream carrying the container's id
//   lost      expected lines with no record (a hole)
//   gone      lines of a removed container after its last stored line, per stream:
//             Docker deleted the log with the container before they could be read
//             (README, known limits: removed before seen). Reported, not a failure.
//   doubled   records beyond the first of one line
//   extra     records of lines Docker does not have at all
// and per subject: line_no is 1..N, each once. Runs are told apart by the container's
// die events (a line belongs to the run whose window holds its timestamp), and
// reported per run when something is wrong.
//
// Registry (LOGJET_CONTAINERS, key <host>.<container>, =HH escape): for every name a
// container of this run held last, the entry names that container and its state:
// Docker's state for one that exists under that name, "removed" for one removed or
// renamed away. Names held only by containers that never had a line stored and were
// removed before anything could have seen them are reported unchecked.
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from 'nats';
import protobuf from 'protobufjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PROTO = path.resolve(here, '../../proto/logjet/v1/logjet.proto');
const API = '/v1.41';

/** The =HH escape of README "Subjects": every byte outside [A-Za-z0-9_-]. */
export function escapeToken(name) {
  let out = '';
  for (const b of Buffer.from(name, 'utf8')) {
    const ok = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ||
      b === 0x5f || b === 0x2d;
    out += ok ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

// ---- the Engine API ----------------------------------------------------------------------

export class Engine {
  constructor(dockerHost) {
    this.socket = dockerHost.replace(/^unix:\/\//, '');
  }

  request(p, { method = 'GET' } = {}) {
    return new Promise((resolve, reject) => {
      const req = http.request({ socketPath: this.socket, path: API + p, method }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end();
    });
  }

  async inspect(id) {
    const r = await this.request(`/containers/${id}/json`);
    if (r.status === 404) return null;
    if (r.status !== 200) throw new Error(`inspect ${id}: HTTP ${r.status} ${r.body}`);
    return JSON.parse(r.body);
  }

  /** Container ids with a label, all states. */
  async list(label) {
    const f = encodeURIComponent(JSON.stringify({ label: [label] }));
    const r = await this.request(`/containers/json?all=1&filters=${f}`);
    if (r.status !== 200) throw new Error(`list: HTTP ${r.status}`);
    return JSON.parse(r.body).map((c) => c.Id);
  }

  /**
   * The whole log of a container as the engine stores it, per stream, with Docker's
   * timestamps: { tty, lines: [{stream: 0|1, ts: BigInt ns, line: Buffer}] } in the
   * engine's order. Messages Docker split (16 KiB) are joined; TTY '\r\n' endings
   * lose the '\r'. TTY containers must not print lines over 16 KiB (the raw stream
   * cannot tell a continuation stamp from text); the suite never makes them.
   */
  async logs(id, tty) {
    const r = await this.request(`/containers/${id}/logs?stdout=1&stderr=1&timestamps=1`);
    if (r.status !== 200) throw new Error(`logs ${id}: HTTP ${r.status} ${r.body}`);
    return { tty, lines: parseLogs(r.body, tty) };
  }
}

const STAMP = 30; // "2026-12-01T19:29:28.123456789Z", Docker's fixed-width RFC 3339

export function parseStamp(s) {
  const m = /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{9})Z$/.exec(s);
  if (!m) throw new Error(`not a Docker timestamp: ${JSON.stringify(s)}`);
  const sec = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000;
  return BigInt(sec) * 1000000000n + BigInt(m[7]);
}

/** Engine log bytes (timestamps=1) -> lines. Exported for the checker's own unit test. */
export function parseLogs(body, tty) {
  const out = [];
  const open = [null, null]; // per stream: {ts, parts[]} of an unterminated line
  const message = (stream, payload) => {
    if (payload.length < STAMP + 1 || payload[STAMP] !== 0x20) {
      throw new Error(`message without a stamp: ${payload.subarray(0, 40).toString('latin1')}`);
    }
    const ts = parseStamp(payload.subarray(0, STAMP).toString('latin1'));
    let text = payload.subarray(STAMP + 1);
    const o = open[stream] ?? (open[stream] = { ts, parts: [] });
    if (text.length && text[text.length - 1] === 0x0a) {
      text = text.subarray(0, -1);
      o.parts.push(text);
      let line = Buffer.concat(o.parts);
      if (tty && line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, -1);
      out.push({ stream, ts: o.ts, line });
      open[stream] = null;
    } else {
      o.parts.push(text);
    }
  };
  if (tty) {
    // No frames: messages are "stamp text\n" back to back (each at most 16 KiB).
    let o = 0;
    while (o < body.length) {
      const nl = body.indexOf(0x0a, o + STAMP + 1);
      const end = nl < 0 ? body.length : nl + 1;
      message(0, body.subarray(o, end));
      o = end;
    }
  } else {
    for (let o = 0; o + 8 <= body.length;) {
      const type = body[o], len = body.readUInt32BE(o + 4);
      if (type !== 1 && type !== 2) throw new Error(`frame type ${type} at ${o}`);
      message(type - 1, body.subarray(o + 8, o + 8 + len));
      o += 8 + len;
    }
  }
  for (const s of [0, 1]) {
    if (open[s]) out.push({ stream: s, ts: open[s].ts, line: Buffer.concat(open[s].parts) });
  }
  return out;
}

/** Container events of the run, recorded live from the engine's /events stream (its
 *  ring of past events holds only 256, far fewer than a run makes). */
export class EventLog {
  constructor(engine, label) {
    this.engine = engine;
    this.label = label;
    this.events = [];
  }

  start() {
    const f = encodeURIComponent(JSON.stringify({ type: ['container'], label: [this.label] }));
    return new Promise((resolve, reject) => {
      this.req = http.get({ socketPath: this.engine.socket, path: `${API}/events?filters=${f}` }, (res) => {
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          buf += d;
          for (let nl; (nl = buf.indexOf('\n')) >= 0;) {
            const line = buf.slice(0, nl);
            buf = buf.slice(nl + 1);
            if (!line.trim()) continue;
            const e = JSON.parse(line);
            this.events.push({ action: e.Action, id: e.Actor?.ID, name: e.Actor?.Attributes?.name,
              oldName: e.Actor?.Attributes?.oldName?.replace(/^\//, ''), ns: BigInt(e.timeNano) });
          }
        });
        res.on('error', () => {});
        resolve();
      });
      this.req.on('error', (e) => (this.req.destroyed ? null : reject(e)));
    });
  }

  stop() { this.req?.destroy(); }
  of(id) { return this.events.filter((e) => e.id === id); }
}

// ---- JetStream ----------------------------------------------------------------------------

let types;
async function protoTypes() {
  if (!types) {
    const root = await protobuf.load(PROTO);
    types = { LogRecord: root.lookupType('logjet.v1.LogRecord'),
      ContainerInfo: root.lookupType('logjet.v1.ContainerInfo') };
  }
  return types;
}

/** Every record of host in the stream, in stream order. */
export async function readStream(nc, stream, host) {
  const { LogRecord } = await protoTypes();
  const filter = `logs.${escapeToken(host)}.>`;
  const jsm = await nc.jetstreamManager();
  const info = await jsm.streams.info(stream);
  const out = [];
  if (info.state.messages === 0) return out;
  const c = await nc.jetstream().consumers.get(stream, { filterSubjects: filter });
  for (let more = true; more;) {
    const it = await c.fetch({ max_messages: 5000, expires: 3000 });
    let got = 0;
    for await (const m of it) {
      got++;
      const r = LogRecord.toObject(LogRecord.decode(m.data), { longs: String, bytes: Buffer, defaults: true, enums: Number });
      out.push({ seq: m.seq, subject: m.subject, id: r.containerId, name: r.container, stream: r.stream,
        ts: BigInt(r.tsUnixNano), line: Buffer.from(r.line), lineNo: Number(r.lineNo), truncated: r.truncated });
      if (m.info.pending === 0) { more = false; break; }
    }
    if (got === 0) more = false;
  }
  await c.delete?.().catch(() => {});
  return out;
}

/** Registry entries of host: key -> {id, name, state, exitCode, finishedNs}. */
export async function readRegistry(nc, host) {
  const { ContainerInfo } = await protoTypes();
  const kv = await nc.jetstream().views.kv('LOGJET_CONTAINERS');
  const out = new Map();
  const keys = [];
  for await (const k of await kv.keys(`${escapeToken(host)}.>`)) keys.push(k);
  for (const k of keys) {
    const e = await kv.get(k);
    if (!e || e.operation !== 'PUT') continue;
    const i = ContainerInfo.toObject(ContainerInfo.decode(e.value), { defaults: true });
    out.set(k, { id: i.id, name: i.name, state: i.state, exitCode: i.exitCode,
      finishedNs: String(i.finishedAtUnixNano ?? 0) });
  }
  return out;
}

// ---- the comparison -----------------------------------------------------------------------

const keyOf = (ts, line) => `${ts}\u0000${line.toString('latin1')}`;

/**
 * Compares one container. c: { id, tty, removed, log (Engine.logs result), events }.
 * recs: its records (any subject), stream order.
 * Returns the per-container verdict.
 */
export function compareContainer(c, recs, maxLineBytes) {
  const v = { id: c.id, expected: 0, stored: recs.length, lost: 0, gone: 0, doubled: 0,
    extra: 0, badTruncated: 0, outOfOrder: 0, runs: [], problems: [] };
  // Run windows: a line belongs to the run whose start..die window holds it; the border
  // between two runs is halfway between a die and the next start.
  const starts = c.events.filter((e) => e.action === 'start').map((e) => e.ns);
  const dies = c.events.filter((e) => e.action === 'die').map((e) => e.ns);
  const borders = [];
  for (let i = 1; i < starts.length; i++) {
    const d = dies.filter((x) => x <= starts[i]).at(-1) ?? starts[i];
    borders.push((d + starts[i]) / 2n);
  }
  const runOf = (ts) => { let r = 0; while (r < borders.length && ts > borders[r]) r++; return r; };
  const runs = Array.from({ length: borders.length + 1 }, (_, i) => ({ run: i + 1, expected: 0, stored: 0, lost: 0, gone: 0, doubled: 0 }));

  for (const stream of [0, 1]) {
    const exp = c.log.lines.filter((l) => l.stream === stream).map((l) => ({
      ts: l.ts, want: l.line.length > maxLineBytes ? l.line.subarray(0, maxLineBytes) : l.line,
      truncated: l.line.length > maxLineBytes })).map((e) => ({ ...e, key: keyOf(e.ts, e.want) }));
    const got = recs.filter((r) => r.stream === stream);
    const expIndex = new Map();
    exp.forEach((e, i) => { const a = expIndex.get(e.key) ?? []; a.push(i); expIndex.set(e.key, a); });
    const hits = new Array(exp.length).fill(0);
    const firstSubject = new Array(exp.length).fill(null);
    let lastPos = -1;
    for (const r of got) {
      const idx = expIndex.get(keyOf(r.ts, r.line));
      if (!idx) { v.extra++; v.problems.push(`extra ${streamName(stream)} record seq ${r.seq}: ts ${r.ts} ${preview(r.line)}`); continue; }
      // Identical (ts, bytes) lines are matched to the first copy not yet stored.
      const i = idx.find((k) => hits[k] === 0) ?? idx[0];
      hits[i]++;
      const run = runs[runOf(exp[i].ts)];
      if (hits[i] === 1) {
        firstSubject[i] = r.subject;
        run.stored++;
        if (i < lastPos) v.outOfOrder++;
        lastPos = Math.max(lastPos, i);
        if (r.truncated !== exp[i].truncated) { v.badTruncated++; v.problems.push(`seq ${r.seq}: truncated=${r.truncated}, expected ${exp[i].truncated}`); }
      } else {
        v.doubled++; run.doubled++;
        if (v.problems.length < 40) v.problems.push(`doubled ${streamName(stream)} line ${i + 1} (ts ${exp[i].ts}, run ${run.run}) seq ${r.seq} ${r.subject} ${preview(exp[i].want)}`);
      }
    }
    // Lines never stored: a hole, unless the container was removed and every line of
    // this stream after it is missing too (Docker deleted them with the container).
    let lastHit = -1;
    hits.forEach((h, i) => { if (h) lastHit = i; });
    exp.forEach((e, i) => {
      const run = runs[runOf(e.ts)];
      run.expected++;
      v.expected++;
      if (hits[i]) return;
      if (c.removed && i > lastHit) { v.gone++; run.gone++; return; }
      v.lost++; run.lost++;
      if (v.problems.length < 40) v.problems.push(`lost ${streamName(stream)} line ${i + 1} of ${exp.length} (ts ${e.ts}, run ${run.run}) ${preview(e.want)}`);
    });
  }
  v.runs = runs;
  return v;
}

/** line_no per subject: 1..N, each once. Returns problems. */
// Per subject, line_no must be from, from + 1, ... (from: 1, or where a backfill of a
// container whose older lines were left out begins).
export function checkLineNos(recs, { from = 1 } = {}) {
  const bySubject = new Map();
  for (const r of recs) { const a = bySubject.get(r.subject) ?? []; a.push(r); bySubject.set(r.subject, a); }
  const problems = [];
  for (const [subject, rs] of bySubject) {
    const sorted = [...rs].sort((a, b) => a.lineNo - b.lineNo);
    for (let i = 0; i < sorted.length; i++) {
      if (sorted[i].lineNo !== i + from) {
        // Which containers wrote the subject, and from which line_no each began.
        const by = new Map();
        for (const r of rs) if (!by.has(r.id)) by.set(r.id, `${r.id.slice(0, 12)} from line_no ${r.lineNo} (seq ${r.seq})`);
        problems.push(`${subject}: line_no ${sorted[i].lineNo} at position ${i + 1} of ${sorted.length}` +
          (i && sorted[i].lineNo === sorted[i - 1].lineNo ? ' (twice)' : ' (a gap before it)') +
          `; written by ${[...by.values()].join(', ')}`);
        break;
      }
    }
  }
  return problems;
}

const streamName = (s) => (s === 1 ? 'stderr' : 'stdout');
const preview = (b) => JSON.stringify(b.subarray(0, 48).toString('latin1')) + (b.length > 48 ? `...(${b.length} bytes)` : '');

/**
 * The whole verdict. ctx: { engine, natsUrl, stream, host, label, maxLineBytes,
 * events: EventLog, snapshots: Map id -> {log, tty} (containers removed during the run),
 * seed }.
 * Returns { ok, lines: [report lines], totals }.
 */
export async function check(ctx) {
  const nc = await connect({ servers: ctx.natsUrl, maxReconnectAttempts: 20, reconnectTimeWait: 250 });
  try {
    const recs = await readStream(nc, ctx.stream, ctx.host);
    const registry = await readRegistry(nc, ctx.host);
    return await judge(ctx, recs, registry);
  } finally {
    await nc.close();
  }
}

async function judge(ctx, recs, registry) {
  const out = [];
  const totals = { containers: 0, expected: 0, stored: 0, lost: 0, gone: 0, doubled: 0, extra: 0, failures: 0 };
  const recsById = new Map();
  for (const r of recs) { const a = recsById.get(r.id) ?? []; a.push(r); recsById.set(r.id, a); }
  const existing = new Set(await ctx.engine.list(ctx.label));
  const ids = new Set([...existing, ...ctx.snapshots.keys(), ...ctx.events.events.map((e) => e.id)]);
  const names = new Map(); // name -> [{id, from ns, to ns|null}] (who held it when)
  const verdicts = [];
  for (const id of ids) {
    const ev = ctx.events.of(id);
    let info = existing.has(id) ? await ctx.engine.inspect(id) : null;
    const snap = ctx.snapshots.get(id);
    if (!info && !snap) {
      if (recsById.has(id)) out.push(`FAIL ${id.slice(0, 12)}: records stored but no log of it was kept`);
      continue; // created and removed by docker run --rm or a failed create: nothing to compare
    }
    const tty = info ? info.Config.Tty : snap.tty;
    const log = info ? await ctx.engine.logs(id, tty) : snap.log;
    // Names it held, from its events (create gives the first, rename the next ones).
    const held = [];
    for (const e of ev) {
      if (e.action === 'create') held.push({ name: e.name, from: e.ns });
      if (e.action === 'rename') { if (held.length) held.at(-1).to = e.ns; held.push({ name: e.name, from: e.ns }); }
    }
    if (!held.length) held.push({ name: info ? info.Name.replace(/^\//, '') : snap.name, from: 0n });
    for (const h of held) { const a = names.get(h.name) ?? []; a.push({ id, from: h.from }); names.set(h.name, a); }
    const c = { id, tty, removed: !info, log, events: ev };
    const v = compareContainer(c, recsById.get(id) ?? [], ctx.maxLineBytes);
    v.name = held.at(-1).name;
    v.state = info ? info.State.Status : 'removed';
    v.tty = tty;
    v.held = held;
    verdicts.push(v);
  }
  // Registry: the last holder of every name.
  const regProblems = [];
  let regChecked = 0, regUnchecked = 0;
  for (const [name, holders] of names) {
    holders.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
    const last = holders.at(-1);
    const v = verdicts.find((x) => x.id === last.id);
    if (!v) continue;
    const key = `${escapeToken(ctx.host)}.${escapeToken(name)}`;
    const stillNamed = v.state !== 'removed' && v.name === name;
    const want = stillNamed ? v.state : 'removed';
    const e = registry.get(key);
    if (!stillNamed && v.stored === 0 && !e) { regUnchecked++; continue; } // never seen: known limit
    regChecked++;
    if (!e) regProblems.push(`registry: no entry ${key} (${name}, ${last.id.slice(0, 12)}, expected ${want})`);
    else if (e.id !== last.id || e.state !== want) {
      regProblems.push(`registry: ${key} holds ${e.id.slice(0, 12)} state ${e.state}, expected ${last.id.slice(0, 12)} state ${want}`);
    }
  }
  for (const v of verdicts) {
    const bad = v.lost + v.doubled + v.extra + v.badTruncated;
    totals.containers++;
    for (const k of ['expected', 'stored', 'lost', 'gone', 'doubled', 'extra']) totals[k] += v[k];
    if (bad) totals.failures++;
    out.push(`${bad ? 'FAIL' : 'ok  '} ${v.name} id=${v.id.slice(0, 12)} ${v.tty ? 'tty' : 'std'} state=${v.state} ` +
      `runs=${v.runs.length} expected=${v.expected} stored=${v.stored} lost=${v.lost} doubled=${v.doubled}` +
      (v.gone ? ` gone-with-container=${v.gone}` : '') +
      (v.extra ? ` extra=${v.extra}` : '') + (v.badTruncated ? ` bad-truncated=${v.badTruncated}` : '') +
      (v.outOfOrder ? ` out-of-order=${v.outOfOrder}` : '') +
      (v.held.length > 1 ? ` names=${v.held.map((h) => h.name).join('>')}` : ''));
    if (bad || v.gone) {
      for (const r of v.runs) {
        if (r.lost || r.doubled || r.gone) out.push(`       run ${r.run}: expected=${r.expected} stored=${r.stored} lost=${r.lost} doubled=${r.doubled} gone=${r.gone}`);
      }
    }
    if (bad) for (const p of v.problems.slice(0, 12)) out.push(`       ${p}`);
  }
  const lineNoProblems = checkLineNos(recs);
  for (const p of lineNoProblems) out.push(`FAIL line_no ${p}`);
  for (const p of regProblems) out.push(`FAIL ${p}`);
  out.push(`registry: ${regChecked} names checked, ${regUnchecked} never seen (removed before any line was stored)`);
  const ok = totals.failures === 0 && lineNoProblems.length === 0 && regProblems.length === 0;
  out.push(`${ok ? 'PASS' : 'FAIL'} seed=${ctx.seed} containers=${totals.containers} expected=${totals.expected} ` +
    `stored=${totals.stored} lost=${totals.lost} doubled=${totals.doubled} gone-with-container=${totals.gone} ` +
    `extra=${totals.extra} line_no-problems=${lineNoProblems.length} ` +
    `registry-problems=${regProblems.length}`);
  return { ok, lines: out, totals };
}
