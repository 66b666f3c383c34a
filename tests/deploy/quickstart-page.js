// Opens the quick start's URL in headless Chromium (Debian's, driven by
// playwright-core) and waits until the page has received demo log lines and
// shows one of them. Saves a screenshot.
//
// usage: node quickstart-page.js URL SCREENSHOT.png [SECONDS]
// Exit 0 when lines arrived and are on the page.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [url, shot, secs = '60'] = process.argv.slice(2);
const exe = process.env.LOGJET_CHROMIUM || '/usr/bin/chromium';

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'logjet-qs-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: exe,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 800 },
  });
  const errors = [];
  try {
    const page = ctx.pages()[0] || await ctx.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url, { waitUntil: 'load', timeout: 30000 });
    // Demo lines: the worker's "job=", the web's "HTTP/1.1", the api's JSON.
    await page.waitForFunction(() => {
      const h = window.__logjet;
      const text = document.body.innerText;
      return h && h.stats.received > 0 && /job=|HTTP\/1\.1|"level"/.test(text);
    }, null, { timeout: Number(secs) * 1000, polling: 500 });
    const received = await page.evaluate(() => window.__logjet.stats.received);
    await page.waitForTimeout(1000);
    await page.screenshot({ path: shot });
    console.log(`quickstart-page: ${received} lines received, demo lines on the page; screenshot ${shot}`);
    if (errors.length) {
      console.log(`quickstart-page: page errors: ${errors.join(' | ')}`);
      process.exitCode = 1;
    }
  } finally {
    await ctx.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.log(`quickstart-page: ${e.message.split('\n')[0]}`);
  process.exit(1);
});
