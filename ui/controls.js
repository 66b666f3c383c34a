// The controls: what clicks, keys and the search box do to the settings, the session and
// the store (JSON columns and the chart's time range among them), and the dialogs (token,
// settings, help). It owns no state of its own beyond the search box's debounce and the
// widths the JSON columns were given; the views it updates are given by app.js.

import { LEVELS, STREAMS, MAX_CONTEXT, MAX_COLS } from './settings.js';
import { coveredBy } from './filter.js';
import { plainOf, jsonOf } from './record.js';
import { sizeColumns, headRow } from './columns.js';
import { fmtTs } from './rows.js';

const $ = (id) => document.getElementById(id);

export function bindControls(a) {
  const { S, store, session, conn, filter, vlist, view, bar, side, viewport } = a;
  const ctl = {};

  // ---- containers
  function containersChanged() {
    // lines of containers no longer watched leave the page
    store.retain((r) => r.sep || coveredBy(S.containers, r.c).length > 0);
    session.apply();
    ctl.selectedChanged();
    a.writeUrl();
    side.render(S.containers);
    vlist.invalidateAll();
    a.paint();
  }
  ctl.selectedChanged = () => {
    bar.selected(S.containers, S.containers.length > 1 ? a.colourFor : null, (c) => {
      S.containers = S.containers.filter((k) => k !== c);
      containersChanged();
    });
  };
  $('clist').addEventListener('click', (ev) => {
    const item = ev.target.closest('.citem');
    if (!item) return;
    const multi = ev.target.tagName === 'INPUT' || ev.ctrlKey || ev.metaKey || ev.shiftKey;
    pick(item.dataset.key, multi);
    if (!multi && ev.detail > 0) openSide(false);
  });
  /** Watch only key, or (multi) add it to / remove it from the view. */
  function pick(key, multi) {
    if (multi) {
      if (S.containers.includes(key)) S.containers = S.containers.filter((c) => c !== key);
      else if (coveredBy(S.containers, key).length) { side.render(S.containers); return; } // a glob shows it already
      else S.containers = S.containers.concat(key);
    } else {
      if (S.containers.length === 1 && S.containers[0] === key) return;
      S.containers = [key];
    }
    containersChanged();
  }
  $('cfilter').addEventListener('input', () => side.render(S.containers));
  $('cfilter').addEventListener('keydown', (ev) => {
    if (ev.key !== 'Enter') return;
    const v = $('cfilter').value.trim();
    if (v.includes('/') && !S.containers.includes(v)) {
      S.containers = S.containers.concat(v);
      $('cfilter').value = '';
      containersChanged();
    }
  });

  // ---- filters and search
  function filtersChanged(loosened) {
    filter.set(S);
    a.clearServerErr();
    view.re = filter.re;
    view.context = filter.context;
    $('q').classList.toggle('invalid', !!filter.err);
    store.refilter();
    a.paint();
    a.postWork();
    session.apply({ loosened });
    a.writeUrl();
    a.updateStatus();
  }
  const togglesOf = (key) => (v) => {
    const was = S[key].slice();
    S[key] = S[key].includes(v) ? S[key].filter((x) => x !== v) : S[key].concat(v);
    filtersChanged(was.length > 0 && (S[key].length === 0 || S[key].length > was.length || !S[key].every((x) => was.includes(x))));
  };
  bar.toggles('levels', LEVELS, (v) => S.levels.includes(v), 'show only the selected levels (none selected: all)', togglesOf('levels'));
  bar.toggles('streams', STREAMS, (v) => S.streams.includes(v), 'show only the selected streams (none selected: both)', togglesOf('streams'));

  let qTimer = 0;
  let lastQ = { q: S.q, re: S.re, cs: S.cs };
  $('q').value = S.q;
  $('q').addEventListener('input', () => { clearTimeout(qTimer); qTimer = setTimeout(searchChanged, 250); });
  $('q').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { clearTimeout(qTimer); a.markInput($('q').value ? 'search' : 'search cleared', ev); searchChanged(); }
    if (ev.key === 'Escape') { $('q').blur(); viewport.focus(); }
  });
  function searchChanged() {
    S.q = $('q').value;
    if (S.q === lastQ.q && S.re === lastQ.re && S.cs === lastQ.cs) return;
    const loosened = !!lastQ.q && (S.q === '' || S.re !== lastQ.re || S.cs !== lastQ.cs || !S.q.includes(lastQ.q) || S.re);
    lastQ = { q: S.q, re: S.re, cs: S.cs };
    filtersChanged(loosened);
  }
  $('cs').addEventListener('click', () => { S.cs = !S.cs; bar.pressed('cs', S.cs); searchChanged(); });
  $('re').addEventListener('click', () => { S.re = !S.re; bar.pressed('re', S.re); searchChanged(); });

  // context lines around matches (grep -C)
  const ctxN = $('ctx-n');
  ctxN.max = String(MAX_CONTEXT);
  let lastCtx = S.ctx || 2;
  ctxN.value = String(lastCtx);
  function contextChanged(on) {
    const n = Math.floor(Number(ctxN.value));
    lastCtx = Number.isFinite(n) && n >= 1 ? Math.min(n, MAX_CONTEXT) : lastCtx;
    ctxN.value = String(lastCtx);
    S.ctx = on ? lastCtx : 0;
    bar.pressed('ctx', S.ctx > 0);
    // turned on: the lines around matches were not sent while the gateway searched
    filtersChanged(on);
  }
  $('ctx').addEventListener('click', () => contextChanged(!S.ctx));
  ctxN.addEventListener('change', () => contextChanged(true));

  // ---- stream
  ctl.togglePause = () => {
    store.setPaused(!store.paused);
    a.postWork();
    a.paint();
    a.updateStatus();
  };
  ctl.clear = () => { store.clear(); a.paint(); a.updateStatus(); };
  ctl.jumpBottom = () => {
    store.follow = true;
    store.newCount = 0;
    // to the bottom now: a scroll event still on its way (a wheel animation) then finds the
    // view where following puts it and does not end the following again
    vlist.toBottom();
    a.paint();
    a.updateStatus();
  };
  /** Shows the first row at or after time k (µs) at the top of the view (the chart's click). */
  ctl.scrollToTime = (k) => {
    const i = store.rowAt(k);
    if (i >= store.rows.length) return;
    store.follow = false;
    vlist.ensureTops();
    viewport.scrollTop = vlist.top(i);
    a.paint();
    a.updateStatus();
  };
  /** Shows only the lines in range ([from, to) µs, from the chart's brush) or, null, all times. */
  ctl.setRange = (range) => {
    S.range = range;
    bar.range(S.range, S.utc, () => ctl.setRange(null));
    a.chart.redraw();
    filtersChanged(false); // (page-side only: the gateway's filters did not change)
  };
  function chartShown(on) {
    S.chart = on;
    $('chart').hidden = !on;
    bar.pressed('chart-tog', on);
    a.chart.redraw();
    a.writeUrl();
  }
  $('chart-tog').addEventListener('click', () => chartShown(!S.chart));
  $('pause').addEventListener('click', ctl.togglePause);
  $('clear').addEventListener('click', ctl.clear);
  $('newlines').addEventListener('click', ctl.jumpBottom);

  // ---- display options
  function setOpt(key, v) {
    S[key] = v;
    view.ts = S.ts;
    view.utc = S.utc;
    bar.pressed(key, v);
    document.documentElement.classList.toggle('wrap', S.wrap);
    viewport.classList.toggle('wrap', S.wrap);
    vlist.wrap = S.wrap;
    store.buffer.forEach((r) => { r.h = 0; });
    vlist.invalidateAll();
    ctl.head();
    bar.range(S.range, S.utc, () => ctl.setRange(null)); // (its times in UTC or not)
    a.writeUrl();
    a.scheduleFrame();
  }
  $('ts').addEventListener('click', () => setOpt('ts', !S.ts));
  $('utc').addEventListener('click', () => setOpt('utc', !S.utc));
  $('wrap').addEventListener('click', () => setOpt('wrap', !S.wrap));

  function applyTheme() {
    const dark = S.theme === 'dark' || (S.theme === 'auto' && matchMedia('(prefers-color-scheme: dark)').matches);
    document.documentElement.dataset.theme = dark ? 'dark' : 'light';
    $('theme').textContent = S.theme === 'auto' ? 'Theme: auto' : S.theme === 'dark' ? 'Theme: dark' : 'Theme: light';
    if (a.chart) { a.chart.themeChanged(); a.scheduleFrame(); }
  }
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', applyTheme);
  $('theme').addEventListener('click', () => {
    S.theme = S.theme === 'auto' ? 'light' : S.theme === 'light' ? 'dark' : 'auto';
    localStorage.setItem('logjet_theme', S.theme);
    applyTheme();
    a.writeUrl();
  });

  $('dl').addEventListener('click', () => {
    while (store.rf) store.refilterStep(); // every match, not only those found so far
    const parts = [];
    store.rows.forEach((r) => {
      if (r.sep) { parts.push('--\n'); return; }
      if (r.g) { parts.push(`# ${r.lost} lines missing in ${r.c}\n`); return; }
      const ts = new Date(Math.floor(r.k / 1000)).toISOString();
      parts.push(`${ts} ${r.c} ${r.st} ${plainOf(r)}\n`);
    });
    const blob = new Blob(parts, { type: 'text/plain;charset=utf-8' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(blob);
    link.download = `logjet-${new Date().toISOString().replace(/[:.]/g, '-')}.log`;
    document.body.appendChild(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  });

  // ---- JSON fields shown as columns
  let colW = null; // the widths set (chars), for S.cols
  let colAt = -Infinity;
  let colVersion = -1;
  /** Sizes the columns for the newest lines held, when they changed: now (performance.now())
   *  at most every 500 ms, or (no argument) at once. */
  ctl.sizeColumns = (now) => {
    if (!S.cols.length || colVersion === store.version || (now !== undefined && now - colAt < 500)) return;
    colAt = now ?? performance.now();
    colVersion = store.version;
    const jsons = [];
    const buf = store.buffer;
    for (let i = Math.max(0, buf.length - 1000); i < buf.length; i++) { const r = buf.at(i); if (!r.g) jsons.push(jsonOf(r)); }
    colW = sizeColumns(S.cols, jsons, colW);
  };
  /** The header over the columns, built again for the rows' current shape. */
  ctl.head = () => {
    const h = $('colhead');
    h.hidden = !S.cols.length;
    if (!S.cols.length) return;
    h.replaceChildren(headRow(view, fmtTs(Date.now() * 1000, S.utc)));
    h.scrollLeft = viewport.scrollLeft;
  };
  const removeCol = (c) => { S.cols = S.cols.filter((k) => k !== c); colsChanged(); };
  function colsChanged() {
    view.cols = S.cols;
    colW = null;
    colVersion = -1;
    bar.columns(S.cols, removeCol);
    ctl.head();
    ctl.sizeColumns();
    if (S.wrap) store.buffer.forEach((r) => { r.h = 0; }); // (less room for the wrapped text)
    vlist.invalidateAll();
    a.writeUrl();
    a.paint();
  }

  // ---- rows: JSON fields, gap fetch, scrolling
  $('layer').addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-act]');
    if (!b) return;
    const r = vlist.recOf(b.closest('.row'));
    if (!r) return;
    const act = b.dataset.act;
    const path = b.dataset.path;
    if (act === 'json') {
      r.pretty = !r.pretty;
      r.h = 0;
      vlist.invalidate(r);
    } else if (act === 'col') {
      S.cols = S.cols.includes(path) ? S.cols.filter((k) => k !== path) : S.cols.concat(path).slice(-MAX_COLS);
      colsChanged();
    } else if (act === 'fetch') {
      session.fetchGap(r);
    }
    a.scheduleFrame();
    // A mouse click leaves the focus on the lines (Space pauses, as after the toolbar's
    // buttons); a key press finds it again on the same button of the row built again.
    if (ev.detail > 0) viewport.focus({ preventScroll: true });
    else if (act !== 'fetch') {
      requestAnimationFrame(() => {
        const e = vlist.els.get(r);
        const sel = `button[data-act="${act}"]` + (path !== undefined ? `[data-path="${CSS.escape(path)}"]` : '');
        const nb = e && e.querySelector(sel);
        if (nb) nb.focus({ preventScroll: true });
      });
    }
  });
  viewport.addEventListener('wheel', (ev) => a.markInput('wheel', ev), { passive: true });
  viewport.addEventListener('scroll', () => {
    if (S.cols.length) $('colhead').scrollLeft = viewport.scrollLeft;
    let atBottom = viewport.scrollTop + viewport.clientHeight >= viewport.scrollHeight - 24;
    // Following, and not moved up from where the page itself put the view: still following
    // (the content may have grown or been trimmed meanwhile).
    if (store.follow && vlist.followTop !== undefined && viewport.scrollTop >= vlist.followTop - 2) atBottom = true;
    if (atBottom !== store.follow) {
      store.follow = atBottom;
      if (store.follow) store.newCount = 0;
      a.updateStatus();
    }
    a.scheduleFrame();
  }, { passive: true });

  // ---- dialogs
  let tokenPromptOpen = false;
  ctl.promptToken = (msg) => {
    $('token-err').textContent = msg || '';
    if (tokenPromptOpen) return;
    tokenPromptOpen = true;
    $('token-in').value = '';
    $('token-dlg').showModal();
  };
  $('token-dlg').addEventListener('close', () => {
    tokenPromptOpen = false;
    if ($('token-dlg').returnValue === 'ok') {
      const v = $('token-in').value.trim();
      if (v) localStorage.setItem('logjet_token', v);
      conn.reconnectNow();
      a.pollContainers();
    }
  });
  $('settings').addEventListener('click', () => {
    $('set-buf').value = String(S.buf);
    $('set-replay').value = String(S.replay);
    $('settings-dlg').showModal();
  });
  $('settings-dlg').addEventListener('close', () => {
    if ($('settings-dlg').returnValue !== 'ok') return;
    const b = Number($('set-buf').value);
    const rp = Number($('set-replay').value);
    if (Number.isFinite(b) && b >= 100) { S.buf = Math.min(Math.floor(b), 5000000); localStorage.setItem('logjet_buf', String(S.buf)); }
    if (Number.isFinite(rp) && rp >= 0) { S.replay = Math.min(Math.floor(rp), 1000); localStorage.setItem('logjet_replay', String(S.replay)); }
    a.writeUrl();
    a.scheduleFrame();
  });
  $('set-token').addEventListener('click', () => { $('settings-dlg').close(); ctl.promptToken(''); });
  $('help').addEventListener('click', () => $('help-dlg').showModal());

  // ---- keyboard
  // A mouse click on a toolbar button should not leave the focus there: Space would then
  // press the button again instead of pausing the stream.
  for (const id of ['bar', 'newlines']) {
    $(id).addEventListener('click', (ev) => {
      if (ev.detail > 0 && ev.target.closest('button')) viewport.focus({ preventScroll: true });
    });
  }
  document.addEventListener('keydown', (ev) => {
    if (document.querySelector('dialog[open]')) return;
    const t = ev.target;
    const typing = t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.isContentEditable);
    if (typing) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === '/') { ev.preventDefault(); $('q').focus(); $('q').select(); }
    else if (ev.key === ' ' && t.tagName !== 'BUTTON') { ev.preventDefault(); a.markInput(store.paused ? 'resume' : 'pause', ev); ctl.togglePause(); }
    else if (ev.key === 'End') { ev.preventDefault(); a.markInput('end', ev); ctl.jumpBottom(); }
    else if (ev.key === 'Home') { ev.preventDefault(); store.follow = false; viewport.scrollTop = 0; a.scheduleFrame(); }
    else if (ev.key === '?') { ev.preventDefault(); $('help-dlg').showModal(); }
    else if (ev.key === 'w') setOpt('wrap', !S.wrap);
    else if (ev.key === 't') setOpt('ts', !S.ts);
    else if (ev.key === 'n' || ev.key === 'N') { ev.preventDefault(); nextMatch(ev.key === 'n' ? 1 : -1); }
    else if (ev.key === 'x') { ev.preventDefault(); ctl.clear(); }
    else if (ev.key === 'c') { ev.preventDefault(); openSide(true); $('cfilter').focus(); $('cfilter').select(); }
    else if (ev.key === 'Escape') {
      // clears the chart's time range; from a button (toolbar, rows), back to the lines
      if (S.range) { ev.preventDefault(); ctl.setRange(null); }
      if (t !== viewport) viewport.focus({ preventScroll: true });
    }
  });

  /** Puts the next (dir 1) or previous (-1) search match after the top of the view at the top. */
  function nextMatch(dir) {
    if (!filter.re) { bar.banner('No search: / to search, then n and N move between matches.'); return; }
    vlist.ensureTops();
    const rows = store.rows;
    if (!rows.length) return;
    const cur = Math.min(rows.length - 1, vlist.indexAt(viewport.scrollTop + 1));
    for (let j = cur + dir; j >= 0 && j < rows.length; j += dir) {
      if (!rows.at(j).hit) continue;
      store.follow = false;
      viewport.scrollTop = vlist.top(j);
      a.paint();
      a.updateStatus();
      return;
    }
    bar.banner(dir > 0 ? 'No match below.' : 'No match above.');
  }
  ctl.nextMatch = nextMatch;

  // ---- the sidebar: folds behind a button on narrow screens; keys in the container list
  const narrow = matchMedia('(max-width: 700px)');
  function openSide(on) {
    if (!narrow.matches) return;
    $('app').classList.toggle('side-open', on);
    $('side-btn').setAttribute('aria-expanded', String(on));
    if (!on) viewport.focus({ preventScroll: true });
  }
  $('side-btn').addEventListener('click', () => {
    const on = !$('app').classList.contains('side-open');
    openSide(on);
    if (on) $('cfilter').focus();
  });
  const items = () => [...$('clist').querySelectorAll('.citem')];
  $('cfilter').addEventListener('keydown', (ev) => {
    if (ev.key === 'ArrowDown') { ev.preventDefault(); const f = items()[0]; if (f) f.focus(); }
    if (ev.key === 'Escape') { openSide(false); viewport.focus(); }
  });
  $('clist').addEventListener('keydown', (ev) => {
    const it = ev.target.closest('.citem');
    if (!it) return;
    const all = items();
    const i = all.indexOf(it);
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const to = all[i + (ev.key === 'ArrowDown' ? 1 : -1)];
      if (to) to.focus(); else if (ev.key === 'ArrowUp') $('cfilter').focus();
    } else if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      pick(it.dataset.key, ev.key === ' ');
      const again = $('clist').querySelector(`.citem[data-key="${CSS.escape(it.dataset.key)}"]`);
      if (again) again.focus();
    } else if (ev.key === 'Escape') { openSide(false); viewport.focus(); }
  });

  // ---- initial states
  for (const k of ['re', 'cs', 'ts', 'utc', 'wrap']) bar.pressed(k, S[k]);
  bar.pressed('ctx', S.ctx > 0);
  bar.range(S.range, S.utc, () => ctl.setRange(null));
  bar.columns(S.cols, removeCol);
  ctl.head();
  $('chart').hidden = !S.chart;
  bar.pressed('chart-tog', S.chart);
  viewport.classList.toggle('wrap', S.wrap);
  vlist.wrap = S.wrap;
  view.re = filter.re;
  view.context = filter.context;
  applyTheme();
  return ctl;
}
