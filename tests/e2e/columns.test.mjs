// Browser tests against the real stack: JSON lines expanded into their fields and fields
// shown as columns (kept in the URL; hostile keys and values stay text; large and nested
// values cut; lines that are not JSON leave the cells empty), checked against the lines
// as `docker logs` gives them; the volume chart coloured by container in a merged view,
// and brushing a time range on it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sleep } from '../lib/harness.mjs';
import { openBrowser, stats, snapshot, screenshot, until } from './lib.mjs';

let s;
let b;
let js;
let fast;
let slow;
const BIG = 'x'.repeat(4000);
const HOSTILE_KEY = '<img src=x onerror=alert(1)>';
const HOSTILE = JSON.stringify({ [HOSTILE_KEY]: '<script>alert(2)</script>', req: { id: '<b>x</b>', ms: -1 }, msg: 'hostile' });
const EXTRA = [
  HOSTILE,
  JSON.stringify({ req: { id: 'big', ms: 0 }, msg: 'big', blob: BIG }),
  JSON.stringify({ req: { id: 'deep', ms: 1 }, msg: 'deep', a: { b: { c: { d: { e: { f: 1 } } } } } }),
  JSON.stringify({ req: 'not an object', msg: 'flat' }),
  '{ this is not json }',
];
const q = (l) => `'${l.replace(/'/g, "'\\''")}'`;

before(async () => {
  s = await Stack.start({ publisher: true, gateway: true });
  // the odd lines, 300 lines (one in four not JSON), then one a second (the odd ones first:
  // the rows at the bottom, where the keyboard walk tabs into, are all of one shape)
  const jline = '"{\\"level\\":\\"info\\",\\"req\\":{\\"id\\":\\"r$i\\",\\"ms\\":$((i*7))},\\"msg\\":\\"m $i\\",\\"tags\\":[\\"a\\",$i]}"';
  const one = `if [ $((i % 4)) -eq 0 ]; then echo "plain line $i"; else echo ${jline}; fi`;
  js = await s.run('json', `for l in ${EXTRA.map(q).join(' ')}; do echo "$l"; done; ` +
    `i=0; while [ $i -lt 300 ]; do i=$((i+1)); ${one}; done; ` +
    `while true; do sleep 1; i=$((i+1)); ${one}; done`);
  // two containers at different rates, for the chart by container
  fast = await s.run('chart-fast', 'i=0; while true; do for k in 1 2 3 4 5 6 7 8; do i=$((i+1)); echo "fast $i"; done; sleep 0.2; done');
  slow = await s.run('chart-slow', 'i=0; while true; do i=$((i+1)); echo "level=error slow $i"; sleep 0.5; done');
  b = await openBrowser();
});

after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

/** The rows in the DOM: raw text, cells' rendered text and left edge, row box. */
const cellRows = (page) => page.evaluate(() => {
  const vp = document.getElementById('viewport').getBoundingClientRect();
  return [...document.querySelectorAll('#layer .row[data-seq]')].filter((r) => {
    const bb = r.getBoundingClientRect();
    return bb.bottom > vp.top + 1 && bb.top < vp.bottom - 1;
  }).map((r) => ({
    tx: r.querySelector('.tx').textContent,
    cells: [...r.querySelectorAll('.fc')].map((c) => ({ text: c.innerText, title: c.title, left: c.getBoundingClientRect().left, w: c.getBoundingClientRect().width, sw: c.scrollWidth, cw: c.clientWidth })),
  }));
});

/** What a column should show for a raw line (an independent reading of the line). */
function expected(raw, path) {
  let j;
  try { j = JSON.parse(raw); } catch (_) { return ''; }
  if (!j || typeof j !== 'object') return '';
  let v = j;
  for (const w of path.split('.')) v = v && typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, w) ? v[w] : undefined;
  if (v === undefined) return '';
  const t = typeof v === 'string' ? v : JSON.stringify(v);
  return t.length > 120 ? t.slice(0, 119) + '…' : t;
}

