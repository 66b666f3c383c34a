// Browser tests of the viewer's views against the real stack: the merged view of three
// containers sharing a long prefix (as the quick start's demo), read from the rendered
// text; context lines around search matches; the volume chart.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Stack, sleep } from '../lib/harness.mjs';
import { openBrowser, stats, snapshot, screenshot, until } from './lib.mjs';

let s;
let b;
const DEMO = ['logjet-demo-web', 'logjet-demo-api', 'logjet-demo-worker'];
const demo = {};
let other;
let ctxc;
let vol;
const MATCHES = new Set([10, 12, 30, 55, 65]);

before(async () => {
  s = await Stack.start({ publisher: true, gateway: true });
  for (const n of DEMO) {
    const word = n.slice(n.lastIndexOf('-') + 1);
    demo[n] = await s.run(n, `i=0; while true; do i=$((i+1)); echo "${word} request $i"; sleep 0.2; done`);
  }
  other = await s.run('other-service', 'while true; do echo other; sleep 1; done');
  // lines 1..60 at once, 61..70 later (live): MATCH in 10, 12 (groups that touch), 30, 55, 65
  const say = (from, to, pause) => `i=${from}; while [ $i -le ${to} ]; do case " ${[...MATCHES].join(' ')} " in *" $i "*) echo "line $i MATCH";; *) echo "line $i";; esac; i=$((i+1)); ${pause} done`;
  ctxc = await s.run('context', `${say(1, 60, '')}; sleep 20; ${say(61, 70, 'sleep 0.3;')}; while true; do sleep 1; done`);
  // 50 lines a second, four levels
  vol = await s.run('volume', 'i=0; while true; do for k in 1 2 3 4 5 6 7 8 9 10; do i=$((i+1)); case $((i % 7)) in ' +
    '0) echo "level=error msg=\\"v $i\\"";; 1|2) echo "level=warn msg=\\"v $i\\"";; 3) echo "level=debug msg=\\"v $i\\"";; *) echo "level=info msg=\\"v $i\\"";; esac; done; sleep 0.2; done');
  b = await openBrowser();
});

after(async () => {
  if (b) await b.close();
  if (s) await s.stop();
});

