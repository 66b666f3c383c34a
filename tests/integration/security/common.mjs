// common.mjs - what the security tests share: the deploy's secure nats-server config
// made runnable for one stack, a container's lines checked end to end (docker logs ->
// publisher -> JetStream -> gateway -> WebSocket client), and the grep for secrets.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SOURCE_DIR, token, waitFor } from '../../lib/harness.mjs';
import { Client, numbered } from '../gateway/client.mjs';

/** deploy/nats/secure.conf with its example host web-1 replaced by hostId's token. */
export function secureConfigText(hostId) {
  const text = fs.readFileSync(path.join(SOURCE_DIR, 'deploy/nats/secure.conf'), 'utf8');
  return text.replaceAll('web-1', token(hostId));
}

/** The same for Stack's natsConfig: with the stack's own store directory. */
export function secureConfig(hostId) {
  return (stack) => secureConfigText(hostId).replace(/store_dir: "[^"]*"/, `store_dir: "${stack.storeDir}"`);
}

/** The permission rows of secure.conf for one user, as {pub: {allow}, sub: {allow}}. */
export function permissionsOf(config, user) {
  const block = config.slice(config.indexOf(`user: ${user}`));
  const list = (kind) => {
    const part = block.slice(block.indexOf(`${kind}:`));
    const inner = part.slice(part.indexOf('[') + 1, part.indexOf(']'));
    return [...inner.matchAll(/"([^"]+)"/g)].map((m) => m[1]);
  };
  return { pub: { allow: list('publish') }, sub: { allow: list('subscribe') } };
}

/**
 * Runs a container printing `line 1`..`line n` and checks that a WebSocket client of
 * the gateway receives exactly those lines, as docker logs has them.
 */
export async function endToEnd(s, name, n = 50) {
  const c = await s.run(name, `${numbered(1, n)}; sleep 600`);
  const cl = await Client.open(s.wsUrl);
  try {
    // The registry entry shows the publisher wrote it and the gateway watched it.
    await waitFor(async () => {
      cl.send({ op: 'list' });
      await new Promise((r) => setTimeout(r, 100));
      return cl.of('containers').some((m) => m.containers.some((x) => x.name === c.name));
    }, 30000, `${c.name} in the gateway's list`, 200);
    await waitFor(async () => (await s.dockerLogs(c.name)).stdout.toString().includes(`line ${n}\n`),
      20000, 'docker logs');
    cl.subscribe('e2e', s.ref(c.name), { replay: 1000 });
    await cl.untilLines('e2e', n, 30000);
    const want = (await s.dockerLogs(c.name)).stdout.toString().split('\n').filter(Boolean);
    assert.deepEqual(cl.lines('e2e').map((l) => l.line), want);
    assert.equal(cl.of('error').length, 0);
  } finally {
    await cl.close();
  }
  return c;
}

/** Every file the stack's processes logged to, as text. */
export function logsOf(s) {
  return fs.readdirSync(s.dir).filter((f) => f.endsWith('.log'))
    .map((f) => ({ file: f, text: fs.readFileSync(path.join(s.dir, f), 'utf8') }));
}

/** Fails when any of secrets appears in a daemon log of s or in one of texts. */
export function assertNoSecret(s, secrets, texts = []) {
  const where = [...logsOf(s).filter((l) => l.file !== 'nats.log'), ...texts.map((t, i) => ({ file: `text ${i}`, text: t }))];
  for (const { file, text } of where) {
    for (const sec of secrets) assert.ok(!text.includes(sec), `${file} shows a secret (${sec.slice(0, 4)}...)`);
  }
}

/** The daemon's current /healthz: {status, body}. */
export async function health(base) {
  const r = await fetch(`${base}/healthz`);
  return { status: r.status, body: await r.text() };
}

/** /metrics pages of both daemons of s (those that run). */
export async function metricsPages(s) {
  const out = [];
  if (s.procs.publisher?.running) out.push(await (await fetch(`${s.publisherHttp}/metrics`)).text());
  if (s.procs.gateway?.running) out.push(await (await fetch(`${s.gatewayUrl}/metrics`)).text());
  return out;
}

/** nats-server config lines for one account LOGJET (JetStream on) with these users:
 *  [{auth: 'nkey: U...' | 'user: u, password: p', perms: {pub: {allow}, sub: {allow}}}]. */
export function accountConfig(users) {
  const q = (a) => a.map((x) => JSON.stringify(x)).join(', ');
  const rows = users.map((u) => `      { ${u.auth}, permissions: { publish: { allow: [${q(u.perms.pub.allow)}] },`
    + ` subscribe: { allow: [${q(u.perms.sub.allow)}] } } }`);
  return `accounts {\n  LOGJET {\n    jetstream: enabled\n    users: [\n${rows.join('\n')}\n    ]\n  }\n}\n`;
}

/** A TLS block for nats-server (server certificate only, or requiring client ones). */
export function tlsConfig(pki, { verify = false } = {}) {
  return `tls {\n  cert_file: "${pki.serverCert}"\n  key_file: "${pki.serverKey}"\n  ca_file: "${pki.ca}"\n`
    + `  verify: ${verify}\n  timeout: 2\n}\n`;
}

let failures = 0;

/**
 * Starts one daemon of s (publisher or gateway) with extra args and env that must fail to
 * get a working NATS connection, and checks what an operator sees: exactly one error
 * line (though it retries every 200 ms), matching cause and naming the server, /healthz
 * 503 with the same cause, and the daemon still running. Stops it; its log is kept
 * (as <daemon>-fail-N.log) for the secret grep. Returns the error line.
 */
export async function expectFailure(s, which, extra, { env = {}, cause, server }) {
  s.opts[`${which}Env`] = env;
  if (which === 'publisher') await s.startPublisher([...extra, '--nats-retry-ms', '200'], { healthy: false });
  else await s.startGateway([...extra, '--nats-retry-ms', '200'], { healthy: false });
  const base = which === 'publisher' ? s.publisherHttp : s.gatewayUrl;
  const p = s.procs[which];
  const errors = () => fs.readFileSync(p.logPath, 'utf8').split('\n').filter((l) => /level=error/.test(l));
  try {
    await waitFor(() => errors().length > 0, 15000, `an error line from the ${which}`);
    await new Promise((r) => setTimeout(r, 2000));    // ten more attempts
    const lines = errors();
    assert.equal(lines.length, 1, `one error line, got:\n${lines.join('\n')}`);
    assert.match(lines[0], cause);
    assert.ok(lines[0].includes(`server=${server}`), `${lines[0]} names ${server}`);
    const h = await health(base);
    assert.equal(h.status, 503);
    assert.match(h.body, cause);
    assert.ok(p.running, `${which} exited`);
    return lines[0];
  } finally {
    await p.stop();
    fs.renameSync(p.logPath, path.join(s.dir, `${which}-fail-${++failures}.log`));
  }
}
