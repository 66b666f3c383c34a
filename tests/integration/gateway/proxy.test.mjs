// Single sign-on through a reverse proxy: a real nginx authenticates people and sets
// Remote-User; the gateway trusts that header only from the proxy's address
// (--trusted-proxies) and maps the user to globs through `user` lines of the tokens
// file. Per-user ACLs in list, subscribe (plain and wildcard) and /api/containers;
// the header from any other address is refused with 403 and logged.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Stack } from '../../lib/harness.mjs';
import { startNginx } from '../../lib/nginx.mjs';
import { Client, numbered, stored } from './client.mjs';
import { request, gateway, UI_DIR } from './raw.mjs';
import net from 'node:net';

/** A TCP port that was free a moment ago on ::1. */
function freePortV6() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer().listen(0, '::1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    }).on('error', reject);
  });
}

let s, gw, nginx, web, db;
const basic = (u, p) => 'Basic ' + Buffer.from(`${u}:${p}`).toString('base64');
const ALICE = { Authorization: basic('alice', 'alice-pw') };
const BOB = { Authorization: basic('bob', 'bob-pw') };

before(async () => {
  s = await Stack.start({ publisher: true, gateway: false });
  web = await s.run('web-1', numbered(1, 10));
  db = await s.run('db-1', numbered(1, 10));
  const tokens = path.join(s.dir, 'tokens');
  fs.writeFileSync(tokens, `# tokens and users\ntok-all *\nuser alice ${s.hostId}/${s.prefix}web-*\n`
    + `user bob ${s.hostId}/${s.prefix}db-*\nuser carol ${s.hostId}/nothing\n`);
  gw = await gateway(s, ['--ui-dir', UI_DIR, '--auth-tokens', tokens, '--auth-proxy-header', 'Remote-User',
    '--trusted-proxies', '127.0.0.3/32,::1']);
  nginx = await startNginx(s.dir, gw.port, { alice: 'alice-pw', bob: 'bob-pw', dave: 'dave-pw' });
  await stored(s, web.name, 10);
  await stored(s, db.name, 10);
});
after(async () => {
  await nginx?.stop();
  await gw?.stop();
  if (s) await s.stop();
});

const api = async (headers) => {
  const r = await fetch(`${nginx.url}/api/containers`, { headers });
  return { status: r.status, names: r.status === 200 ? (await r.json()).containers.map((c) => c.name) : null };
};

