// @ts-check
// Now: what is broken, and the grid of targets by agents.
import {ago, api, h, put} from './core.js';
import {fromWhom, reasonOf, stateHelp, stateTag} from './health.js';

/** Rows of the landing page's list of broken targets; the grid shows twice as many, worst first. */
const NOW_ROWS = 250;

export async function now(/** @type {HTMLElement} */ view) {
  const [alertList, health] = await Promise.all([api('/api/v1/alerts'), api('/api/v1/health?limit=' + NOW_ROWS * 2)]);
  const active = alertList.items.filter((/** @type {any} */ a) => a.state === 'firing' || a.state === 'pending');
  active.sort((/** @type {any} */ a, /** @type {any} */ b) => (a.state === 'firing' ? 0 : 1) - (b.state === 'firing' ? 0 : 1));
  const broken = health.items.filter((/** @type {any} */ t) => t.state !== 'up');
  const stat = (/** @type {string} */ label, /** @type {number} */ n, /** @type {string} */ id, /** @type {string} */ colour) =>
    h('div', {class: 'level-item has-text-centered'}, h('div', {}, h('p', {class: 'heading'}, label), h('p', {class: 'title ' + colour, id}, n)));
  const sum = health.summary;
  const notUp = health.total - sum.up;
  put(view,
    h('h1', {class: 'title'}, 'What is broken now'),
    h('nav', {class: 'level box'},
      stat('firing', active.filter((/** @type {any} */ a) => a.state === 'firing').length, 'count-firing', 'has-text-danger'),
      stat('down', sum.down + sum.backoff, 'count-down', 'has-text-danger'),
      stat('degraded', sum.degraded, 'count-degraded', 'has-text-warning-dark'),
      stat('refused', sum.refused + sum.no_prober, 'count-refused', ''),
      stat('unknown', sum.unknown, 'count-unknown', ''),
      stat('up', sum.up, 'count-up', 'has-text-success')),
    h('h2', {class: 'title is-5'}, 'Alerts firing and pending'),
    active.length === 0 ? h('p', {class: 'mb-4', id: 'no-alerts'}, 'No alert is firing or pending.')
      : h('table', {class: 'table is-fullwidth', id: 'active-alerts'},
        h('thead', {}, h('tr', {}, ...['State', 'Rule', 'Subject', 'Since', 'Detail'].map((c) => h('th', {}, c)))),
        h('tbody', {}, ...active.map((/** @type {any} */ a) => h('tr', {},
          h('td', {}, h('span', {class: 'tag ' + (a.state === 'firing' ? 'is-danger' : 'is-warning')}, a.state)),
          h('td', {}, a.rule), h('td', {}, h('a', {href: '#/target/' + encodeURIComponent(a.subject)}, a.subject)),
          h('td', {title: a.since || ''}, ago(a.since)), h('td', {}, a.detail))))),
    h('h2', {class: 'title is-5'}, 'Targets not up, worst first'),
    broken.length === 0 ? h('p', {class: 'mb-4', id: 'all-up'}, 'Every target is up from every vantage agent that knows it.')
      : h('table', {class: 'table is-fullwidth', id: 'broken'},
        h('thead', {}, h('tr', {}, ...['State', 'Target', 'Since', 'From', 'Reason'].map((c) => h('th', {}, c)))),
        h('tbody', {}, ...broken.slice(0, NOW_ROWS).map((/** @type {any} */ t) => h('tr', {'data-target': t.target},
          h('td', {}, stateTag(t.state)),
          h('td', {}, h('a', {href: '#/target/' + encodeURIComponent(t.target)}, t.target), ' ', h('span', {class: 'tag is-light'}, t.kind || '')),
          h('td', {title: t.since || ''}, ago(t.since)),
          h('td', {}, t.text, ': ', fromWhom(t)),
          h('td', {class: 'reason'}, reasonOf(t)))))),
    notUp > NOW_ROWS ? h('p', {class: 'mb-4'}, h('a', {href: '#/targets'}, (notUp - NOW_ROWS) + ' more targets not up')) : null,
    h('h2', {class: 'title is-5'}, 'Targets × agents'),
    grid(health.items),
    health.total > health.items.length ? h('p', {}, 'The ', health.items.length, ' worst of ', health.total, ' targets; ', h('a', {href: '#/targets'}, 'every target'), '.') : null,
    stateHelp());
}

/** Most agents (columns) the grid shows: those that see the most targets broken (neither up nor unknown), then by name. */
const GRID_AGENTS = 100;

/** A compact targets × agents grid: one coloured cell per (target, agent), its state in its title. */
function grid(/** @type {any[]} */ items) {
  /** @type {Map<string, number>} */
  const broken = new Map();
  for (const t of items) for (const a of t.agents || []) broken.set(a.agent_id, (broken.get(a.agent_id) || 0) + (a.state === 'up' || a.state === 'unknown' ? 0 : 1));
  const all = [...broken.keys()].sort((a, b) => (broken.get(b) || 0) - (broken.get(a) || 0) || (a < b ? -1 : a > b ? 1 : 0));
  const agentIds = all.slice(0, GRID_AGENTS).sort();
  if (items.length === 0) return h('p', {}, 'No target has a definition or a result yet.');
  const left = all.length - agentIds.length;
  return h('div', {class: 'state-grid-box'}, left > 0 ? h('p', {class: 'help', id: 'grid-more'}, 'The ' + agentIds.length
      + ' agents that see the most targets broken; ' + left + ' more agents are not shown.') : null,
    h('table', {class: 'state-grid', id: 'state-grid'},
    h('thead', {}, h('tr', {}, h('th', {}, ''), ...agentIds.map((a) => h('th', {class: 'agent', title: a}, a)))),
    h('tbody', {}, ...items.map((t) => {
      const by = Object.fromEntries((t.agents || []).map((/** @type {any} */ a) => [a.agent_id, a]));
      return h('tr', {}, h('th', {}, h('a', {href: '#/target/' + encodeURIComponent(t.target)}, t.target)),
        ...agentIds.map((a) => by[a] ? h('td', {class: 'cell state-' + by[a].state, title: a + ': ' + by[a].state + (by[a].reason ? ' (' + by[a].reason + ')' : '')}) : h('td', {class: 'cell'})));
    }))));
}