test('merged view: each row names its container readably; the sidebar ticks what the glob covers', async () => {
  const { page, errors } = b;
  const glob = s.ref(s.prefix + 'logjet-demo-*');
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(glob)}`);
  const keys = DEMO.map((n) => s.ref(demo[n].name));
  await until(async () => {
    const snap = await snapshot(page);
    return keys.every((k) => snap.some((r) => r.c === k));
  }, 30000, 'lines of the three containers');
  await sleep(1000);
  await screenshot(page, 'ui-merged-light.png');
  // What the rows show, read from the rendering: the label's text as laid out, whether the
  // column clips it, and whether its text's boxes lie inside the column's box.
  const rows = await page.evaluate(() => {
    const vp = document.getElementById('viewport').getBoundingClientRect();
    return [...document.querySelectorAll('#layer .row[data-container]')].filter((r) => {
      const bb = r.getBoundingClientRect();
      return bb.bottom > vp.top + 1 && bb.top < vp.bottom - 1;
    }).map((r) => {
      const cn = r.querySelector('.cn');
      const cl = cn.querySelector('.cl') || cn; // (the label's own box)
      const range = document.createRange();
      range.selectNodeContents(cl);
      const box = cn.getBoundingClientRect();
      const rects = [...range.getClientRects()];
      return {
        c: r.dataset.container, shown: cl.innerText, title: cn.title, sr: cn.querySelector('.sr') ? cn.querySelector('.sr').textContent : null,
        scrollW: cn.scrollWidth, clientW: cn.clientWidth,
        inside: rects.length > 0 && rects.every((q) => q.left >= box.left - 0.5 && q.right <= box.right + 0.5 && q.width > 0),
      };
    });
  });
  assert.ok(rows.length > 10, `rows on screen: ${rows.length}`);
  const labelOf = new Map();
  for (const r of rows) {
    assert.ok(r.scrollW <= r.clientW, `container column not clipped: ${JSON.stringify(r)}`);
    assert.ok(r.inside, `label drawn inside its column: ${JSON.stringify(r)}`);
    assert.equal(r.title, r.c, 'full name on hover');
    assert.equal(r.sr, r.c, 'full name in the accessible text');
    const word = r.c.slice(r.c.lastIndexOf('-') + 1);
    assert.ok(r.shown.includes(word), `the label "${r.shown}" shows what tells ${r.c} apart`);
    assert.ok(r.shown.length <= 12, `the shared prefix is elided: "${r.shown}"`);
    if (!labelOf.has(r.c)) labelOf.set(r.c, r.shown);
    assert.equal(labelOf.get(r.c), r.shown, 'one label per container');
  }
  assert.equal(new Set(labelOf.values()).size, labelOf.size, `labels distinct: ${[...labelOf.values()]}`);
  assert.ok(labelOf.size >= 2, `several containers on screen: ${[...labelOf.keys()]}`);

  // the sidebar: the glob's containers ticked and marked as covered by it, the other not
  await until(async () => (await page.$$('#clist .citem')).length >= 4, 10000, 'sidebar lists the containers');
  const side = await page.evaluate(() => ({
    items: [...document.querySelectorAll('#clist .citem')].map((i) => ({
      key: i.dataset.key, checked: i.querySelector('input').checked, via: !!i.querySelector('.via'),
      selected: i.getAttribute('aria-selected'), title: i.title,
      // the name's last word as laid out: inside the name's visible box?
      endShown: (() => {
        const name = i.querySelector('.name');
        const t = i.querySelector('.name bdi').firstChild;
        const range = document.createRange();
        range.setStart(t, t.length - (t.data.length - t.data.lastIndexOf('-')));
        range.setEnd(t, t.length);
        const box = name.getBoundingClientRect();
        const rs = [...range.getClientRects()];
        return rs.length > 0 && rs.every((q) => q.width > 0 && q.left >= box.left - 0.5 && q.right <= box.right + 0.5);
      })(),
    })),
    cover: [...document.querySelectorAll('#clist .cover')].map((e) => e.innerText),
  }));
  for (const k of keys) {
    const it = side.items.find((i) => i.key === k);
    assert.ok(it && it.checked && it.via && it.selected === 'true', `${k} ticked as covered by the glob: ${JSON.stringify(it)}`);
    assert.match(it.title, /shown by the glob/);
    assert.ok(it.endShown, `the sidebar shows what tells ${k} apart: ${JSON.stringify(it)}`);
  }
  const o = side.items.find((i) => i.key === s.ref(other.name));
  assert.ok(o && !o.checked && !o.via, 'a container the glob does not match stays unticked');
  assert.deepEqual(side.cover, [`${glob} — covers 3 containers`]);
  await screenshot(page, 'ui-merged-sidebar-light.png');
  assert.deepEqual(errors, []);
});

/** grep -C n over lines 1..last, with '--' between groups. */
function grepC(last, n) {
  const keep = new Set();
  for (const m of MATCHES) if (m <= last) for (let j = Math.max(1, m - n); j <= Math.min(last, m + n); j++) keep.add(j);
  const out = [];
  let prev = -1;
  for (const j of [...keep].sort((x, y) => x - y)) {
    if (out.length && j !== prev + 1) out.push('--');
    out.push(`line ${j}${MATCHES.has(j) ? ' MATCH' : ''}`);
    prev = j;
  }
  return out;
}
const shownRows = (page) => page.evaluate(() => [...document.querySelectorAll('#layer .row')].map((r) => ({
  text: r.classList.contains('sep') ? '--' : r.querySelector('.tx').innerText,
  marks: r.querySelectorAll('mark').length, ctx: r.classList.contains('ctx'),
})));

test('context: -C 2 shows exactly the neighbours of each match, separators between groups', async () => {
  const { page, errors } = b;
  const key = s.ref(ctxc.name);
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(key)}`);
  await until(async () => (await snapshot(page)).some((r) => r.line === 'line 60'), 20000, 'the first 60 lines');
  // a search first (the gateway then sends matches only), then context on from the toolbar
  await page.fill('#q', 'match');
  await page.press('#q', 'Enter');
  await until(async () => (await shownRows(page)).length === MATCHES.size - 1, 5000, 'matches only');
  await page.click('#ctx');
  assert.match(page.url(), /ctx=2/);
  assert.equal(await page.getAttribute('#ctx', 'aria-pressed'), 'true');
  // (the live lines may have begun meanwhile on a slow machine: up to the newest line held)
  const newest = async () => Math.max(...(await snapshot(page)).map((r) => Number(r.line.split(' ')[1]) || 0));
  let rows;
  let want;
  await until(async () => {
    want = grepC(await newest(), 2);
    rows = await shownRows(page);
    return JSON.stringify(rows.map((r) => r.text)) === JSON.stringify(want);
  }, 10000, 'context rows').catch(() => {});
  assert.deepEqual(rows.map((r) => r.text), want);
  console.log(`# context rows before the live lines: ${rows.length}, newest line ${await newest()}`);
  for (const r of rows) {
    if (r.text === '--') continue;
    assert.equal(r.marks > 0, r.text.endsWith('MATCH'), `only matches are marked: ${JSON.stringify(r)}`);
    assert.equal(r.ctx, !r.text.endsWith('MATCH'), 'context rows styled as context');
  }
  await sleep(1200); // the status line catches up (it is redrawn a few times a second)
  assert.match(await page.innerText('#qinfo'), /^4 match$/);
  await screenshot(page, 'ui-context-light.png');
  // live lines: the match in 61..70 gets its neighbours as they arrive
  await until(async () => (await snapshot(page)).some((r) => r.line === 'line 70'), 30000, 'the live lines');
  await sleep(500);
  rows = await shownRows(page);
  assert.deepEqual(rows.map((r) => r.text), grepC(70, 2), 'live lines in context');
  // the URL alone gives the same view (a fresh page: replay, then the rebuild)
  const url = page.url();
  assert.match(url, /q=match/);
  await page.goto(url);
  await until(async () => (await shownRows(page)).length === grepC(70, 2).length, 15000, 'same view from the URL');
  assert.deepEqual((await shownRows(page)).map((r) => r.text), grepC(70, 2));
  // N from the toolbar: -C 1
  await page.fill('#ctx-n', '1');
  await page.press('#ctx-n', 'Enter');
  await until(async () => JSON.stringify((await shownRows(page)).map((r) => r.text)) === JSON.stringify(grepC(70, 1)), 10000, '-C 1');
  assert.match(page.url(), /ctx=1/);
  // off: matches only again
  await page.click('#ctx');
  await until(async () => (await shownRows(page)).length === MATCHES.size, 10000, 'context off');
  assert.doesNotMatch(page.url(), /ctx=/);
  assert.deepEqual(errors, []);
});

