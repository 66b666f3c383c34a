// lib.mjs - runs the real logjet-tail from the build directory against a test stack:
// to completion (run), or in the background with its output collected (Tail.start).
// Output is kept as bytes; helpers split it into lines or parse -o json.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import { BUILD_DIR, proto, run, token, waitFor } from '../../lib/harness.mjs';

export const TAIL = path.join(BUILD_DIR, 'tail/logjet-tail');

/** Runs logjet-tail to its end; resolves {code, stdout, stderr}. */
export function tailRun(s, args, opts = {}) {
  return run(TAIL, ['--nats-url', s.natsUrl, ...args],
    { timeout: opts.timeout || 60000, env: { ...process.env, ...(opts.env || {}) } });
}

/** Runs logjet-tail under a pseudo-terminal (util-linux `script`); resolves its bytes. */
export async function tailPty(s, args, opts = {}) {
  const quoted = [TAIL, '--nats-url', s.natsUrl, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const r = await run('script', ['-qec', quoted, '/dev/null'],
    { timeout: opts.timeout || 60000, encoding: 'buffer', env: { ...process.env, TERM: 'xterm', ...(opts.env || {}) } });
  return { code: r.code, out: r.stdout };
}

/** The objects of -o json output (every line must parse). */
export function jsonLines(text) {
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// Every background logjet-tail is killed (by PID) when the test process exits, also
// after a failed assertion left one running or stopped.
const started = new Set();
process.on('exit', () => {
  for (const t of started) if (!t.exitInfo) { t.child.kill('SIGCONT'); t.child.kill('SIGKILL'); }
});

export class Tail {
  /** Starts logjet-tail in the background; stdout and stderr are collected. */
  static start(s, args, opts = {}) {
    return new Tail(s, args, opts);
  }

  constructor(s, args, opts) {
    this.child = spawn(TAIL, ['--nats-url', s.natsUrl, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(opts.env || {}) } });
    this.out = Buffer.alloc(0);
    this.err = '';
    this.child.stdout.on('data', (d) => { this.out = Buffer.concat([this.out, d]); });
    this.child.stderr.on('data', (d) => { this.err += d; });
    this.exited = once(this.child, 'exit').then(([code, signal]) => ({ code, signal }));
    this.exitInfo = null;
    this.exited.then((i) => { this.exitInfo = i; started.delete(this); });
    started.add(this);
  }

  get text() { return this.out.toString('utf8'); }
  get json() { return jsonLines(this.text.slice(0, this.text.lastIndexOf('\n') + 1)); }
  lines() { return this.text.split('\n').slice(0, -1); }

  /** Waits until fn(this) is truthy; fails early if the process exits. */
  async until(fn, timeoutMs = 30000, what = 'tail output') {
    try {
      return await waitFor(() => {
        if (this.exitInfo && !fn(this)) throw new Error(`logjet-tail exited ${JSON.stringify(this.exitInfo)}: ${this.err}`);
        return fn(this);
      }, timeoutMs, what);
    } catch (e) {
      e.message += `\n--- logjet-tail output (last 2000 bytes) ---\n${this.text.slice(-2000)}\n--- stderr ---\n${this.err}`;
      throw e;
    }
  }

  /** Sends signal and waits for the exit (SIGKILL after 10 s). */
  async stop(signal = 'SIGINT') {
    if (this.exitInfo) return this.exitInfo;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10000);
    const info = await this.exited;
    clearTimeout(t);
    return info;
  }
}

/** Asserts that text holds no sanitizer report (ASan builds of logjet-tail). */
export function noSanitizerReport(err) {
  if (/ERROR: (Address|Leak)Sanitizer|runtime error: /.test(err)) throw new Error(`sanitizer report:\n${err}`);
}

/** Waits until host/name (any host, not just the stack's) has stored line_no n; the record. */
export async function storedOn(s, host, name, n, timeoutMs = 60000) {
  const jsm = await (await s.nc()).jetstreamManager();
  const { LogRecord } = await proto();
  return waitFor(async () => {
    const m = await jsm.streams.getMessage('LOGS', { last_by_subj: `logs.${token(host)}.${token(name)}` }).catch(() => null);
    if (!m) return null;
    const rec = LogRecord.toObject(LogRecord.decode(m.data), { longs: Number, defaults: true });
    return rec.lineNo >= n ? { ...rec, seq: m.seq } : null;
  }, timeoutMs, `${host}/${name} stored up to line_no ${n}`, 100);
}

export { fs };
