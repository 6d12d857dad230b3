// @ts-check
// Targets: every target with its state.
import {ago, api, h} from './core.js';
import {STATES, ms, pct, stateHelp, stateTag} from './health.js';

export async function targets(/** @type {HTMLElement} */ view, /** @type {URLSearchParams} */ q) {
  const filter = new URLSearchParams();
  if (q.get('state')) filter.set('state', q.get('state') || '');
  if (q.get('tag')) filter.set('tag', q.get('tag') || '');
  for (const l of (q.get('label') || '').split(',').map((x) => x.trim()).filter((x) => x)) filter.append('label', l);
  filter.set('limit', '50000');
  filter.set('per_agent', 'false');
  const health = await api('/api/v1/health?' + filter);
  const sortBy = q.get('sort') || 'state';
  const keyOf = (/** @type {any} */ t) => sortBy === 'loss' ? -(t.loss ?? -1) : sortBy === 'latency' ? -(t.p50_seconds ?? -1) : sortBy === 'target' ? t.target : 0;
  const items = sortBy === 'state' ? health.items : [...health.items].sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  const go = (/** @type {Record<string, string>} */ change) => {
    const next = new URLSearchParams(q);
    for (const [k, v] of Object.entries(change)) { if (v) next.set(k, v); else next.delete(k); }
    location.hash = '#/targets?' + next;
  };
  const stateSelect = h('select', {id: 'state-filter', onchange: (/** @type {Event} */ e) => go({state: /** @type {HTMLSelectElement} */ (e.target).value})},
    h('option', {value: ''}, 'every state'), ...Object.keys(STATES).map((s) => h('option', {value: s, selected: q.get('state') === s}, s)));
  const tagInput = h('input', {class: 'input', id: 'target-tag-filter', placeholder: 'filter by tag', value: q.get('tag') || ''});
  tagInput.addEventListener('change', () => go({tag: /** @type {HTMLInputElement} */ (tagInput).value}));
  const labelInput = h('input', {class: 'input', id: 'target-label-filter', placeholder: 'filter by labels: site=fra, team=db', value: q.get('label') || ''});
  labelInput.addEventListener('change', () => go({label: /** @type {HTMLInputElement} */ (labelInput).value}));
  const labelLinks = (/** @type {Record<string, string>} */ labels) => h('span', {class: 'tags labels'},
    ...Object.entries(labels || {}).map(([k, v]) => h('a', {class: 'tag is-info is-light label-link', href: '#/targets?' + new URLSearchParams({label: k + '=' + v})}, k + '=' + v)));
  const head = (/** @type {string} */ label, /** @type {string} */ key) => h('th', {}, h('a', {href: '#', class: 'sort', onclick: (/** @type {Event} */ e) => { e.preventDefault(); go({sort: key}); }}, label + (sortBy === key ? ' ▾' : '')));
  view.append(h('h1', {class: 'title'}, 'Targets'),
    h('div', {class: 'field is-grouped'}, h('div', {class: 'control'}, h('div', {class: 'select'}, stateSelect)), h('div', {class: 'control'}, tagInput),
      h('div', {class: 'control is-expanded'}, labelInput)),
    ...(q.get('label') && !items.length ? [h('p', {class: 'notification is-warning', id: 'no-label-match'}, 'No target has the labels ', q.get('label') || '', '.')] : []),
    h('table', {class: 'table is-fullwidth is-striped', id: 'targets'},
      h('thead', {}, h('tr', {}, head('State', 'state'), head('Target', 'target'), h('th', {}, 'Kind'), head('Loss', 'loss'), head('Median', 'latency'),
        h('th', {}, 'Since'), h('th', {}, 'Vantage agents'))),
      h('tbody', {}, ...items.map((/** @type {any} */ t) => h('tr', {'data-target': t.target},
        h('td', {}, stateTag(t.state)),
        h('td', {}, h('a', {href: '#/target/' + encodeURIComponent(t.target), class: 'target-link'}, t.target), ' ', labelLinks(t.labels)),
        h('td', {}, t.kind || ''),
        h('td', {class: 'loss'}, pct(t.loss)),
        h('td', {class: 'median'}, ms(t.p50_seconds)),
        h('td', {title: t.since || ''}, ago(t.since)),
        h('td', {}, t.text))))),
    stateHelp());
}
