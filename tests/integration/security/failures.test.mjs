// Acceptance 2 of the security issue, against deploy/nats/secure.conf (TLS with client
// certificates, users): a wrong password, an unknown CA, a host name that is not the
// certificate's, a missing client certificate and a permission violation each give one
// error line naming the cause and the server (the daemon retries every 200 ms and does
// not repeat it), /healthz 503 with that cause, and the daemon keeps running. It then
// connects as soon as the cause is gone. No secret in any log line, --help, error
// message or /metrics page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { BUILD_DIR, Stack, run, token, waitFor } from '../../lib/harness.mjs';
import { makePki, secret } from './pki.mjs';
import { assertNoSecret, expectFailure, health, metricsPages, secureConfig } from './common.mjs';

const hostId = `hf${Math.random().toString(36).slice(2, 7)}`;
const pw = { publisher: secret('pubpw'), gateway: secret('gwpw'), reader: secret('rdpw') };
const wrong = secret('wrongpw');
const texts = [];
let s, pki, dir;

const tlsArgs = (ca = pki.ca) => ['--nats-ca', ca, '--nats-cert', pki.clientCert, '--nats-key', pki.clientKey];
const pubUser = () => `logjet-publisher-${token(hostId)}`;
const server = () => `tls://localhost:${s.ports.nats}`;

