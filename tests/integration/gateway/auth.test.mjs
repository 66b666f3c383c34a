// Acceptance 7: tokens, ACL globs, origins, malformed frames and limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Stack, BUILD_DIR, run, freePort } from '../../lib/harness.mjs';
import { Client, numbered, stored } from './client.mjs';

let s, web, db, tokensFile;
before(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logjet-auth-'));
  tokensFile = path.join(dir, 'tokens');
  s = await Stack.start({ publisher: true, gateway: false });
  fs.writeFileSync(tokensFile, `# test tokens\ntok-all *\ntok-web ${s.hostId}/${s.prefix}web-*\n`);
  await s.startGateway(['--auth-tokens', tokensFile, '--allowed-origins', 'http://good.example']);
  web = await s.run('web-1', numbered(1, 10));
  db = await s.run('db-1', numbered(1, 10));
  await stored(s, web.name, 10);
  await stored(s, db.name, 10);
});
after(async () => { if (s) await s.stop(); });

const url = (tok) => `${s.wsUrl}?token=${tok}`;

test('missing or wrong token is refused; query, bearer and cookie tokens work', async () => {
  await assert.rejects(Client.open(s.wsUrl));
  await assert.rejects(Client.open(url('nope')));
  await assert.rejects(Client.open(url('tok-al')));
  for (const opts of [{}, { headers: { Authorization: 'Bearer tok-all' } }, { headers: { Cookie: 'x=1; logjet_token=tok-all' } }]) {
    const cl = await Client.open(Object.keys(opts).length ? s.wsUrl : url('tok-all'), opts);
    await cl.until(() => cl.of('hello').length === 1);
    await cl.close();
  }
  assert.equal((await fetch(`${s.gatewayUrl}/api/containers`)).status, 401);
});

test('a token limited to web-* cannot list, subscribe to or see anything else', async () => {
  const cl = await Client.open(url('tok-web'));
  cl.send({ op: 'list' });
  await cl.until(() => cl.of('containers').length === 1);
  const names = cl.of('containers')[0].containers.map((x) => x.name);
  assert.ok(names.includes(web.name));
  assert.ok(!names.includes(db.name));
  cl.subscribe('d', s.ref(db.name), { replay: 10 });
  await cl.until(() => cl.of('error', 'd').length === 1);
  assert.equal(cl.of('error', 'd')[0].code, 'forbidden');
  cl.subscribe('all', '*', { replay: 10 });
  await cl.until(() => cl.of('replayed', 'all').length >= 1);
  const seen = new Set(cl.lines('all').map((l) => l.container));
  assert.deepEqual([...seen], [s.ref(web.name)]);
  assert.equal(cl.lines('all').length, 10);
  await cl.close();

  const api = await (await fetch(`${s.gatewayUrl}/api/containers`, { headers: { Authorization: 'Bearer tok-web' } })).json();
  assert.deepEqual(api.containers.map((x) => x.name), [web.name]);
  const c0 = api.containers[0];
  assert.equal(c0.host, s.hostId);
  assert.equal(c0.id, web.id);
  assert.match(c0.started_at, /^\d{4}-/);
  const full = await (await fetch(`${s.gatewayUrl}/api/containers?token=tok-all`)).json();
  assert.ok(full.containers.some((x) => x.name === db.name));
});

test('origins outside the allowed list are refused', async () => {
  await assert.rejects(Client.open(url('tok-all'), { origin: 'http://evil.example' }));
  const ok = await Client.open(url('tok-all'), { origin: 'http://good.example' });
  await ok.close();
});

test('malformed, oversized and excess requests get error frames; the connection survives', async () => {
  const cl = await Client.open(url('tok-all'));
  cl.send('this is not json');
  await cl.until(() => cl.of('error').length === 1);
  assert.equal(cl.of('error')[0].code, 'bad_request');
  cl.send({ op: 'subscribe', id: 'big', container: 'x/' + 'y'.repeat(5000) });
  await cl.until(() => cl.of('error').length === 2);
  assert.equal(cl.of('error')[1].code, 'limit');
  cl.send({ op: 'unsubscribe', id: 'none' });
  await cl.until(() => cl.of('error').length === 3);
  assert.equal(cl.of('error')[2].code, 'not_found');
  for (let i = 0; i < 65; i++) cl.subscribe(`s${i}`, s.ref(web.name));
  await cl.until(() => cl.of('error', 's64').length === 1);
  assert.equal(cl.of('error', 's64')[0].code, 'limit');
  assert.equal(cl.of('replayed').length, 64);
  cl.send({ op: 'list' });
  await cl.until(() => cl.of('containers').length === 1);
  assert.equal(cl.closed, null);
  await cl.close();
});

test('repeated abuse closes the connection', async () => {
  const cl = await Client.open(url('tok-all'));
  for (let i = 0; i < 30; i++) cl.send('{{{');
  await cl.until(() => cl.closed !== null);
  assert.equal(cl.closed.code, 1008);
});

test('a non-loopback listen address without tokens is refused unless --insecure', async () => {
  const port = await freePort();
  const r = await run(path.join(BUILD_DIR, 'gateway/logjet-gateway'), ['--listen', `0.0.0.0:${port}`, '--nats-url', s.natsUrl]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /auth-tokens/);
});
