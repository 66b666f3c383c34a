// Gateway TLS: HTTPS and WSS with --tls-cert/--tls-key (certificates made here with the
// openssl CLI, signed by a throw-away CA), TLS 1.2+ only, HSTS, clear start-up errors
// naming the bad file, and the certificate reread on SIGHUP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import WebSocket from 'ws';
import { Stack, run, waitFor } from '../../lib/harness.mjs';
import { exchange, parseResponses, gateway, UI_DIR } from './raw.mjs';

let s, dir, gw;
const f = (n) => path.join(dir, n);

async function openssl(args) {
  const r = await run('openssl', args);
  if (r.code !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** A key and a certificate for 127.0.0.1/localhost signed by the test CA. */
async function makeCert(name, cn) {
  await openssl(['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-subj', `/CN=${cn}`,
    '-out', f(`${name}.csr`)]);
  fs.writeFileSync(f(`${name}.ext`), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  await openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
    '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`)]);
}

before(async () => {
  s = await Stack.start({ publisher: false, gateway: false });
  dir = path.join(s.dir, 'tls');
  fs.mkdirSync(dir);
  await openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-subj', '/CN=logjet test CA',
    '-days', '2', '-out', f('ca.crt')]);
  await makeCert('a', 'gateway-a');
  await makeCert('b', 'gateway-b');
  fs.copyFileSync(f('a.crt'), f('serve.crt'));
  fs.copyFileSync(f('a.key'), f('serve.key'));
  gw = await gateway(s, ['--ui-dir', UI_DIR, '--tls-cert', f('serve.crt'), '--tls-key', f('serve.key')], { https: true });
});
after(async () => {
  await gw?.stop();
  if (s) await s.stop();
});

const ca = () => fs.readFileSync(f('ca.crt'));

/** The CN of the certificate a new TLS connection is served, and the protocol. */
function peer(opts = {}) {
  return new Promise((resolve, reject) => {
    const c = tls.connect({ port: gw.port, host: '127.0.0.1', ca: ca(), ...opts }, () => {
      const out = { cn: c.getPeerCertificate().subject.CN, protocol: c.getProtocol(), alpn: c.alpnProtocol };
      c.end();
      resolve(out);
    });
    c.on('error', reject);
  });
}

test('HTTPS pages and a WSS session, verified against the CA, with HSTS', async () => {
  for (const p of ['/', '/healthz', '/api/containers']) {
    const r = await exchange(gw.port, `GET ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
      { tlsOpts: { ca: ca() } });
    const [res] = parseResponses(r.data).responses;
    assert.equal(res.status, 200, p);
    assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
    assert.match(res.headers['content-security-policy'], /frame-ancestors 'none'/);
  }
  const ws = new WebSocket(`wss://127.0.0.1:${gw.port}/ws`, { ca: ca() });
  const hello = await new Promise((resolve, reject) => {
    ws.once('message', (d) => resolve(JSON.parse(d.toString())));
    ws.once('error', reject);
  });
  assert.equal(hello.type, 'hello');
  ws.close();
  const p = await peer({ ALPNProtocols: ['h2', 'http/1.1'] });
  assert.equal(p.cn, 'gateway-a');
  assert.equal(p.alpn, 'http/1.1', 'HTTP/1.1 only');
});

test('only TLS 1.2 and 1.3 are accepted', async () => {
  assert.equal((await peer({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' })).protocol, 'TLSv1.2');
  assert.equal((await peer({ minVersion: 'TLSv1.3' })).protocol, 'TLSv1.3');
  for (const v of ['TLSv1', 'TLSv1.1']) {
    await assert.rejects(peer({ minVersion: v, maxVersion: v, ciphers: 'DEFAULT@SECLEVEL=0' }), undefined, v);
  }
  // Plain HTTP on the TLS port gets nothing served.
  const r = await exchange(gw.port, 'GET /api/containers HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', { waitMs: 800 });
  assert.doesNotMatch(r.data.toString('latin1'), /containers/);
});

test('an unreadable, malformed or mismatched certificate or key stops the start with the file named', async () => {
  fs.writeFileSync(f('junk.crt'), 'not a certificate\n');
  const cases = [
    [[f('missing.crt'), f('a.key')], /missing\.crt/],
    [[f('a.crt'), f('missing.key')], /missing\.key/],
    [[f('junk.crt'), f('a.key')], /junk\.crt/],
    [[f('a.crt'), f('junk.crt')], /junk\.crt/],
    [[f('a.crt'), f('b.key')], /b\.key does not match certificate .*a\.crt/],
  ];
  for (const [[cert, key], want] of cases) {
    const r = await gateway(s, ['--tls-cert', cert, '--tls-key', key], { expectExit: true });
    assert.notEqual(r.code, 0, `${cert} ${key}`);
    assert.match(r.log, want);
    assert.doesNotMatch(r.log, /gateway listening/);
  }
  const half = await gateway(s, ['--tls-cert', f('a.crt')], { expectExit: true });
  assert.equal(half.code, 2);
  assert.match(half.log, /--tls-cert and --tls-key go together/);
});

test('SIGHUP rereads the certificate; a bad pair keeps the one being served', async () => {
  assert.equal((await peer()).cn, 'gateway-a');
  fs.copyFileSync(f('b.crt'), f('serve.crt'));
  fs.copyFileSync(f('b.key'), f('serve.key'));
  gw.proc.kill('SIGHUP');
  await waitFor(async () => (await peer()).cn === 'gateway-b', 10000, 'certificate b served');
  assert.match(gw.log(), /certificate reloaded/);
  // A half-done renewal: new certificate, old key. Refused; b stays.
  fs.copyFileSync(f('a.crt'), f('serve.crt'));
  gw.proc.kill('SIGHUP');
  await waitFor(() => /certificate not reloaded.*does not match/.test(gw.log()), 10000, 'reload refused');
  assert.equal((await peer()).cn, 'gateway-b');
  const r = await exchange(gw.port, 'GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n',
    { tlsOpts: { ca: ca() } });
  assert.equal(parseResponses(r.data).responses[0].status, 200);
});
