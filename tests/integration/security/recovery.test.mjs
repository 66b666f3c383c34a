// The connection nats.c gives up: when the server stops accepting a connected user's
// password (here a config reload), nats.c's reconnects meet the same "Authorization
// Violation" twice and it closes the connection for good. Both daemons must say so once,
// report not ready, keep trying with a new connection, and when the password is
// accepted again carry on where they were: a browser that stayed subscribed receives
// every line, in order, none twice, including those printed while NATS refused them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Stack, token, waitFor } from '../../lib/harness.mjs';
import { Client, contiguous, gate, numbered, openGate } from '../gateway/client.mjs';
import { makePki, secret } from './pki.mjs';
import { assertNoSecret, health, metricsPages, secureConfig } from './common.mjs';

const hostId = `hr${Math.random().toString(36).slice(2, 7)}`;
const pw = { publisher: secret('pubpw'), gateway: secret('gwpw'), reader: secret('rdpw') };
let s, pki, dir;
const tlsArgs = () => ['--nats-ca', pki.ca, '--nats-cert', pki.clientCert, '--nats-key', pki.clientKey,
  '--nats-retry-ms', '200'];

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
    publisher: true,
    gateway: true,
    publisherArgs: [...tlsArgs(), '--nats-user', `logjet-publisher-${token(hostId)}`, '--nats-password', pw.publisher],
    gatewayArgs: [...tlsArgs(), '--nats-user', 'logjet-gateway', '--nats-password', pw.gateway],
  });
});
after(async () => {
  if (s) await s.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function reload(text) {
  fs.writeFileSync(path.join(s.dir, 'nats.conf'), text);
  process.kill(s.procs.nats.pid, 'SIGHUP');
}

const errorsOf = (which) => fs.readFileSync(s.procs[which].logPath, 'utf8').split('\n').filter((l) => /level=error/.test(l));

test('passwords revoked and restored by config reload: one error each, not ready, then every line delivered', async () => {
  const c = await s.run('revoke', `${numbered(1, 100)}; ${gate(1)}; ${numbered(101, 200)}; ${gate(2)}; ${numbered(201, 300)}; sleep 600`);
  const cl = await Client.open(s.wsUrl);
  cl.subscribe('r', s.ref(c.name), { replay: 1000 });
  await cl.untilLines('r', 100);

  const conf = path.join(s.dir, 'nats.conf');
  const original = fs.readFileSync(conf, 'utf8');
  reload(original.replace('password: $LOGJET_PUBLISHER_PASSWORD', `password: "${secret('revoked')}"`)
    .replace('password: $LOGJET_GATEWAY_PASSWORD', `password: "${secret('revoked')}"`));
  await waitFor(async () => (await health(s.publisherHttp)).status === 503 && (await health(s.gatewayUrl)).status === 503,
    20000, 'both daemons not ready');
  await openGate(s, c.name, 1);               // lines 101..200 are printed while NATS refuses
  await waitFor(() => errorsOf('publisher').length > 0 && errorsOf('gateway').length > 0, 20000, 'error lines');
  await new Promise((r) => setTimeout(r, 2500));  // a dozen more attempts each
  for (const which of ['publisher', 'gateway']) {
    const errs = errorsOf(which);
    assert.equal(errs.length, 1, `${which}: one error line, got\n${errs.join('\n')}`);
    assert.ok(errs.some((l) => /Authorization Violation/.test(l)), errs.join('\n'));
    assert.match((await health(which === 'publisher' ? s.publisherHttp : s.gatewayUrl)).body, /Authorization Violation|closed|connect/);
    assert.ok(s.procs[which].running);
  }

  reload(original);
  await waitFor(async () => (await health(s.publisherHttp)).status === 200 && (await health(s.gatewayUrl)).status === 200,
    30000, 'both daemons ready again');
  await openGate(s, c.name, 2);
  await cl.untilLines('r', 300, 60000);
  const lines = cl.lines('r');
  assert.equal(contiguous(lines, 1), null, 'lines 1..300 once each, in order');
  assert.equal(lines.length, 300);
  assert.deepEqual(lines.map((l) => l.line), (await s.dockerLogs(c.name)).stdout.toString().split('\n').filter(Boolean));
  await cl.close();
  assertNoSecret(s, Object.values(pw), await metricsPages(s));
});
