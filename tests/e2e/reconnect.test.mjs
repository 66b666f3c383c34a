// Acceptance: the gateway is restarted while the page is open; the page reconnects on
// its own, resumes each subscription after the last seq it saw, and the line_nos it
// holds are contiguous (nothing missed, nothing doubled).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sleep } from '../lib/harness.mjs';
import { openBrowser, stats, snapshot, contiguity, visibleRows, until, screenshot } from './lib.mjs';

let s;
let b;

before(async () => {
  s = await Stack.start({ publisher: true, gateway: true });
  b = await openBrowser();
});

after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

for (const signal of ['SIGTERM', 'SIGKILL']) {
  test(`gateway restart (${signal}) while the page is open: reconnect, contiguous line_nos`, async () => {
    const { page, errors } = b;
    const a = await s.run(`tick-${signal.toLowerCase()}`, 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.01; done');
    const c2 = await s.run(`tock-${signal.toLowerCase()}`, 'i=0; while true; do i=$((i+1)); echo "tock $i" >&2; sleep 0.03; done');
    const keys = [s.ref(a.name), s.ref(c2.name)];
    await sleep(1000);
    await page.goto(`${s.gatewayUrl}/?${keys.map((k) => 'c=' + encodeURIComponent(k)).join('&')}`);
    await until(async () => (await stats(page)).buffered >= 100, 20000, 'lines before the restart');
    await sleep(1000);
    const before1 = await stats(page);
    const maxBefore = Math.max(...(await snapshot(page)).map((r) => r.seq || 0));

    await s.stopGateway(signal);
    await until(() => page.evaluate(() => !window.__logjet.stats.connected), 10000, 'page sees the disconnect');
    const status = await page.textContent('#conn-text');
    assert.match(status, /offline|reconnect|connecting/, `status shows the outage: ${status}`);
    await screenshot(page, `ui-disconnected-${signal}.png`);
    await sleep(3000); // lines keep flowing into JetStream meanwhile
    await s.startGateway();
    await until(async () => (await stats(page)).reconnects >= before1.reconnects + 1 && (await stats(page)).connected,
      30000, 'page reconnected by itself');
    assert.match(await page.textContent('#conn-text'), /live/);
    // the outage's lines arrive (resume with after_seq), then live ones
    await until(async () => {
      const snap = await snapshot(page);
      return snap.filter((r) => r.seq > maxBefore).length > 300;
    }, 20000, 'lines from the outage and after');
    await sleep(1000);
    const snap = await snapshot(page);
    for (const k of keys) {
      const c = contiguity(snap, k);
      assert.deepEqual(c.problems, [], `${k}: line_nos contiguous (${c.first}..${c.last}, ${c.count} lines)`);
      assert.equal(c.count, c.last - c.first + 1, `${k}: no line doubled`);
      console.log(`${k}: ${c.count} lines, line_no ${c.first}..${c.last}, contiguous`);
    }
    const seqs = snap.filter((r) => !r.gap).map((r) => r.seq);
    assert.equal(new Set(seqs).size, seqs.length, 'no seq twice');
    assert.equal(snap.filter((r) => r.gap).length, 0, 'no gap');
    // what is on screen is contiguous too (the newest rows)
    const vis = (await visibleRows(page)).filter((r) => r.c === keys[0]);
    for (let i = 1; i < vis.length; i++) assert.equal(vis[i].ln, vis[i - 1].ln + 1, 'rows on screen contiguous');
    const st = await stats(page);
    console.log(`reconnects=${st.reconnects} received=${st.received} duplicates dropped=${st.duplicates}`);
    assert.deepEqual(errors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED|api\/containers/.test(e)), []);
    await s.docker(['rm', '-f', a.name, c2.name]);
  });
}

test('more lines than the store keeps while the gateway is away: one exact gap marker; fetching it finds none', async () => {
  const { page } = b;
  const c = await s.run('burst', 'i=0; while true; do i=$((i+1)); echo "slow $i"; sleep 1; done');
  const key = s.ref(c.name);
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(key)}`);
  await until(async () => (await snapshot(page)).some((r) => r.c === key && r.ln >= 2), 20000, 'first lines');
  await s.stopGateway('SIGTERM');
  await until(() => page.evaluate(() => !window.__logjet.stats.connected), 10000, 'page sees the disconnect');
  const seenBefore = Math.max(...(await snapshot(page)).filter((r) => r.c === key && !r.gap).map((r) => r.ln));
  // 1500 lines at once into the container's stdout: more than the 1000 the store keeps
  assert.equal((await s.docker(['exec', c.name, 'sh', '-c',
    'i=0; while [ $i -lt 1500 ]; do i=$((i+1)); echo "burst $i"; done > /proc/1/fd/1'])).code, 0);
  // The container keeps printing "slow N" once a second, so the burst's last line is
  // soon not the newest record: look for it among them, not at the end.
  await until(async () => (await s.records(c.name)).some((r) => r.line.toString() === 'burst 1500'),
    30000, 'the burst stored');
  await s.startGateway();
  await until(async () => (await stats(page)).connected && (await snapshot(page)).some((r) => r.line === 'burst 1500'),
    30000, 'page resumed after the outage');
  const snap = await snapshot(page);
  const gaps = snap.filter((r) => r.gap && r.c === key);
  const lines = snap.filter((r) => !r.gap && r.c === key && r.seq > 0).sort((x, y) => x.seq - y.seq);
  const firstAfter = lines.find((r) => r.ln > seenBefore);
  assert.equal(gaps.length, 1, `one gap marker: ${JSON.stringify(gaps)}`);
  assert.equal(gaps[0].lost, firstAfter.ln - seenBefore - 1, 'the gap counts exactly the lines no longer kept');
  assert.ok(gaps[0].lost > 0);
  // "Fetch missing lines": the store has none of them any more; no second marker appears.
  // A search for the slow lines leaves few rows, so the marker (always shown) is on screen.
  await page.fill('#q', 'slow');
  await page.press('#q', 'Enter');
  const btn = page.locator('.row.gap button[data-act="fetch"]');
  await btn.waitFor({ timeout: 10000 });
  await btn.click();
  await until(async () => (await snapshot(page)).some((r) => r.gap && r.c === key && r.done), 15000, 'the fill finished');
  const after2 = (await snapshot(page)).filter((r) => r.gap && r.c === key);
  assert.equal(after2.length, 1, 'still one gap marker');
  assert.equal(after2[0].got, 0);
  assert.match(await page.textContent('.row.gap'), /none could be fetched/);
  await page.fill('#q', '');
  await page.press('#q', 'Enter');
  await s.docker(['rm', '-f', c.name]);
});
