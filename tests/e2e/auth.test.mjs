// The token prompt: a gateway started with --auth-tokens refuses the page until it has a
// token; the page asks for one, keeps it in localStorage and sends it as ?token=.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Stack } from '../lib/harness.mjs';
import { openBrowser, stats, visibleRows, until, screenshot } from './lib.mjs';

let s;
let b;
let dir;

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'logjet-e2e-auth-'));
  const file = path.join(dir, 'tokens');
  fs.writeFileSync(file, '# e2e\ns3cret-all */*\nnarrow-token */nothing-matches-*\n');
  s = await Stack.start({ publisher: true, gateway: true, gatewayArgs: ['--auth-tokens', file] });
  b = await openBrowser();
});

after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

test('token prompt on 401, token kept and used', async () => {
  const { page, errors } = b;
  const c = await s.run('guarded', 'i=0; while true; do i=$((i+1)); echo "guarded $i"; sleep 0.1; done');
  const key = s.ref(c.name);
  assert.equal((await fetch(`${s.gatewayUrl}/api/containers`)).status, 401);
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(key)}`);
  await page.waitForSelector('#token-dlg[open]', { timeout: 15000 });
  await screenshot(page, 'ui-token-prompt-light.png');
  // a wrong token is refused and asked again
  await page.fill('#token-in', 'wrong');
  await page.click('#token-dlg button[value="ok"]');
  await page.waitForSelector('#token-dlg[open]', { timeout: 15000 });
  assert.match(await page.textContent('#token-err'), /refused/);
  await page.fill('#token-in', 's3cret-all');
  await page.click('#token-dlg button[value="ok"]');
  await until(async () => (await stats(page)).buffered > 5, 20000, 'lines with the token');
  assert.equal(await page.evaluate(() => localStorage.getItem('logjet_token')), 's3cret-all');
  assert.ok(!page.url().includes('s3cret'), 'the token is not put in the shareable URL');
  await page.waitForSelector(`#clist .citem[data-key="${key}"]`, { timeout: 10000 });
  assert.ok((await visibleRows(page)).some((r) => /^guarded \d+$/.test(r.text)));
  // a reload keeps working without asking again
  await page.reload();
  await until(async () => (await stats(page)).buffered > 5, 20000, 'lines after reload');
  assert.equal(await page.isVisible('#token-dlg'), false);
  assert.deepEqual(errors.filter((e) => !/401|Unauthorized|WebSocket/.test(e)), []);
});

test('a token given in the page URL leaves the address bar and never reaches the gateway log', async () => {
  const fresh = await openBrowser();
  try {
    const { page, errors } = fresh;
    const c = await s.run('urltoken', 'i=0; while true; do i=$((i+1)); echo "urltoken $i"; sleep 0.1; done');
    const key = s.ref(c.name);
    await page.goto(`${s.gatewayUrl}/?token=s3cret-all&c=${encodeURIComponent(key)}`);
    await until(async () => (await stats(page)).buffered > 5, 20000, 'lines with the URL token');
    assert.ok(!page.url().includes('s3cret'), `address bar: ${page.url()}`);
    assert.ok(page.url().includes('c='), 'the rest of the URL stays shareable');
    assert.equal(await page.evaluate(() => localStorage.getItem('logjet_token')), 's3cret-all');
    const log = fs.readFileSync(s.procs.gateway.logPath, 'utf8');
    assert.ok(!log.includes('s3cret'), 'token in the gateway log');
    assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused to/.test(e)), []);
  } finally {
    await fresh.close();
  }
});