test('through the proxy each user sees only their containers in /api/containers', async () => {
  assert.deepEqual(await api(ALICE), { status: 200, names: [web.name] });
  assert.deepEqual(await api(BOB), { status: 200, names: [db.name] });
  // The client's own Remote-User never reaches the gateway: nginx sets the header.
  assert.deepEqual(await api({ ...ALICE, 'Remote-User': 'bob' }), { status: 200, names: [web.name] });
  assert.equal((await api({})).status, 401, 'nginx asks for credentials');
  // dave passes nginx but has no user line: refused by the gateway, not prompted for a token.
  assert.equal((await api({ Authorization: basic('dave', 'dave-pw') })).status, 403);
  assert.match(gw.log(), /reason=unknown_user user="?dave/);
});

test('list and subscribe over the WebSocket through the proxy follow the user\'s globs', async () => {
  const ws = `ws://127.0.0.1:${nginx.port}/ws`;
  const cl = await Client.open(ws, { headers: ALICE, origin: nginx.url });
  cl.send({ op: 'list' });
  await cl.until(() => cl.of('containers').length === 1);
  assert.deepEqual(cl.of('containers')[0].containers.map((c) => c.name), [web.name]);
  cl.subscribe('d', s.ref(db.name), { replay: 10 });
  await cl.until(() => cl.of('error', 'd').length === 1);
  assert.equal(cl.of('error', 'd')[0].code, 'forbidden');
  cl.subscribe('w', s.ref(web.name), { replay: 10 });
  await cl.untilLines('w', 10);
  cl.subscribe('all', '*', { replay: 10 });
  await cl.until(() => cl.of('replayed', 'all').length >= 1);
  assert.deepEqual([...new Set(cl.lines('all').map((l) => l.container))], [s.ref(web.name)]);
  assert.equal(cl.lines('all').length, 10);
  await cl.close();

  const bob = await Client.open(ws, { headers: BOB, origin: nginx.url });
  bob.subscribe('all', '*', { replay: 10 });
  await bob.until(() => bob.of('replayed', 'all').length >= 1);
  assert.deepEqual([...new Set(bob.lines('all').map((l) => l.container))], [s.ref(db.name)]);
  await bob.close();
  await assert.rejects(Client.open(ws, { headers: { Authorization: basic('dave', 'dave-pw') } }), /403/);
  await assert.rejects(Client.open(ws), /401/);
});

test('the user header from an address outside --trusted-proxies is refused and logged', async () => {
  const direct = `ws://127.0.0.1:${gw.port}/ws`;
  await assert.rejects(Client.open(direct, { headers: { 'Remote-User': 'alice' } }), /403/);
  await assert.rejects(Client.open(`${direct}?token=tok-all`, { headers: { 'remote-user': 'alice' } }), /403/,
    'a valid token does not excuse a forged user header');
  for (const p of ['/api/containers', '/', '/healthz']) {
    const r = await request(gw.port, [`GET ${p} HTTP/1.1`, 'Host: 127.0.0.1', 'REMOTE-USER: alice', 'Connection: close']);
    assert.equal(r.status, 403, p);
  }
  const log = gw.log();
  assert.match(log, /request refused.*reason=proxy_header_untrusted peer=127\.0\.0\.1/);
  assert.doesNotMatch(log, /tok-all/);
  // Without the header a direct client is judged by its token as before.
  const ok = await Client.open(`${direct}?token=tok-all`);
  await ok.close();
  const r = await request(gw.port, ['GET /api/containers HTTP/1.1', 'Host: 127.0.0.1', 'Authorization: Bearer tok-all',
    'Connection: close']);
  assert.equal(r.status, 200);
  assert.ok(JSON.parse(r.body).containers.length >= 2);
});

test('an empty user header from the proxy names nobody: the token decides', async () => {
  const tokens = path.join(s.dir, 'tokens');
  const g = await gateway(s, ['--auth-tokens', tokens, '--auth-proxy-header', 'Remote-User', '--trusted-proxies', '127.0.0.1']);
  try {
    const req = (extra) => request(g.port, ['GET /api/containers HTTP/1.1', 'Host: 127.0.0.1', 'Remote-User:',
      'Connection: close', ...extra]);
    assert.equal((await req([])).status, 401);
    assert.equal((await req(['Authorization: Bearer tok-all'])).status, 200);
    const named = await request(g.port, ['GET /api/containers HTTP/1.1', 'Host: 127.0.0.1', 'Remote-User: bob',
      'Authorization: Bearer tok-all', 'Connection: close']);
    assert.deepEqual(JSON.parse(named.body).containers.map((c) => c.name), [db.name], 'a named user wins over a token');
  } finally {
    await g.stop();
  }
});

test('IPv6: the header counts from a trusted ::1 and is refused from an untrusted one', async () => {
  const tokens = path.join(s.dir, 'tokens');
  const req = (g, user) => request(g.port, ['GET /api/containers HTTP/1.1', `Host: [::1]:${g.port}`,
    `Remote-User: ${user}`, 'Connection: close'], { host: '::1' });
  for (const [trusted, want] of [['::1/128', 200], ['fd00::/8,127.0.0.1', 403]]) {
    const port = await freePortV6();
    const g = await gateway(s, ['--auth-tokens', tokens, '--auth-proxy-header', 'Remote-User', '--trusted-proxies', trusted],
      { port, listen: `[::1]:${port}`, host: '::1' });
    try {
      const r = await req(g, 'alice');
      assert.equal(r.status, want, `trusted ${trusted}`);
      if (want === 200) assert.deepEqual(JSON.parse(r.body).containers.map((c) => c.name), [web.name]);
      else assert.match(g.log(), /reason=proxy_header_untrusted peer=::1/);
    } finally {
      await g.stop();
    }
  }
});

test('the proxy options are checked at start', async () => {
  const tokens = path.join(s.dir, 'tokens');
  const cases = [
    [['--auth-proxy-header', 'Remote-User'], /go together/],
    [['--auth-proxy-header', 'Remote-User', '--trusted-proxies', '127.0.0.3'], /needs --auth-tokens/],
    [['--auth-tokens', tokens, '--auth-proxy-header', 'Remote-User', '--trusted-proxies', '127.0.0.300'], /127\.0\.0\.300/],
    [['--auth-tokens', tokens, '--auth-proxy-header', 'Bad Header', '--trusted-proxies', '::1'], /not a header name/],
  ];
  for (const [args, want] of cases) {
    const r = await gateway(s, args, { expectExit: true });
    assert.notEqual(r.code, 0, args.join(' '));
    assert.match(r.log, want);
  }
});
