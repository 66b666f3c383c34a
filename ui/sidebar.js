// The sidebar view: the containers the gateway lists, grouped by host, each ticked when a
// subscription of the view covers it (by name or by a glob, which it then names), and the
// globs in view with what they match. It reads the filter box; what a click means is the
// controller's.

import { el } from './rows.js';
import { coveredBy, isGlob, globMatch } from './filter.js';

export class Sidebar {
  constructor(list, filterBox, countEl) {
    this.list = list;
    this.filterBox = filterBox;
    this.countEl = countEl;
    this.containers = [];
    this.lastKey = '';
    this.err = '';
  }

  /** list: the gateway's containers ({host, name, image, state}). */
  setContainers(list) {
    const cs = list.filter((c) => c && typeof c.name === 'string').map((c) => ({
      host: String(c.host || ''), name: c.name, image: String(c.image || ''), state: String(c.state || ''),
      key: `${c.host || ''}/${c.name}`,
    }));
    cs.sort((a, b) => a.host.localeCompare(b.host) || (a.state === 'running' ? 0 : 1) - (b.state === 'running' ? 0 : 1) || a.name.localeCompare(b.name));
    this.containers = cs;
  }

  setError(err) { this.err = err; if (err) this.countEl.textContent = err; }

  /** watched: the view's container specs (names and globs). */
  render(watched) {
    const f = this.filterBox.value.trim().toLowerCase();
    const shown = this.containers.filter((c) => !f || c.name.toLowerCase().includes(f) || c.host.toLowerCase().includes(f));
    const key = f + '\n' + watched.join(',') + '\n' + shown.map((c) => c.key + c.state + c.image).join(',');
    const running = this.containers.filter((c) => c.state === 'running').length;
    if (!this.err) this.countEl.textContent = `${this.containers.length} containers, ${running} running`;
    if (key === this.lastKey) return;
    this.lastKey = key;
    const frag = document.createDocumentFragment();
    for (const g of watched.filter(isGlob)) {
      const n = this.containers.filter((c) => globMatch(g, c.key)).length;
      const note = el('div', 'cover', `${g} — covers ${n} container${n === 1 ? '' : 's'}`);
      note.dataset.glob = g;
      frag.appendChild(note);
    }
    let host = null;
    for (const c of shown) {
      if (c.host !== host) { host = c.host; frag.appendChild(el('div', 'host', host)); }
      const by = coveredBy(watched, c.key);
      const exact = by.includes(c.key);
      const globs = by.filter(isGlob);
      const on = by.length > 0;
      const item = el('div', 'citem ' + (c.state === 'running' ? 'running' : 'stopped') + (on ? ' sel' : '') + (!exact && on ? ' viaglob' : ''));
      item.dataset.key = c.key;
      item.setAttribute('role', 'option');
      item.tabIndex = -1; // (arrow keys from the filter box move between the items)
      item.setAttribute('aria-selected', String(on));
      item.title = `${c.key}\n${c.image}\n${c.state}` + (globs.length ? `\nshown by the glob ${globs.join(', ')}` : '') +
        '\nclick: watch only this; ctrl/⌘-click or the box: add to the view';
      const cb = document.createElement('input');
      cb.type = 'checkbox';
      cb.checked = on;
      cb.tabIndex = -1;
      if (!exact && on) cb.setAttribute('aria-label', `covered by the glob ${globs.join(', ')}`);
      item.appendChild(cb);
      item.appendChild(el('span', 'dot'));
      // a name too long for the box loses its start, not its end: names of one
      // application share their start and differ at the end (app-web, app-api)
      const name = el('span', 'name');
      name.appendChild(el('bdi', null, c.name));
      item.appendChild(name);
      if (!exact && on) {
        const g = el('span', 'via', 'glob');
        g.title = `shown by ${globs.join(', ')}`;
        item.appendChild(g);
      }
      item.appendChild(el('span', 'img', c.image));
      frag.appendChild(item);
    }
    this.list.replaceChildren(frag);
  }
}