test('volume chart: buckets hold the lines the page holds, by level; a click scrolls to its bucket', async () => {
  const { page, errors } = b;
  const key = s.ref(vol.name);
  await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(key)}`);
  await until(async () => (await stats(page)).buffered >= 1000, 30000, 'the replay');
  await sleep(3000); // live lines too
  // paused, the store stops changing; the chart's last draw must be what it holds
  await page.keyboard.press('Space');
  await sleep(800);
  const cmp = await page.evaluate(() => {
    const L = window.__logjet;
    const ch = L.chart;
    const m = ch.model;
    const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'unknown'];
    const want = m.buckets.map(() => ({ n: 0, lv: LEVELS.map(() => 0) }));
    let outside = 0;
    for (const r of L.snapshot()) {
      if (r.gap) continue;
      const i = Math.floor((Math.floor(r.ts / 1000) * 1e6 - m.from) / m.width);
      if (i < 0 || i >= want.length) { outside++; continue; }
      want[i].n++;
      want[i].lv[LEVELS.indexOf(r.lv)]++;
    }
    // a drawn bar is painted: the pixel just above the base line in a busy bucket
    const busiest = m.buckets.reduce((a, b, i) => (b.n > m.buckets[a].n ? i : a), 0);
    const c = document.getElementById('chart');
    const g = c.getContext('2d');
    const x = Math.round((ch.xOf(busiest) - c.getBoundingClientRect().left) * (c.width / c.clientWidth));
    const px = g.getImageData(x, c.height - 3, 1, 1).data;
    return {
      upToDate: ch.drawnVersion === L.store.version, width: m.width, count: m.buckets.length, outside,
      got: m.buckets.map((b) => ({ n: b.n, lv: [...b.lv] })), want, painted: px[3] > 0, held: L.stats.buffered,
    };
  });
  console.log(`# chart: ${cmp.count} buckets of ${cmp.width / 1e6} s over ${cmp.held} lines`);
  assert.ok(cmp.upToDate, 'the drawn chart is of what the store holds now');
  assert.equal(cmp.outside, 0, 'every line falls in a bucket');
  assert.ok(cmp.count >= 5, `several buckets: ${cmp.count}`);
  assert.deepEqual(cmp.got, cmp.want, 'bucket counts by level = the lines held');
  assert.equal(cmp.got.reduce((a, b) => a + b.n, 0), cmp.held);
  assert.ok(cmp.painted, 'the busiest bucket is drawn');
  await page.keyboard.press('Space'); // live again
  await screenshot(page, 'ui-chart-light.png');

  // a click on a bucket in the middle: the view leaves the bottom and shows that bucket's lines on top
  const target = await page.evaluate(() => {
    const ch = window.__logjet.chart;
    const bs = ch.model.buckets;
    let i = Math.floor(bs.length / 3);
    while (i < bs.length && bs[i].n === 0) i++;
    const r = document.getElementById('chart').getBoundingClientRect();
    return { i, x: ch.xOf(i), y: r.top + r.height - 6, t: bs[i].t / 1000, w: ch.model.width / 1000 };
  });
  await page.mouse.click(target.x, target.y);
  await until(() => page.evaluate(() => !window.__logjet.api.follow), 3000, 'not following after the click');
  await sleep(300);
  const top = await page.evaluate(() => {
    const vp = document.getElementById('viewport').getBoundingClientRect();
    const row = [...document.querySelectorAll('#layer .row[data-seq]')].find((r) => r.getBoundingClientRect().top >= vp.top - 1);
    const seq = Number(row.dataset.seq);
    return window.__logjet.snapshot().find((r) => r.seq === seq);
  });
  assert.ok(top.ts >= target.t && top.ts < target.t + target.w,
    `the top row (${new Date(top.ts).toISOString()}) is in the clicked bucket [${new Date(target.t).toISOString()}, +${target.w} ms)`);
  // the first line of that bucket: nothing of the bucket above it
  const before = await page.evaluate((t) => window.__logjet.snapshot().filter((r) => !r.gap && r.ts >= t && r.ts < t + 1e9).sort((a, b2) => a.ts - b2.ts || a.seq - b2.seq)[0], target.t);
  assert.equal(top.seq, before.seq, 'the top row is the bucket\'s first line');
  assert.deepEqual(errors, []);
});