test('JSON lines: expand a line into its fields, choose two as columns; the columns show each line\'s values and survive a reload', async () => {
  const { page, errors, dialogs } = b;
  const key = s.ref(js.name);
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(key)}`);
  await until(async () => (await snapshot(page)).some((r) => r.line === 'plain line 300'), 30000, 'the first lines');
  // expand a plain JSON line (the newest one on screen)
  const seq = await page.evaluate(() => {
    const rs = [...document.querySelectorAll('#layer .row[data-seq]')].filter((r) => r.querySelector('.jt') && r.querySelector('.tx').textContent.includes('"r'));
    return Number(rs[rs.length - 1].dataset.seq);
  });
  const row = `#layer .row[data-seq="${seq}"]`;
  await page.click(`${row} .jt`);
  await page.waitForSelector(`${row} .fields`, { timeout: 3000 });
  const table = await page.evaluate((sel) => [...document.querySelectorAll(`${sel} .fields .fr`)].map((r) => [r.querySelector('.fk').innerText, r.querySelector('.fv').innerText]), row);
  const raw = await page.evaluate((sel) => document.querySelector(`${sel} .tx`).textContent, row);
  const j = JSON.parse(raw);
  assert.deepEqual(table, [['level', 'info'], ['req.id', j.req.id], ['req.ms', String(j.req.ms)], ['msg', j.msg], ['tags', JSON.stringify(j.tags)]]);
  assert.equal(await page.getAttribute(`${row} .jt`, 'aria-expanded'), 'true');
  await screenshot(page, 'ui-json-fields-light.png');
  // two fields as columns
  await page.click(`${row} .fcol[data-path="req.id"]`);
  await page.click(`${row} .fcol[data-path="req.ms"]`);
  await until(() => /col=req.id&col=req.ms/.test(page.url()), 3000, 'columns in the URL');
  assert.deepEqual(await page.evaluate(() => [...document.querySelectorAll('#cols .chip.col')].map((c) => c.firstChild.textContent)), ['req.id', 'req.ms']);
  assert.equal(await page.getAttribute(`${row} .fcol[data-path="req.id"]`, 'aria-pressed'), 'true');
  await page.click(`${row} .jt`); // folded again
  await page.keyboard.press('End');
  await sleep(1500); // (a live line or two, and the widths)
  const check = async (what) => {
    const rows = await cellRows(page);
    const logs = new Set((await s.dockerLogs(js.name)).stdout.toString('utf8').split('\n'));
    assert.ok(rows.length > 20, `${what}: rows on screen ${rows.length}`);
    let json = 0;
    let plain = 0;
    const lefts = [new Set(), new Set()];
    for (const r of rows) {
      assert.ok(logs.has(r.tx), `${what}: a line docker logs has: ${r.tx.slice(0, 80)}`);
      assert.equal(r.cells.length, 2, `${what}: two cells in every row`);
      assert.equal(r.cells[0].text, expected(r.tx, 'req.id'), `${what}: req.id of ${r.tx.slice(0, 80)}`);
      assert.equal(r.cells[1].text, expected(r.tx, 'req.ms'), `${what}: req.ms of ${r.tx.slice(0, 80)}`);
      if (r.cells[0].text) json++; else plain++;
      r.cells.forEach((c, i) => { lefts[i].add(Math.round(c.left)); assert.ok(c.sw <= c.cw, `${what}: the cell ${c.text} is not clipped`); });
    }
    assert.ok(json > 10 && plain > 3, `${what}: JSON lines ${json} and other lines ${plain} (empty cells)`);
    assert.deepEqual(lefts.map((l) => l.size), [1, 1], `${what}: the columns are aligned: ${lefts.map((l) => [...l])}`);
    // the header names each column, over it
    const head = await page.evaluate(() => [...document.querySelectorAll('#colhead .fh')].map((h) => ({ text: h.innerText, left: h.getBoundingClientRect().left, w: h.getBoundingClientRect().width, sw: h.scrollWidth, cw: h.clientWidth })));
    for (const h of head) assert.ok(h.sw <= h.cw, `${what}: the header's ${h.text} is not clipped (${h.sw} > ${h.cw})`);
    assert.deepEqual(head.map((h) => h.text), ['req.id', 'req.ms'], `${what}: the header`);
    head.forEach((h, i) => assert.ok(Math.abs(h.left - [...lefts[i]][0]) < 1 && Math.abs(h.w - rows[0].cells[i].w) < 1,
      `${what}: the header's ${h.text} (${h.left}, ${h.w} px) over its column (${[...lefts[i]][0]}, ${rows[0].cells[i].w} px)`));
    return rows;
  };
  await check('live');
  await screenshot(page, 'ui-json-columns-light.png');
  // the address alone gives the same columns
  const url = page.url();
  await page.goto(url);
  await until(async () => (await snapshot(page)).length > 300, 20000, 'the replay after the reload');
  await sleep(1500);
  await check('after the reload');
  assert.deepEqual(await page.evaluate(() => window.__logjet.state.cols), ['req.id', 'req.ms']);

  // hostile keys and values stay text; big and nested values are cut, not spread
  await page.fill('#q', 'hostile');
  await page.press('#q', 'Enter');
  await until(async () => (await cellRows(page)).length === 1, 10000, 'the hostile line alone');
  await page.click('#layer .row[data-seq] .jt');
  await page.waitForSelector('#layer .row .fields');
  const h = await page.evaluate(() => ({
    keys: [...document.querySelectorAll('#layer .fields .fk')].map((e) => e.textContent),
    vals: [...document.querySelectorAll('#layer .fields .fv')].map((e) => e.textContent),
    cell: document.querySelector('#layer .row .fc').textContent,
    markup: document.querySelectorAll('#layer img, #layer script, #layer .fc b, #layer .fields b').length,
  }));
  assert.deepEqual(h.keys, [HOSTILE_KEY, 'req.id', 'req.ms', 'msg']);
  assert.equal(h.vals[0], '<script>alert(2)</script>');
  assert.equal(h.cell, '<b>x</b>');
  assert.equal(h.markup, 0, 'no element made of line data');
  // a column of the big value and one of a nested object
  await page.fill('#q', '"(big|deep|flat)"');
  await page.click('#re');
  await until(async () => (await cellRows(page)).length === 3, 10000, 'the big, deep and flat lines');
  await page.goto(page.url() + '&col=blob&col=a');
  await until(async () => (await cellRows(page)).length === 3, 15000, 'the three lines after the reload');
  await sleep(1200);
  const odd = await cellRows(page);
  const by = Object.fromEntries(odd.map((r) => [JSON.parse(r.tx).msg, r.cells]));
  assert.equal(by.big[2].text.length, 120, 'a 4000-character value is cut in the cell');
  assert.ok(by.big[2].text.endsWith('…'));
  assert.ok(by.big[2].w > 200 && by.big[2].w < 60 * 8, `and its column is as wide as the widest allowed: ${by.big[2].w} px`);
  assert.ok(by.deep[3].w > 200, `the nested value's column is as wide as its value: ${by.deep[3].w} px`);
  assert.ok(by.big[2].title.length > 1000 && by.big[2].title.length < 2100, 'the title holds more of it');
  assert.equal(by.deep[3].text, '{"b":{"c":{"d":{"e":{"f":1}}}}}', 'a nested object as compact JSON');
  assert.deepEqual(by.flat.map((c) => c.text), ['', '', '', ''], 'req is a string in this line: no req.id, no req.ms');
  assert.equal(by.deep[0].text, 'deep');
  await screenshot(page, 'ui-json-odd-light.png');
  // a column removed from its chip leaves the URL
  await page.click('#cols .chip.col[data-col="2"] .x');
  await until(() => !/col=blob/.test(page.url()), 3000, 'blob column removed');
  assert.match(page.url(), /col=req.id&col=req.ms&col=a/);
  assert.deepEqual(dialogs, [], 'no alert ran');
  assert.deepEqual(errors, []);
});

