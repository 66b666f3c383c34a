// Single sign-on in a real browser: nginx authenticates the person (basic auth stands in
// for Authelia / oauth2-proxy) and sets Remote-User; the gateway, trusting only the
// proxy's address, shows each user only the containers of their `user` line. The page
// runs under the gateway's Content-Security-Policy without a violation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Stack } from '../lib/harness.mjs';
import { startNginx } from '../lib/nginx.mjs';
import { openBrowser, stats, visibleRows, until, screenshot } from './lib.mjs';

let s, nginx, web, db, tokens;

before(async () => {
  s = await Stack.start({ publisher: true, gateway: false });
  tokens = path.join(s.dir, 'tokens');
  fs.writeFileSync(tokens, `tok-admin *\nuser alice ${s.hostId}/${s.prefix}web-*\nuser bob ${s.hostId}/${s.prefix}db-*\n`);
  await s.startGateway(['--auth-tokens', tokens, '--auth-proxy-header', 'Remote-User', '--trusted-proxies', '127.0.0.3']);
  nginx = await startNginx(s.dir, s.ports.gateway, { alice: 'alice-pw', bob: 'bob-pw' });
  const loop = (tag) => `i=0; while true; do i=$((i+1)); echo "${tag} $i"; sleep 0.1; done`;
  web = await s.run('web-1', loop('web line'));
  db = await s.run('db-1', loop('db line'));
});

after(async () => {
  await nginx?.stop();
  if (s) await s.stop();
});

async function asUser(username, password, mine, other, tag) {
  const b = await openBrowser({ httpCredentials: { username, password } });
  try {
    const { page, errors } = b;
    const mineKey = s.ref(mine.name), otherKey = s.ref(other.name);
    await page.goto(`${nginx.url}/?c=${encodeURIComponent(mineKey)}`);
    await page.waitForSelector(`#clist .citem[data-key="${mineKey}"]`, { timeout: 20000 });
    await until(async () => (await stats(page)).buffered > 5, 20000, `${username}: lines of ${mine.name}`);
    assert.ok((await visibleRows(page)).some((r) => new RegExp(`^${tag} \\d+$`).test(r.text)));
    const keys = await page.$$eval('#clist .citem', (els) => els.map((e) => e.dataset.key));
    assert.deepEqual(keys, [mineKey], `${username} sees only ${mine.name}`);
    assert.ok(!keys.includes(otherKey));
    assert.equal(await page.isVisible('#token-dlg'), false, 'no token prompt behind the proxy');
    await screenshot(page, `ui-sso-${username}.png`);
    // Asking for the other container by URL shows nothing of it.
    await page.goto(`${nginx.url}/?c=${encodeURIComponent(otherKey)}`);
    await page.waitForSelector(`#clist .citem[data-key="${mineKey}"]`, { timeout: 20000 });
    await new Promise((r) => setTimeout(r, 1500));
    assert.ok(!(await visibleRows(page)).some((r) => r.c === otherKey), `${username} got lines of ${other.name}`);
    assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused to/.test(e)), [], 'CSP violations');
    assert.deepEqual(errors.filter((e) => !/forbidden|not allowed/i.test(e)), []);
  } finally {
    await b.close();
  }
}

test('alice sees web-1 only, bob db-1 only', async () => {
  await asUser('alice', 'alice-pw', web, db, 'web line');
  await asUser('bob', 'bob-pw', db, web, 'db line');
  assert.match(nginx.accessLog(), /alice/);
});