test('keyboard: a walk through the main actions without the mouse; shortcuts in the help', async () => {
  const { page, errors } = b;
  await page.goto(`${s.gatewayUrl}/`);
  await page.waitForSelector(`#clist .citem[data-key="${s.ref(vol.name)}"]`, { timeout: 20000 });
  const active = () => page.evaluate(() => { const e = document.activeElement; return e.id || e.dataset.key || e.tagName; });
  // container picker: c, type, arrow down, Enter
  await page.keyboard.press('c');
  assert.equal(await active(), 'cfilter');
  await page.keyboard.type('volume');
  await page.keyboard.press('ArrowDown');
  assert.equal(await active(), s.ref(vol.name));
  await page.keyboard.press('Enter');
  assert.deepEqual(await page.evaluate(() => window.__logjet.state.containers), [s.ref(vol.name)]);
  await page.keyboard.press('Escape');
  assert.equal(await active(), 'viewport');
  await until(async () => (await stats(page)).buffered >= 1000, 20000, 'lines');
  // search with context, then n / N between matches
  await page.keyboard.press('/');
  assert.equal(await active(), 'q');
  await page.click('#re');
  await page.fill('#q', 'v [0-9]*00"');
  await page.keyboard.press('Enter');
  await page.click('#ctx');
  await page.keyboard.press('Escape');
  await page.focus('#viewport');
  await until(async () => (await page.$$('#layer .row.sep')).length > 2, 10000, 'context groups');
  await page.keyboard.press('Home');
  const topRow = () => page.evaluate(() => {
    const vp = document.getElementById('viewport').getBoundingClientRect();
    const r = [...document.querySelectorAll('#layer .row')].find((e) => e.getBoundingClientRect().top >= vp.top - 1);
    return { seq: Number(r.dataset.seq || 0), hit: r.querySelectorAll('mark').length > 0, text: r.innerText };
  });
  await sleep(300);
  await page.keyboard.press('n');
  await sleep(300);
  const m1 = await topRow();
  assert.ok(m1.hit, `n puts a match on top: ${JSON.stringify(m1)}`);
  await page.keyboard.press('n');
  await sleep(300);
  const m2 = await topRow();
  assert.ok(m2.hit && m2.seq > m1.seq, `n again: the next match ${JSON.stringify(m2)} after ${m1.seq}`);
  await page.keyboard.press('N');
  await sleep(300);
  assert.equal((await topRow()).seq, m1.seq, 'N: back to the previous match');
  // pause, resume, jump to the end, clear
  await page.keyboard.press('Space');
  assert.equal(await page.evaluate(() => window.__logjet.api.paused), true);
  await page.keyboard.press('Space');
  assert.equal(await page.evaluate(() => window.__logjet.api.paused), false);
  await page.keyboard.press('End');
  assert.equal(await page.evaluate(() => window.__logjet.api.follow), true);
  const before = (await stats(page)).buffered;
  await page.keyboard.press('x');
  assert.ok((await stats(page)).buffered < before, 'x cleared the screen');
  // the help lists the shortcuts
  await page.keyboard.press('?');
  const help = await page.innerText('#help-dlg');
  for (const w of ['search', 'pause', 'newest line', 'next / previous search match', 'container picker', 'clear the screen']) assert.ok(help.includes(w), `help mentions ${w}`);
  await page.keyboard.press('Escape');
  assert.equal(await page.evaluate(() => !!document.querySelector('dialog[open]')), false);
  assert.deepEqual(errors, []);
});