const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));

test('chart: coloured by container in a merged view; a drag filters to its range, Esc clears it', async () => {
  const { page, errors } = b;
  const glob = s.ref(s.prefix + 'chart-*');
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(glob)}`);
  await until(async () => {
    const snap = await snapshot(page);
    return snap.filter((r) => r.c === s.ref(slow.name)).length >= 16;
  }, 30000, 'eight seconds of both containers');
  await page.keyboard.press('Space'); // paused: the store stops changing
  await sleep(900);
  const got = await page.evaluate(() => {
    const L = window.__logjet;
    const ch = L.chart;
    const m = ch.model;
    const want = m.buckets.map(() => ({}));
    for (const r of L.snapshot()) {
      if (r.gap) continue;
      const i = Math.floor((Math.floor(r.ts / 1000) * 1e6 - m.from) / m.width);
      want[i][r.c] = (want[i][r.c] || 0) + 1;
    }
    // the bottom pixel of a bucket holding both: the first container's colour (stacks are in name order)
    const i = m.buckets.findIndex((b, k) => k > 0 && b.byC.size === 2);
    const c = document.getElementById('chart');
    const x = Math.round((ch.xOf(i) - c.getBoundingClientRect().left) * (c.width / c.clientWidth));
    const px = [...c.getContext('2d').getImageData(x, c.height - 2, 1, 1).data];
    const names = [...m.buckets[i].byC.keys()].sort();
    return {
      byC: m.byC, upToDate: ch.drawnVersion === L.store.version, label: c.getAttribute('aria-label'),
      got: m.buckets.map((b) => Object.fromEntries([...b.byC].sort())), want: want.map((o) => Object.fromEntries(Object.entries(o).sort())),
      px, colour: ch.o.colour(names[0]), rowColour: getComputedStyle(document.querySelector(`#layer .row[data-container="${CSS.escape(names[0])}"] .cn`)).color,
    };
  });
  assert.ok(got.byC && got.upToDate, `by container, of what is held: ${got.label}`);
  assert.match(got.label, /by container/);
  assert.deepEqual(got.got, got.want, 'each bucket\'s stacks are the lines held per container');
  assert.deepEqual(got.px.slice(0, 3), hex(got.colour), `the bottom of the bar is in the container's colour ${got.colour}`);
  assert.equal(got.rowColour, `rgb(${hex(got.colour).join(', ')})`, 'the colour its rows carry');
  await screenshot(page, 'ui-chart-merged-light.png');

  // a drag from the second bucket to the one before the last: only those times are shown
  const drag = await page.evaluate(() => {
    const ch = window.__logjet.chart;
    const n = ch.model.buckets.length;
    const r = document.getElementById('chart').getBoundingClientRect();
    return { x0: ch.xOf(1), x1: ch.xOf(n - 2), y: r.top + r.height / 2, from: ch.model.buckets[1].t, to: ch.model.buckets[n - 2].t + ch.model.width, n };
  });
  assert.ok(drag.n >= 5, `buckets ${drag.n}`);
  await page.mouse.move(drag.x0, drag.y);
  await page.mouse.down();
  await page.mouse.move((drag.x0 + drag.x1) / 2, drag.y, { steps: 4 });
  await page.mouse.move(drag.x1, drag.y, { steps: 4 });
  await page.mouse.up();
  await until(() => page.evaluate(() => !!window.__logjet.state.range), 3000, 'a range');
  const range = await page.evaluate(() => window.__logjet.state.range);
  assert.deepEqual(range, [drag.from, drag.to], 'the range of the buckets dragged over');
  await until(() => page.evaluate(() => !window.__logjet.store.rf), 5000, 'filtered');
  const f = await page.evaluate(([a, z]) => {
    const L = window.__logjet;
    const inRange = L.snapshot().filter((r) => !r.gap && r.ts * 1000 >= a && r.ts * 1000 < z).length;
    const rows = L.store.rows.toArray();
    return { inRange, rows: rows.length, outside: rows.filter((r) => r.k < a || r.k >= z).length, chip: document.getElementById('range').innerText, hidden: document.getElementById('range').hidden };
  }, range);
  assert.equal(f.outside, 0, 'no row outside the range');
  assert.equal(f.rows, f.inRange, `every line held in the range is shown (${f.rows})`);
  assert.ok(f.rows > 0 && !f.hidden && /^time /.test(f.chip), `the range chip: ${f.chip}`);
  assert.match(page.url(), /range=/);
  await screenshot(page, 'ui-chart-brush-light.png');
  // the address keeps it
  await page.goto(page.url());
  await until(() => page.evaluate(() => !!window.__logjet.state.range && window.__logjet.store.rows.length > 0), 15000, 'the range after a reload');
  assert.equal(await page.evaluate(([a, z]) => window.__logjet.store.rows.toArray().filter((r) => r.k < a || r.k >= z).length, range), 0);
  // Esc: every time again
  await page.keyboard.press('Escape');
  await until(() => page.evaluate(() => !window.__logjet.state.range), 3000, 'range cleared');
  assert.doesNotMatch(page.url(), /range=/);
  assert.equal(await page.evaluate(() => document.getElementById('range').hidden), true);
  await until(async () => (await stats(page)).rows === (await stats(page)).buffered, 5000, 'all rows again');
  // the chart can be hidden, and the address says so
  await page.click('#chart-tog');
  assert.equal(await page.evaluate(() => document.getElementById('chart').getBoundingClientRect().height), 0);
  assert.match(page.url(), /chart=0/);
  await page.click('#chart-tog');
  assert.doesNotMatch(page.url(), /chart=0/);
  assert.deepEqual(errors, []);
});

