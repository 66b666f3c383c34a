// Helpers for the browser tests: Debian's Chromium driven by playwright-core, a fresh
// profile per browser, and small readers of what the page shows.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { SOURCE_DIR, waitFor } from '../lib/harness.mjs';

const require = createRequire(import.meta.url);
const { chromium } = require('playwright-core');

export const CHROMIUM = process.env.LOGJET_CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = path.join(SOURCE_DIR, 'tests', 'artifacts');

/**
 * Launches headless Chromium with a fresh profile; returns {ctx, page, dialogs, errors, close}.
 * errors collects page errors and console errors (a Content-Security-Policy violation is one).
 * opts: {viewport, colorScheme, perf, httpCredentials: {username, password}}.
 */
export async function openBrowser(opts = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} missing: apt-get install -y chromium`);
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'logjet-chromium-'));
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: opts.viewport || { width: 1280, height: 800 },
    colorScheme: opts.colorScheme || 'light',
    ...(opts.httpCredentials ? { httpCredentials: opts.httpCredentials } : {}),
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const dialogs = [];
  const errors = [];
  page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  page.on('pageerror', (e) => errors.push(String(e && e.stack || e)));
  page.on('console', (m) => { if (m.type() === 'error' && !/favicon/.test(m.text())) errors.push('console: ' + m.text()); });
  if (opts.perf) await page.addInitScript(PERF_PROBE);
  const close = async () => {
    await ctx.close().catch(() => {});
    fs.rmSync(udd, { recursive: true, force: true });
  };
  return { ctx, page, dialogs, errors, close };
}

/** Installed before the page's own scripts: long tasks and frame intervals. */
const PERF_PROBE = `
  window.__perf = { longtasks: [], frames: [], framesAt: [], running: true };
  try {
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__perf.longtasks.push({ start: e.startTime, dur: e.duration }); })
      .observe({ type: 'longtask', buffered: true });
  } catch (e) { window.__perf.noLongtask = String(e); }
  (function loop(prev) {
    requestAnimationFrame((t) => { if (prev) { window.__perf.frames.push(t - prev); window.__perf.framesAt.push(t); } if (window.__perf.running) loop(t); });
  })(0);
`;

/**
 * Starts a Chromium trace of the page (categories: the trace categories, comma-separated);
 * the returned stop() ends it and resolves to every trace event collected.
 */
export async function startTrace(page, categories) {
  const cdp = await page.context().newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => { for (const ev of e.value) events.push(ev); });
  await cdp.send('Tracing.start', { categories, transferMode: 'ReportEvents' });
  return async () => {
    const done = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
    await cdp.send('Tracing.end');
    await done;
    await cdp.detach().catch(() => {});
    return events;
  };
}

export function pct(values, p) {
  if (!values.length) return NaN;
  const a = values.slice().sort((x, y) => x - y);
  return a[Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1))];
}

export function summary(values) {
  return { n: values.length, p50: pct(values, 50), p90: pct(values, 90), p99: pct(values, 99), max: values.length ? Math.max(...values) : NaN };
}

/** Rows currently in the DOM (lifecycle event rows left out: timeline() has them):
 * [{seq, ln, c, lv, st, text, gap}] in page order. */
export function domRows(page) {
  return page.evaluate(() => [...document.querySelectorAll('#layer .row:not(.event)')].map((r) => ({
    seq: r.dataset.seq ? Number(r.dataset.seq) : null,
    ln: r.dataset.lineNo ? Number(r.dataset.lineNo) : null,
    c: r.dataset.container || null,
    lv: r.dataset.level || null,
    st: r.classList.contains('stderr') ? 'stderr' : 'stdout',
    text: (r.querySelector('.tx') || r).textContent,
    gap: r.classList.contains('gap'),
  })));
}

/** Rows whose box intersects the viewport (what a person sees; event rows left out). */
export function visibleRows(page) {
  return page.evaluate(() => {
    const vp = document.getElementById('viewport').getBoundingClientRect();
    return [...document.querySelectorAll('#layer .row:not(.event)')].filter((r) => {
      const b = r.getBoundingClientRect();
      return b.bottom > vp.top + 1 && b.top < vp.bottom - 1;
    }).map((r) => ({
      seq: r.dataset.seq ? Number(r.dataset.seq) : null,
      ln: r.dataset.lineNo ? Number(r.dataset.lineNo) : null,
      c: r.dataset.container || null,
      lv: r.dataset.level || null,
      text: (r.querySelector('.tx') || r).textContent,
      gap: r.classList.contains('gap'),
      marks: r.querySelectorAll('mark').length,
    }));
  });
}

export const stats = (page) => page.evaluate(() => Object.assign({}, window.__logjet.stats));
export const snapshot = (page) => page.evaluate(() => window.__logjet.snapshot());
/** Every record the page holds in page order, lifecycle events included ({event, c, ts, text, code}). */
export const timeline = (page) => page.evaluate(() => window.__logjet.timeline());

/** Checks that the line_nos of one container, in seq order, have no hole and no repeat. */
export function contiguity(snap, container) {
  const ls = snap.filter((r) => !r.gap && r.c === container).sort((a, b) => a.seq - b.seq);
  const problems = [];
  for (let i = 1; i < ls.length; i++) {
    if (ls[i].ln !== ls[i - 1].ln + 1) problems.push(`${ls[i - 1].ln} (seq ${ls[i - 1].seq}) -> ${ls[i].ln} (seq ${ls[i].seq})`);
  }
  return { count: ls.length, first: ls[0]?.ln, last: ls[ls.length - 1]?.ln, problems };
}

export function saveArtifact(name, buf) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const p = path.join(ARTIFACTS, name);
  fs.writeFileSync(p, buf);
  return p;
}

export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const p = path.join(ARTIFACTS, name);
  await page.screenshot({ path: p });
  return p;
}

/** Polls fn() in node until truthy (the harness's waitFor, with the page's pace). */
export function until(fn, timeoutMs = 15000, what = 'condition', stepMs = 100) {
  return waitFor(fn, timeoutMs, what, stepMs);
}
