// Acceptance 1 and 2 of the security issue for the other ways to authenticate: both
// daemons end to end with a creds file (decentralised JWT auth: an operator-mode
// nats-server whose operator, account and users this test signs itself), with an NKey
// seed, and with a token (over TLS with the server's certificate only); each with the
// least-privilege permissions of deploy/nats/secure.conf. Then each wrong credential
// of that kind: one error line naming the cause, not ready, no secret anywhere.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Stack, token } from '../../lib/harness.mjs';
import { makePki, operator, secret, userKey } from './pki.mjs';
import {
  accountConfig, assertNoSecret, endToEnd, expectFailure, health, metricsPages, permissionsOf,
  secureConfigText, tlsConfig,
} from './common.mjs';

const dir = fs.mkdtempSync('/tmp/logjet-sec-');
const pkiReady = makePki(path.join(dir, 'pki'));
const stacks = [];
after(async () => {
  for (const s of stacks) await s.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function perms(hostId) {
  const text = secureConfigText(hostId);
  return { publisher: permissionsOf(text, `logjet-publisher-${token(hostId)}`), gateway: permissionsOf(text, 'logjet-gateway') };
}

async function stack(hostId, natsConfig, publisherArgs, gatewayArgs, extra = {}) {
  const s = await Stack.start({ hostId, natsConfig: (st) => `${natsConfig}\njetstream { store_dir: "${st.storeDir}" }\n`,
    publisher: true, gateway: true, publisherArgs, gatewayArgs, ...extra });
  stacks.push(s);
  return s;
}

test('creds files (operator-mode server, JWTs signed here): end to end, then expired and unknown-account creds fail clearly', async () => {
  const hostId = `ha${Math.random().toString(36).slice(2, 7)}`;
  const op = operator();
  const p = perms(hostId);
  const file = (n) => path.join(dir, n);
  const seeds = [];
  seeds.push(op.creds(file('pub.creds'), 'publisher', p.publisher).seed);
  seeds.push(op.creds(file('gw.creds'), 'gateway', p.gateway).seed);
  const s = await stack(hostId, op.config, ['--nats-creds', file('pub.creds')], [],
    { gatewayEnv: { LOGJET_NATS_CREDS: file('gw.creds') } });
  await endToEnd(s, 'creds-e2e', 40);
  assert.doesNotMatch(fs.readFileSync(path.join(s.dir, 'nats.log'), 'utf8'), /Violation/);

  seeds.push(op.creds(file('expired.creds'), 'gateway', p.gateway, { exp: Math.floor(Date.now() / 1000) - 3600 }).seed);
  await s.stopGateway();
  await expectFailure(s, 'gateway', ['--nats-creds', file('expired.creds')],
    { cause: /Authorization Violation.*the user JWT in --nats-creds '.*expired\.creds' expired at \d{4}-/, server: s.natsUrl });
  seeds.push(op.creds(file('stranger.creds'), 'gateway', p.gateway, { other: true }).seed);
  await expectFailure(s, 'gateway', ['--nats-creds', file('stranger.creds')],
    { cause: /Authorization Violation.*--nats-creds credentials were rejected/, server: s.natsUrl });
  assertNoSecret(s, seeds, await metricsPages(s));
});

test('NKey seeds: end to end, then an NKey the server does not know fails clearly', async () => {
  const hostId = `hn${Math.random().toString(36).slice(2, 7)}`;
  const p = perms(hostId);
  const pub = userKey(), gw = userKey(), stranger = userKey();
  const file = (n, k) => { const f = path.join(dir, n); fs.writeFileSync(f, `${k.seed}\n`, { mode: 0o600 }); return f; };
  const config = accountConfig([{ auth: `nkey: ${pub.pub}`, perms: p.publisher }, { auth: `nkey: ${gw.pub}`, perms: p.gateway }]);
  const s = await stack(hostId, config, ['--nats-nkey', file('pub.nk', pub)], ['--nats-nkey', file('gw.nk', gw)]);
  await endToEnd(s, 'nkey-e2e', 40);
  assert.doesNotMatch(fs.readFileSync(path.join(s.dir, 'nats.log'), 'utf8'), /Violation/);
  await s.stopGateway();
  await expectFailure(s, 'gateway', ['--nats-nkey', file('stranger.nk', stranger)],
    { cause: /Authorization Violation.*--nats-nkey key was rejected/, server: s.natsUrl });
  assertNoSecret(s, [pub.seed, gw.seed, stranger.seed], await metricsPages(s));
});

test('a token over TLS (server certificate only): end to end, then a wrong token fails clearly', async () => {
  const pki = await pkiReady;
  const hostId = `ht${Math.random().toString(36).slice(2, 7)}`;
  const tok = secret('tok'), bad = secret('badtok');
  const tokFile = path.join(dir, 'token');
  fs.writeFileSync(tokFile, `${tok}\n`, { mode: 0o600 });
  const config = `${tlsConfig(pki)}authorization { token: "${tok}" }\n`;
  const s = await stack(hostId, config, ['--nats-ca', pki.ca], ['--nats-ca', pki.ca, '--nats-token', tok],
    { natsUrl: (port) => `tls://localhost:${port}`, publisherEnv: { LOGJET_NATS_TOKEN_FILE: tokFile } });
  await endToEnd(s, 'token-e2e', 40);
  assert.equal((await health(s.gatewayUrl)).status, 200);
  await s.stopGateway();
  await expectFailure(s, 'gateway', ['--nats-ca', pki.ca, '--nats-token', bad],
    { cause: /Authorization Violation.*--nats-token token was rejected/, server: s.natsUrl });
  assertNoSecret(s, [tok, bad], await metricsPages(s));
});
