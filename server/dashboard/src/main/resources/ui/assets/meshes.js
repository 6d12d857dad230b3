// @ts-check
// Meshes: the list and one mesh's matrix.
import {api, h} from './core.js';

export async function meshes(/** @type {HTMLElement} */ view) {
  const items = (await api('/api/v1/meshes')).items;
  view.append(h('h1', {class: 'title'}, 'Meshes'),
    items.length === 0 ? h('p', {}, 'No mesh is defined.') : h('ul', {}, ...items.map((/** @type {any} */ m) =>
      h('li', {}, h('a', {href: '#/mesh/' + encodeURIComponent(m.name)}, m.name), ' — members: ', m.members))));
}

export async function mesh(/** @type {HTMLElement} */ view, /** @type {string} */ name) {
  const m = await api('/api/v1/meshes/' + encodeURIComponent(name) + '/matrix');
  const ids = m.members.map((/** @type {any} */ x) => x.agent_id);
  /** @type {Record<string, any>} */ const cells = {};
  for (const c of m.cells) cells[c.source + '\u0000' + c.destination] = c;
  const cell = (/** @type {string} */ s, /** @type {string} */ d) => {
    if (s === d) return h('td', {class: 'cell-none'}, '');
    const c = cells[s + '\u0000' + d];
    if (!c || c.count === 0) return h('td', {class: 'cell-none'}, '—');
    const cls = c.loss > 0.05 ? 'cell-bad' : c.loss > 0 ? 'cell-warn' : 'cell-ok';
    const text = (c.median_seconds === null ? '—' : (c.median_seconds * 1000).toFixed(1) + ' ms') + ' · ' + Math.round(c.loss * 100) + ' %';
    return h('td', {class: cls}, h('a', {href: '#/target/' + encodeURIComponent(c.target), title: s + ' → ' + d, class: 'pair-link'}, text));
  };
  view.append(h('h1', {class: 'title'}, 'Mesh ' + name), h('p', {class: 'subtitle is-6'}, m.kind + ', ' + new Date(m.from).toLocaleString() + ' to ' + new Date(m.to).toLocaleString()),
    h('table', {class: 'table matrix', id: 'matrix'},
      h('thead', {}, h('tr', {}, h('th', {}, 'from \\ to'), ...ids.map((/** @type {string} */ d) => h('th', {}, d)))),
      h('tbody', {}, ...ids.map((/** @type {string} */ s) => h('tr', {}, h('th', {}, s), ...ids.map((/** @type {string} */ d) => cell(s, d)))))));
}