before(async () => {
  dir = fs.mkdtempSync('/tmp/logjet-sec-');
  pki = await makePki(path.join(dir, 'pki'));
  s = await Stack.start({
    hostId,
    natsConfig: secureConfig(hostId),
    natsEnv: { LOGJET_PUBLISHER_PASSWORD: pw.publisher, LOGJET_GATEWAY_PASSWORD: pw.gateway,
      LOGJET_READER_PASSWORD: pw.reader, NATS_TLS_CERT: pki.serverCert, NATS_TLS_KEY: pki.serverKey,
      NATS_TLS_CA: pki.ca },
    natsUrl: (port) => `tls://localhost:${port}`,
  });
});
after(async () => {
  if (s) await s.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('wrong password: one error line, not ready, retrying', async () => {
  const line = await expectFailure(s, 'publisher', [...tlsArgs(), '--nats-user', pubUser(), '--nats-password', wrong],
    { cause: /Authorization Violation.*--nats-user name or password was rejected/, server: server() });
  texts.push(line);
  // The same through the gateway, with the password from a file.
  const f = path.join(dir, 'gw.password');
  fs.writeFileSync(f, wrong);
  await expectFailure(s, 'gateway', [...tlsArgs(), '--nats-user', 'logjet-gateway'],
    { env: { LOGJET_NATS_PASSWORD_FILE: f }, cause: /Authorization Violation/, server: server() });
});

test('a password in the URL is never shown, and a wrong one is an error like any other', async () => {
  const url = `tls://logjet-gateway:${wrong}@localhost:${s.ports.nats}`;
  await expectFailure(s, 'gateway', [...tlsArgs(), '--nats-url', url],
    { cause: /Authorization Violation.*user info in --nats-url/, server: `tls://***@localhost:${s.ports.nats}` });
});

test('unknown CA', async () => {
  await expectFailure(s, 'gateway', [...tlsArgs(pki.otherCa), '--nats-user', 'logjet-gateway', '--nats-password', pw.gateway],
    { cause: /SSL.*(unable to get local issuer certificate|self.signed)/i, server: server() });
});

test('host name mismatch: a certificate for another name, and an address the certificate lacks', async () => {
  const gwArgs = [...tlsArgs(), '--nats-user', 'logjet-gateway', '--nats-password', pw.gateway];
  await s.stopNats();
  s.opts.natsEnv = { ...s.opts.natsEnv, NATS_TLS_CERT: pki.wrongNameCert, NATS_TLS_KEY: pki.wrongNameKey };
  await s.startNats();
  try {
    await expectFailure(s, 'gateway', gwArgs,
      { cause: /hostname mismatch:expected=localhost:cert=\/CN=wrongname/, server: server() });
  } finally {
    await s.stopNats();
    s.opts.natsEnv = { ...s.opts.natsEnv, NATS_TLS_CERT: pki.serverCert, NATS_TLS_KEY: pki.serverKey };
    await s.startNats();
  }
  const url = `tls://127.0.0.1:${s.ports.nats}`;
  await expectFailure(s, 'gateway', ['--nats-url', url, ...gwArgs],
    { cause: /IP address mismatch/, server: url });
});

test('no client certificate', async () => {
  await expectFailure(s, 'gateway', ['--nats-ca', pki.ca, '--nats-user', 'logjet-gateway', '--nats-password', pw.gateway],
    { cause: /it may require a client certificate, --nats-cert/, server: server() });
});

test('permission violation: the publisher run with the gateway user', async () => {
  await expectFailure(s, 'publisher', [...tlsArgs(), '--nats-user', 'logjet-gateway', '--nats-password', pw.gateway],
    { cause: /Permissions Violation for Publish to .*\$JS\.API\.STREAM\.INFO\.LOGS/, server: server() });
});

test('the same publisher connects once the server accepts its password (config reload), without a restart', async () => {
  const later = secret('laterpw');
  await s.startPublisher([...tlsArgs(), '--nats-user', pubUser(), '--nats-password', later, '--nats-retry-ms', '200'],
    { healthy: false });
  const p = s.procs.publisher;
  const log = () => fs.readFileSync(p.logPath, 'utf8');
  await waitFor(() => /level=error msg="cannot connect to NATS"/.test(log()), 15000, 'the auth error');
  assert.equal((await health(s.publisherHttp)).status, 503);
  const conf = path.join(s.dir, 'nats.conf');
  fs.writeFileSync(conf, fs.readFileSync(conf, 'utf8').replace('password: $LOGJET_PUBLISHER_PASSWORD', `password: "${later}"`));
  process.kill(s.procs.nats.pid, 'SIGHUP');
  await waitFor(async () => (await health(s.publisherHttp)).status === 200, 20000, 'the publisher healthy');
  assert.ok(p.running);
  assert.equal(log().split('\n').filter((l) => /level=error/.test(l)).length, 1);
  assert.match(log(), new RegExp(`connected to NATS.*name=logjet-publisher@${hostId}`));
  pw.later = later;
});

test('bad options are refused at start with the option named and no secret shown', async () => {
  const bin = path.join(BUILD_DIR, 'gateway/logjet-gateway');
  let r = await run(bin, ['--nats-url', `http://u:${wrong}@localhost:1`]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--nats-url 'http:\/\/\*\*\*@localhost:1'/);
  texts.push(r.stderr);
  r = await run(bin, ['--nats-token', wrong, '--nats-user', 'u', '--nats-password', wrong]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /only one of/);
  texts.push(r.stderr);
  r = await run(path.join(BUILD_DIR, 'publisher/logjet-publisher'), ['--nats-cert', pki.clientCert]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--nats-cert and --nats-key/);
  r = await run(bin, ['--nats-ca', path.join(dir, 'missing.pem')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--nats-ca: cannot read '.*missing\.pem'/);
  r = await run(bin, [], { env: { ...process.env, LOGJET_NATS_TOKEN_FILE: path.join(dir, 'missing') } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /LOGJET_NATS_TOKEN_FILE: cannot read/);
  for (const d of ['gateway', 'publisher']) {
    r = await run(path.join(BUILD_DIR, `${d}/logjet-${d}`), ['--help'],
      { env: { ...process.env, LOGJET_NATS_PASSWORD: wrong, LOGJET_NATS_URL: `nats://u:${wrong}@h:1` } });
    assert.equal(r.code, 0);
    for (const o of ['--nats-creds', '--nats-nkey', '--nats-user', '--nats-password', '--nats-token', '--nats-ca',
      '--nats-cert', '--nats-key', '--nats-retry-ms', 'LOGJET_NATS_PASSWORD_FILE', 'LOGJET_NATS_TOKEN_FILE']) {
      assert.ok(r.stdout.includes(o), `${d} --help lacks ${o}`);
    }
    texts.push(r.stdout);
  }
});

test('no secret in any log line, error, --help or /metrics page', async () => {
  texts.push(...await metricsPages(s));
  assertNoSecret(s, [...Object.values(pw), wrong], texts);
});
