// @ts-check
// One agent: its status, configuration and results.
import {ago, api, h, put, tags} from './core.js';
import {ms, pct, stateTag} from './health.js';

export async function agentPage(/** @type {HTMLElement} */ view, /** @type {string} */ id) {
  const [a, health] = await Promise.all([api('/api/v1/agents/' + encodeURIComponent(id)), api('/api/v1/health?limit=50000&agent=' + encodeURIComponent(id))]);
  const mine = health.items.map((/** @type {any} */ t) => [t, (t.agents || []).find((/** @type {any} */ x) => x.agent_id === id)])
    .filter((/** @type {any} */ p) => p[1]);
  const c = a.config || {};
  put(view, h('h1', {class: 'title', id: 'agent-name'}, id),
    h('p', {class: 'subtitle is-6'}, h('span', {class: 'tag ' + (a.revoked ? 'is-dark' : a.online ? 'is-success' : 'is-danger')}, a.revoked ? 'revoked' : a.online ? 'online' : 'offline'),
      ' version ', a.version || '?', ' · last seen ', ago(a.last_seen), ' · ', tags(a.tags)),
    h('div', {class: 'box', id: 'agent-facts'},
      h('p', {}, 'Configuration applied: ', h('code', {}, c.applied || 'none'), c.current ? ' (the server\'s: ' + c.current + ')' : '',
        c.stale ? h('span', {class: 'tag is-warning ml-2', title: c.stale_reason || ''}, 'stale') : ''),
      c.stale_reason ? h('p', {}, c.stale_reason) : null,
      h('p', {}, 'Spool: ', String(a.spool_records), ' results waiting'),
      (c.updates || []).length ? h('p', {}, 'Updates: ', ...(c.updates || []).map((/** @type {any} */ u) => h('span', {class: 'tag is-light mr-1', title: u.reason || ''}, u.symbolic_name + ' ' + u.version + ': ' + u.state))) : null),
    h('h2', {class: 'title is-5'}, 'Refused entries'),
    (c.rejected || []).length === 0 ? h('p', {class: 'mb-4', id: 'no-refused'}, 'None: the agent takes every entry of its configuration.')
      : h('table', {class: 'table is-fullwidth', id: 'refused'}, h('thead', {}, h('tr', {}, h('th', {}, 'Entry'), h('th', {}, 'Why'))),
        h('tbody', {}, ...c.rejected.map((/** @type {any} */ r) => h('tr', {}, h('td', {}, r.name), h('td', {}, r.reason))))),
    h('h2', {class: 'title is-5'}, 'Its targets, worst first'),
    h('table', {class: 'table is-fullwidth is-striped', id: 'agent-targets'},
      h('thead', {}, h('tr', {}, ...['State', 'Target', 'Since', 'Reason', 'Loss', 'Median'].map((x) => h('th', {}, x)))),
      h('tbody', {}, ...mine.map((/** @type {any} */ [t, w]) => h('tr', {'data-target': t.target},
        h('td', {}, stateTag(w.state)), h('td', {}, h('a', {href: '#/target/' + encodeURIComponent(t.target)}, t.target)),
        h('td', {title: w.since || ''}, w.since ? ago(w.since) : '—'), h('td', {}, w.reason || ''), h('td', {}, pct(w.loss)), h('td', {}, ms(w.p50_seconds)))))));
}
