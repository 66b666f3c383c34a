// raw.mjs - HTTP over a plain TCP (or TLS) socket, so a test controls every byte it
// sends and sees every byte the gateway answers, including what a proper HTTP client
// would hide or refuse to send (HEAD bodies, chunked GETs, oversized headers).
// Also starts extra gateways on a stack's NATS, each on its own free port.
import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { BUILD_DIR, SOURCE_DIR, freePort, waitFor } from '../../lib/harness.mjs';

/**
 * Sends bytes, then reads until the gateway closes or waitMs of silence pass.
 * Resolves {data: Buffer, closed: bool}. opts: {waitMs, host (127.0.0.1), localAddress,
 * tlsOpts: options for tls.connect, e.g. {ca}}.
 */
export function exchange(port, bytes, { waitMs = 1500, tlsOpts = null, host = '127.0.0.1', localAddress } = {}) {
  return new Promise((resolve, reject) => {
    const s = tlsOpts ? tls.connect({ port, host, localAddress, ...tlsOpts }) : net.connect({ port, host, localAddress });
    let data = Buffer.alloc(0);
    let timer;
    const done = (closed) => { clearTimeout(timer); s.destroy(); resolve({ data, closed }); };
    const arm = () => { clearTimeout(timer); timer = setTimeout(() => done(false), waitMs); };
    s.on(tlsOpts ? 'secureConnect' : 'connect', () => { s.write(bytes); arm(); });
    s.on('data', (d) => { data = Buffer.concat([data, d]); arm(); });
    s.on('end', () => done(true));
    s.on('close', () => done(true));
    s.on('error', (e) => (e.code === 'ECONNRESET' ? done(true) : reject(e)));
  });
}

/**
 * Splits data into HTTP responses: [{status, headers: {lower-name: value}, body}].
 * heads[i] true means response i answers a HEAD (no body whatever Content-Length says).
 * Whatever follows the last complete response is returned as rest.
 */
export function parseResponses(data, heads = []) {
  const out = [];
  let off = 0;
  for (;;) {
    const end = data.indexOf('\r\n\r\n', off, 'latin1');
    if (end < 0) break;
    const lines = data.subarray(off, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) break;
    const headers = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(':');
      headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
    }
    const len = heads[out.length] ? 0 : Number(headers['content-length'] || 0);
    if (data.length < end + 4 + len) break;
    out.push({ status: Number(m[1]), headers, body: data.subarray(end + 4, end + 4 + len).toString('latin1') });
    off = end + 4 + len;
  }
  return { responses: out, rest: data.subarray(off).toString('latin1') };
}

/** One request, one response: {status, headers, body, closed}. */
export async function request(port, lines, opts = {}) {
  const r = await exchange(port, lines.join('\r\n') + '\r\n\r\n', opts);
  const { responses } = parseResponses(r.data, [/^HEAD /.test(lines[0])]);
  return { ...(responses[0] || { status: 0, headers: {}, body: '' }), closed: r.closed, raw: r.data };
}

/**
 * Starts a gateway of BUILD_DIR on the stack's NATS with args (each gateway its own
 * free port and log). Resolves {port, proc, log(), stop()}; waits for /healthz unless
 * opts.expectExit, in which case it resolves {code, log} once the process exits.
 * opts: {port, listen ("127.0.0.1:<port>"), host (to reach it at), https, expectExit}.
 */
export async function gateway(s, args, opts = {}) {
  const port = opts.port ?? await freePort();
  const logPath = path.join(s.dir, `gw-${port}-${Date.now()}.log`);
  const fd = fs.openSync(logPath, 'a');
  const listen = opts.listen ?? `127.0.0.1:${port}`;
  const full = ['--nats-url', s.natsUrl, '--listen', listen, ...args];
  const proc = spawn(path.join(BUILD_DIR, 'gateway/logjet-gateway'), full, { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const exited = once(proc, 'exit');
  const log = () => fs.readFileSync(logPath, 'utf8');
  if (opts.expectExit) {
    const t = setTimeout(() => proc.kill('SIGKILL'), 10000);
    const [code] = await exited;
    clearTimeout(t);
    return { code, log: log() };
  }
  let gone = false;
  exited.then(() => { gone = true; });
  const scheme = opts.https ? 'https' : 'http';
  await waitFor(async () => {
    if (gone) throw new Error(`gateway exited:\n${log()}`);
    const r = await exchange(port, `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      { waitMs: 500, host: opts.host, tlsOpts: opts.https ? { rejectUnauthorized: false } : null }).catch(() => null);
    return r && /^HTTP\/1\.1 200/.test(r.data.toString('latin1'));
  }, 20000, `${scheme} gateway on ${port}`);
  return {
    port, proc, log,
    async stop() {
      if (gone) return;
      proc.kill('SIGTERM');
      await exited;
      const text = log();
      if (/ERROR: (Address|Leak)Sanitizer|runtime error: /.test(text)) throw new Error(`sanitizer report:\n${text}`);
    },
  };
}

export const UI_DIR = path.join(SOURCE_DIR, 'ui');