test('keyboard only: picker, search with regex and context, n / N, pause, End, a JSON field as a column, clear, help', async () => {
  const kb = await openBrowser({ viewport: { width: 1280, height: 600 } });
  try {
    const { page, errors } = kb;
    // any mouse event the page sees fails the walk
    await page.addInitScript(() => {
      window.__mouse = [];
      for (const t of ['pointerdown', 'mousedown', 'mouseup', 'wheel']) window.addEventListener(t, (e) => window.__mouse.push(t + ' ' + e.target.id), true);
      window.addEventListener('click', (e) => { if (e.detail > 0) window.__mouse.push('click ' + e.target.id); }, true);
    });
    const key = s.ref(js.name);
    await page.goto(`${s.gatewayUrl}/`);
    await page.waitForSelector(`#clist .citem[data-key="${key}"]`, { timeout: 20000 });
    const active = () => page.evaluate(() => { const e = document.activeElement; return e.id || e.dataset.key || e.className || e.tagName; });
    const press = async (k, n = 1) => { for (let i = 0; i < n; i++) await page.keyboard.press(k); };
    assert.equal(await active(), 'viewport', 'the lines have the focus from the start');
    // container picker
    await press('c');
    assert.equal(await active(), 'cfilter');
    await page.keyboard.type('json');
    await press('ArrowDown');
    assert.equal(await active(), key);
    await press('Enter');
    assert.deepEqual(await page.evaluate(() => window.__logjet.state.containers), [key]);
    await press('Escape');
    assert.equal(await active(), 'viewport');
    await until(async () => (await stats(page)).buffered >= 305, 20000, 'the lines');
    // search: type, Tab to the regex toggle, Space; Tab to context, Enter; Esc back to the lines
    await press('/');
    assert.equal(await active(), 'q');
    await page.keyboard.type('"m (5|15|25)[0-9]"');
    await press('Tab', 2);
    assert.equal(await active(), 're');
    await press('Space');
    assert.equal(await page.getAttribute('#re', 'aria-pressed'), 'true');
    await press('Tab');
    assert.equal(await active(), 'ctx');
    await press('Enter');
    assert.equal(await page.evaluate(() => window.__logjet.state.ctx), 2);
    await press('Escape');
    assert.equal(await active(), 'viewport');
    // (the rows shown, all of them: the list is virtual, only those near the view are in the DOM)
    const texts = () => page.evaluate(() => window.__logjet.store.rows.toArray().map((r) => {
      if (r.sep) return '--';
      try { return JSON.parse(r.line).msg; } catch (_) { return r.line; }
    }));
    // grep -C 2: 48 .. 61 (52, 56 and 60 are not JSON: context lines)
    const group = (m) => Array.from({ length: 14 }, (_, i) => (((m - 2 + i) % 4) ? `m ${m - 2 + i}` : `plain line ${m - 2 + i}`));
    const want = [...group(50), '--', ...group(150), '--', ...group(250)];
    await until(async () => JSON.stringify(await texts()) === JSON.stringify(want), 10000, 'context groups').catch(() => {});
    assert.deepEqual(await texts(), want);
    // n / N
    const topRow = () => page.evaluate(() => {
      const vp = document.getElementById('viewport').getBoundingClientRect();
      const r = [...document.querySelectorAll('#layer .row')].find((e) => e.getBoundingClientRect().top >= vp.top - 1);
      return r.querySelector('.tx') ? r.querySelector('.tx').textContent : '--';
    });
    await press('Home');
    await press('n');
    await until(async () => (await topRow()).includes('"m 50"'), 3000, 'n: the first match on top');
    await press('n');
    await until(async () => (await topRow()).includes('"m 51"'), 3000, 'n: the next match');
    await press('N');
    await until(async () => (await topRow()).includes('"m 50"'), 3000, 'N: the previous match');
    // the search cleared from the keyboard
    await press('/');
    await press('Backspace');
    await press('Enter');
    await press('Escape');
    await until(async () => (await stats(page)).rows === (await stats(page)).buffered, 10000, 'every line again');
    // pause, resume, jump to the end
    await press('Space');
    assert.equal(await page.evaluate(() => window.__logjet.api.paused), true);
    await until(async () => (await page.innerText('#pause')).startsWith('Resume'), 3000, 'the button says so');
    await press('Space');
    assert.equal(await page.evaluate(() => window.__logjet.api.paused), false);
    await press('End');
    assert.equal(await page.evaluate(() => window.__logjet.api.follow), true);
    // Tab into the lines: the first JSON line's { }, Enter lists its fields; Tab to req.id's button, Enter
    await press('Tab');
    assert.equal(await active(), 'jt');
    await press('Enter');
    await until(() => page.evaluate(() => document.activeElement.getAttribute('aria-expanded') === 'true'), 3000, 'expanded, the focus kept');
    await press('Tab', 2);
    assert.equal(await page.evaluate(() => document.activeElement.dataset.path), 'req.id');
    await press('Enter');
    await until(() => /col=req.id/.test(page.url()), 3000, 'the column in the URL');
    await until(() => page.evaluate(() => document.activeElement.dataset.path === 'req.id' && document.activeElement.getAttribute('aria-pressed') === 'true'), 3000, 'the focus back on its button');
    const cells = await page.evaluate(() => [...document.querySelectorAll('#layer .row[data-seq] .fc')].map((c) => c.innerText).filter(Boolean));
    assert.ok(cells.length > 10 && cells.every((t) => /^r\d+$/.test(t) || /^<b>x<\/b>$|^big$|^deep$/.test(t)), `req.id cells: ${cells.slice(0, 5)}`);
    await press('Escape');
    assert.equal(await active(), 'viewport');
    // clear, help
    const before = (await stats(page)).buffered;
    await press('x');
    assert.ok((await stats(page)).buffered < before, 'x cleared the screen');
    await press('?');
    assert.ok(await page.evaluate(() => document.getElementById('help-dlg').open));
    const help = await page.innerText('#help-dlg');
    for (const w of ['search', 'pause', 'newest line', 'next / previous search match', 'container picker', 'clear the screen', 'this help', 'column']) assert.ok(help.includes(w), `help mentions ${w}`);
    await press('Escape');
    assert.equal(await page.evaluate(() => !!document.querySelector('dialog[open]')), false);
    assert.equal(await active(), 'viewport');
    assert.deepEqual(await page.evaluate(() => window.__mouse), [], 'no mouse event reached the page');
    assert.deepEqual(errors, []);
  } finally {
    await kb.close();
  }
});
