// harness.mjs - starts the real servers the integration and browser tests drive:
// a nats-server with JetStream (fresh store per stack), logjet-publisher and
// logjet-gateway from the build directory, against the test Docker engine.
//
// Every stack gets a unique container-name prefix and host id, and its publisher only
// follows containers with that prefix, so stacks never see each other's containers.
// Everything a stack starts is stopped by PID in stop(); containers are removed by name.
// Nothing here fakes Docker or NATS.
import { spawn, execFile } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, headers as natsHeaders } from 'nats';
import protobuf from 'protobufjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const SOURCE_DIR = process.env.LOGJET_SOURCE_DIR || path.resolve(here, '../..');
export const BUILD_DIR = process.env.LOGJET_BUILD_DIR || path.join(SOURCE_DIR, 'build');
export const DOCKER_HOST = process.env.LOGJET_TEST_DOCKER_HOST || 'unix:///var/run/docker.sock';
export const IMAGE = process.env.LOGJET_TEST_IMAGE || 'logjet-test-busybox';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value (returned) or timeoutMs passes (throws). */
export async function waitFor(fn, timeoutMs = 10000, what = 'condition', stepMs = 50) {
  const end = Date.now() + timeoutMs;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}` + (last ? `: ${last.message}` : ''));
    }
    await sleep(stepMs);
  }
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort() {
  const srv = net.createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address();
  srv.close();
  await once(srv, 'close');
  return port;
}

async function portOpen(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

/** Runs a command; resolves {code, stdout, stderr} (never rejects on exit code). */
export function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 256 << 20, encoding: opts.encoding || 'utf8', ...opts },
      (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
  });
}

/** docker CLI against the test engine. */
export function docker(args, opts = {}) {
  return run('docker', args, { ...opts, env: { ...process.env, DOCKER_HOST, ...(opts.env || {}) } });
}

/** Encodes a host or container name as a subject token (=HH outside [A-Za-z0-9_-]). */
export function token(name) {
  let out = '';
  for (const b of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9_-]/.test(c) ? c : '=' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

let protoRoot;
/** The logjet.v1 protobuf types, loaded from proto/. */
export async function proto() {
  if (!protoRoot) {
    protoRoot = await protobuf.load(path.join(SOURCE_DIR, 'proto/logjet/v1/logjet.proto'));
  }
  return {
    LogRecord: protoRoot.lookupType('logjet.v1.LogRecord'),
    ContainerInfo: protoRoot.lookupType('logjet.v1.ContainerInfo'),
  };
}

/** Makes sure the busybox test image exists on the test engine. */
export async function ensureImage() {
  if ((await docker(['image', 'inspect', IMAGE])).code === 0) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logjet-img-'));
  fs.mkdirSync(path.join(dir, 'bin'));
  fs.copyFileSync('/bin/busybox', path.join(dir, 'bin/busybox'));
  fs.chmodSync(path.join(dir, 'bin/busybox'), 0o755);
  const list = (await run('/bin/busybox', ['--list'])).stdout.split('\n').filter(Boolean);
  for (const a of list) if (a !== 'busybox') fs.symlinkSync('busybox', path.join(dir, 'bin', a));
  const r = await run('sh', ['-c',
    `tar -C '${dir}' -c . | docker import --change 'ENV PATH=/bin' - ${IMAGE}`],
  { env: { ...process.env, DOCKER_HOST } });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.code !== 0) throw new Error(`cannot import ${IMAGE}: ${r.stderr}`);
}

/** A child process with its output in a log file; stopped by PID. */
class Proc {
  constructor(name, cmd, args, logPath, env) {
    this.name = name;
    this.logPath = logPath;
    const fd = fs.openSync(logPath, 'a');
    this.child = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env, ...env } });
    fs.closeSync(fd);
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({ code, signal }));
    this.exitInfo = null;
    this.exited.then((i) => { this.exitInfo = i; });
  }

  get pid() { return this.child.pid; }
  get running() { return this.exitInfo === null; }

  async stop(signal = 'SIGTERM', graceMs = 10000) {
    if (!this.running) return this.exitInfo;
    this.child.kill(signal);
    const t = setTimeout(() => { if (this.running) this.child.kill('SIGKILL'); }, graceMs);
    const info = await this.exited;
    clearTimeout(t);
    return info;
  }

  tail(n = 30) {
    try {
      return fs.readFileSync(this.logPath, 'utf8').split('\n').slice(-n).join('\n');
    } catch {
      return '';
    }
  }
}

async function httpOk(url) {
  try {
    const r = await fetch(url);
    return r.status === 200;
  } catch {
    return false;
  }
}

/** GET path from the test engine's API; resolves the body as a Buffer. */
export function engineGet(path) {
  return new Promise((resolve, reject) => {
    const req = http.get({ socketPath: DOCKER_HOST.replace(/^unix:\/\//, ''), path: `/v1.41${path}` }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(chunks))
        : reject(new Error(`engine GET ${path}: HTTP ${res.statusCode} ${Buffer.concat(chunks)}`))));
    });
    req.on('error', reject);
  });
}

export class Stack {
  /**
   * Starts nats-server and, when asked, the publisher and the gateway.
   * opts: { publisher: bool, gateway: bool, publisherArgs: [], gatewayArgs: [], dockerHost,
   *         replayDepth: n, env: {},
   *         natsConfig: (stack) => text of a nats-server config file (the flags for
   *           address and ports still win; it must set store_dir, nats-server refuses
   *           -sd beside it), natsEnv: {} for nats-server (the config's $VARS),
   *         natsUrl: (port) => the URL the daemons get (default nats://127.0.0.1:port),
   *         natsClient: extra nats.js connect options for the stack's own connection,
   *         publisherEnv: {}, gatewayEnv: {} (on top of env, for one daemon) }
   */
  static async start(opts = {}) {
    const s = new Stack(opts);
    try {
      await ensureImage();
      await s.startNats();
      if (opts.publisher) await s.startPublisher();
      if (opts.gateway) await s.startGateway();
    } catch (e) {
      s.dumpLogs();
      await s.stop();
      throw e;
    }
    return s;
  }

  constructor(opts) {
    this.opts = opts;
    const id = Math.random().toString(36).slice(2, 8);
    this.prefix = `ljt${id}-`;
    this.hostId = opts.hostId || `h${id}`;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logjet-stack-'));
    this.storeDir = path.join(this.dir, 'jetstream');
    this.procs = {};
    this.ports = {};
    this._nc = null;
  }

  get natsUrl() {
    return this.opts.natsUrl ? this.opts.natsUrl(this.ports.nats) : `nats://127.0.0.1:${this.ports.nats}`;
  }
  get gatewayUrl() { return `http://127.0.0.1:${this.ports.gateway}`; }
  get wsUrl() { return `ws://127.0.0.1:${this.ports.gateway}/ws`; }
  get publisherHttp() { return `http://127.0.0.1:${this.ports.publisher}`; }
  get monitorUrl() { return `http://127.0.0.1:${this.ports.monitor}`; }

  /** The "<host>/<name>" string a browser subscribes with. */
  ref(name) { return `${this.hostId}/${name}`; }
  subject(name, prefix = 'logs') { return `${prefix}.${token(this.hostId)}.${token(name)}`; }

  async startNats() {
    this.ports.nats ??= await freePort();
    this.ports.monitor ??= await freePort();
    const args = ['-js', '-a', '127.0.0.1', '-p', String(this.ports.nats), '-m', String(this.ports.monitor),
      '-sd', this.storeDir];
    if (this.opts.natsConfig) {
      const conf = path.join(this.dir, 'nats.conf');
      fs.writeFileSync(conf, this.opts.natsConfig(this));
      args.splice(args.indexOf('-sd'), 2);
      args.unshift('-c', conf);
    }
    this.procs.nats = new Proc('nats-server', 'nats-server', args, path.join(this.dir, 'nats.log'),
      this.opts.natsEnv);
    await waitFor(() => httpOk(`${this.monitorUrl}/healthz?js-enabled-only=true`), 15000, 'nats-server');
  }

  async stopNats(signal = 'SIGTERM') {
    if (this._nc) {
      const nc = this._nc;
      this._nc = null;
      await nc.close().catch(() => {});
    }
    await this.procs.nats?.stop(signal);
  }

  /**
   * Starts build/<name>/logjet-<name> and waits for its /healthz to answer 200, or with
   * healthy: false only for it to answer at all (fails if it exits).
   */
  async startDaemon(name, args, baseUrl, { healthy = true } = {}) {
    const bin = name.replace(/-.*/, '');    // "publisher-<host>": another publisher
    const p = new Proc(name, path.join(BUILD_DIR, `${bin}/logjet-${bin}`), args,
      path.join(this.dir, `${name}.log`), { ...this.opts.env, ...this.opts[`${name}Env`] });
    this.procs[name] = p;
    await waitFor(async () => {
      if (!p.running) throw new Error(`${name} exited:\n${p.tail()}`);
      if (healthy) return httpOk(`${baseUrl}/healthz`);
      return fetch(`${baseUrl}/healthz`).then(() => true, () => false);
    }, 20000, `${name} /healthz`);
  }

  async startPublisher(extra = [], opts = {}) {
    this.ports.publisher ??= await freePort();
    const args = ['--nats-url', this.natsUrl, '--docker-host', this.opts.dockerHost || DOCKER_HOST, '--host-id', this.hostId,
      '--http', `127.0.0.1:${this.ports.publisher}`, '--include', `^${this.prefix}`,
      ...(this.opts.replayDepth ? ['--replay-depth', String(this.opts.replayDepth)] : []),
      ...(this.opts.publisherArgs || []), ...extra];
    await this.startDaemon('publisher', args, this.publisherHttp, opts);
  }

  /**
   * A second publisher on the same NATS, as another Docker host would run it: its own
   * --host-id and metrics port, following containers whose names match includeRegex.
   * Stopped (and checked for sanitizer reports) by stop() like the first one.
   */
  async startExtraPublisher(hostId, includeRegex) {
    const key = `publisher-${hostId}`;
    const port = await freePort();
    const args = ['--nats-url', this.natsUrl, '--docker-host', this.opts.dockerHost || DOCKER_HOST, '--host-id', hostId,
      '--http', `127.0.0.1:${port}`, '--include', includeRegex,
      ...(this.opts.replayDepth ? ['--replay-depth', String(this.opts.replayDepth)] : [])];
    this.extraDaemons = [...(this.extraDaemons || []), key];
    await this.startDaemon(key, args, `http://127.0.0.1:${port}`);
    this.procs[key].name = key;
  }

  async killPublisher(signal = 'SIGKILL') {
    return this.procs.publisher?.stop(signal);
  }

  async startGateway(extra = [], opts = {}) {
    this.ports.gateway ??= await freePort();
    const args = ['--nats-url', this.natsUrl, '--listen', `127.0.0.1:${this.ports.gateway}`,
      '--ui-dir', path.join(SOURCE_DIR, 'ui'), ...(this.opts.gatewayArgs || []), ...extra];
    await this.startDaemon('gateway', args, this.gatewayUrl, opts);
  }

  async stopGateway(signal = 'SIGTERM') {
    return this.procs.gateway?.stop(signal);
  }

  /**
   * Starts a busybox container named prefix+name running `sh -c script`.
   * opts: { tty, labels: {k: v}, logDriver (default json-file), args: [] extra docker run
   * args }. Returns {id, name}.
   */
  async run(name, script, opts = {}) {
    const full = this.prefix + name;
    const driver = opts.logDriver || 'json-file';
    const args = ['run', '-d', '--network', 'none', '--name', full, '--log-driver', driver,
      ...(driver === 'json-file' || driver === 'local' ? ['--log-opt', 'max-size=200m'] : [])];
    if (opts.tty) args.push('-t');
    for (const [k, v] of Object.entries(opts.labels || {})) args.push('--label', `${k}=${v}`);
    args.push(...(opts.args || []), IMAGE, 'sh', '-c', script);
    const r = await docker(args);
    if (r.code !== 0) throw new Error(`docker run ${full}: ${r.stderr}`);
    return { id: r.stdout.trim(), name: full };
  }

  /** Waits for a container to exit; returns its exit code. */
  async wait(name) {
    const r = await docker(['wait', name]);
    return Number(r.stdout.trim());
  }

  /** `docker logs` of a container as {stdout, stderr} Buffers. */
  async dockerLogs(name) {
    const r = await docker(['logs', name], { encoding: 'buffer' });
    return { stdout: r.stdout, stderr: r.stderr };
  }

  docker(args, opts) { return docker(args, opts); }

  /**
   * A container's log as the engine stores it, in the engine's order:
   * [{stream: 'STDOUT'|'STDERR', line: Buffer}], read from the Engine API and
   * demultiplexed here (8-byte frame headers; TTY containers are one raw stream).
   * Long lines split by Docker into 16 KiB pieces are joined again. With
   * `timestamps`, each line also has `ts`: Docker's RFC 3339 time of its first piece.
   */
  async engineLogs(name, { tty = false, timestamps = false } = {}) {
    const body = await engineGet(`/containers/${name}/logs?stdout=1&stderr=1${timestamps ? '&timestamps=1' : ''}`);
    const out = [];
    const partial = { 1: [], 2: [] };
    const stamp = { 1: null, 2: null };
    const push = (type, chunk) => {
      let start = 0;
      // With timestamps every log entry (a line or a piece of one) opens with "<time> ".
      const skipStamp = () => {
        if (!timestamps || start >= chunk.length) return;
        const sp = chunk.indexOf(0x20, start);
        if (sp < 0) return;
        if (!partial[type].length) stamp[type] = chunk.subarray(start, sp).toString();
        start = sp + 1;
      };
      skipStamp();
      for (let i = start; i < chunk.length; i++) {
        if (chunk[i] !== 0x0a) continue;
        let piece = chunk.subarray(start, i);
        const line = Buffer.concat([...partial[type], piece]);
        partial[type] = [];
        const rec = { stream: type === 2 ? 'STDERR' : 'STDOUT', line: tty && line.at(-1) === 0x0d ? line.subarray(0, -1) : line };
        if (timestamps) rec.ts = stamp[type];
        out.push(rec);
        start = i + 1;
        skipStamp();
        i = start - 1;
      }
      if (start < chunk.length) partial[type].push(chunk.subarray(start));
    };
    if (tty) {
      push(1, body);
    } else {
      for (let o = 0; o + 8 <= body.length;) {
        const type = body[o], len = body.readUInt32BE(o + 4);
        push(type === 2 ? 2 : 1, body.subarray(o + 8, o + 8 + len));
        o += 8 + len;
      }
    }
    for (const t of [1, 2]) {
      if (!partial[t].length) continue;
      const rec = { stream: t === 2 ? 'STDERR' : 'STDOUT', line: Buffer.concat(partial[t]) };
      if (timestamps) rec.ts = stamp[t];
      out.push(rec);
    }
    return out;
  }

  /** A nats.js connection to this stack's server (reconnecting; closed in stop()). */
  async nc() {
    if (!this._nc) {
      this._nc = await connect({ servers: `127.0.0.1:${this.ports.nats}`, maxReconnectAttempts: -1,
        reconnectTimeWait: 200, ...(this.opts.natsClient || {}) });
    }
    return this._nc;
  }

  /**
   * Every stored LogRecord of a container (decoded, with .seq = stream sequence and
   * .msgId), in stream order, read with an ephemeral ordered consumer.
   */
  async records(name, stream = 'LOGS') {
    const nc = await this.nc();
    const jsm = await nc.jetstreamManager();
    const subject = this.subject(name);
    const info = await jsm.streams.info(stream, { subjects_filter: subject });
    if (!info.state.subjects?.[subject]) return [];
    const { LogRecord } = await proto();
    const out = [];
    // An ordered (ephemeral, flow-controlled) consumer on the one subject, read until
    // it reports nothing pending.
    const consumer = await nc.jetstream().consumers.get(stream, { filterSubjects: subject });
    for (let done = false; !done;) {
      const iter = await consumer.fetch({ max_messages: 10000, expires: 2000 });
      let got = 0;
      for await (const m of iter) {
        got++;
        // ts_unix_nano stays a string: nanoseconds do not fit a double.
        const rec = LogRecord.toObject(LogRecord.decode(m.data),
          { longs: String, bytes: Buffer, defaults: true, enums: String });
        rec.lineNo = Number(rec.lineNo);
        rec.line = Buffer.from(rec.line);
        rec.seq = m.seq;
        rec.msgId = m.headers?.get('Nats-Msg-Id');
        out.push(rec);
        if (m.info.pending === 0) { done = true; break; }
      }
      if (got === 0) done = true;
    }
    await consumer.delete().catch(() => {});
    return out;
  }

  /** Prometheus text from a daemon's /metrics, parsed into {name{labels}: value}. */
  async metrics(which = 'publisher') {
    const base = which === 'publisher' ? this.publisherHttp : this.gatewayUrl;
    const text = await (await fetch(`${base}/metrics`)).text();
    const out = {};
    for (const line of text.split('\n')) {
      if (!line || line.startsWith('#')) continue;
      const i = line.lastIndexOf(' ');
      out[line.slice(0, i)] = Number(line.slice(i + 1));
    }
    return out;
  }

  dumpLogs() {
    for (const p of Object.values(this.procs)) {
      if (p) console.error(`--- ${p.name} (${p.logPath}) ---\n${p.tail(40)}`);
    }
  }

  /**
   * Stops everything this stack started and removes its containers. Throws when a
   * daemon's log holds a sanitizer report (the asan test pass builds them with
   * AddressSanitizer and UndefinedBehaviorSanitizer), so memory errors fail the test.
   */
  async stop() {
    if (this._nc) await this._nc.close().catch(() => {});
    this._nc = null;
    const daemons = ['gateway', 'publisher', ...(this.extraDaemons || [])];
    for (const name of [...daemons, 'nats']) {
      await this.procs[name]?.stop('SIGTERM');
    }
    const reports = [];
    for (const name of daemons) {
      const p = this.procs[name];
      if (!p) continue;
      let log = '';
      try { log = fs.readFileSync(p.logPath, 'utf8'); } catch { /* never started */ }
      if (/ERROR: (Address|Leak)Sanitizer|runtime error: /.test(log)) {
        reports.push(`--- ${name} (${p.logPath}) ---\n${log.slice(log.search(/ERROR: |runtime error: /), 20000)}`);
      }
    }
    const r = await docker(['ps', '-aq', '--filter', `name=^${this.prefix}`]);
    const ids = r.stdout.split('\n').filter(Boolean);
    if (ids.length) await docker(['rm', '-f', ...ids]);
    if (reports.length) throw new Error(`sanitizer reports:\n${reports.join('\n')}`);
    if (!process.env.LOGJET_KEEP_TEST_DIRS) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export { natsHeaders };