test('a 390 px wide screen: the sidebar folds behind a button', async () => {
  const nb = await openBrowser({ viewport: { width: 390, height: 800 } });
  try {
    const { page, errors } = nb;
    const glob = s.ref(s.prefix + 'logjet-demo-*');
    await page.goto(`${s.gatewayUrl}/?c=${encodeURIComponent(glob)}`);
    await until(async () => (await stats(page)).buffered > 20, 20000, 'lines');
    const sideShown = () => page.evaluate(() => {
      const e = document.getElementById('side');
      const r = e.getBoundingClientRect();
      return getComputedStyle(e).visibility === 'visible' && r.right > 10 && r.left >= -1;
    });
    assert.equal(await sideShown(), false, 'folded');
    assert.ok(await page.isVisible('#side-btn'), 'the button shows');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no sideways scrolling of the page');
    await sleep(500);
    await screenshot(page, 'ui-narrow-390.png');
    await page.click('#side-btn');
    await until(sideShown, 3000, 'sidebar open');
    assert.equal(await page.getAttribute('#side-btn', 'aria-expanded'), 'true');
    await screenshot(page, 'ui-narrow-390-sidebar.png');
    const key = s.ref(demo['logjet-demo-api'].name);
    await page.click(`#clist .citem[data-key="${key}"] .name`);
    await until(async () => !(await sideShown()), 3000, 'sidebar folds after a pick');
    assert.deepEqual(await page.evaluate(() => window.__logjet.state.containers), [key]);
    assert.deepEqual(errors, []);
  } finally {
    await nb.close();
  }
});
