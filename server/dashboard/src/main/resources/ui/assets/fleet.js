// @ts-check
// The fleet: every agent, its state and its targets.
import {ago, api, h, showError, tags} from './core.js';

export async function fleet(/** @type {HTMLElement} */ view, /** @type {URLSearchParams} */ q) {
  const tag = q.get('tag') || '';
  const size = Math.min(10000, Math.max(1, parseInt(q.get('limit') || '', 10) || FLEET_PAGE));
  const path = '/api/v1/agents?limit=' + size + (tag ? '&selector=' + encodeURIComponent(tag) : '');
  const first = await api(path);
  const filter = h('input', {class: 'input', id: 'tag-filter', placeholder: 'filter by tag', value: tag});
  filter.addEventListener('change', () => { location.hash = '#/fleet' + (/** @type {HTMLInputElement} */ (filter).value ? '?tag=' + encodeURIComponent(/** @type {HTMLInputElement} */ (filter).value) : ''); });
  const stat = (/** @type {string} */ label, /** @type {number} */ n, /** @type {string} */ id) =>
    h('div', {class: 'level-item has-text-centered'}, h('div', {}, h('p', {class: 'heading'}, label), h('p', {class: 'title', id}, n)));
  const row = (/** @type {any} */ a) => h('tr', {'data-agent': a.agent_id},
    h('td', {}, h('a', {href: '#/agent/' + encodeURIComponent(a.agent_id), class: 'agent-link'}, a.agent_id)),
    h('td', {}, h('span', {class: 'tag ' + (a.revoked ? 'is-dark' : a.online ? 'is-success' : 'is-danger')}, a.revoked ? 'revoked' : a.online ? 'online' : 'offline')),
    h('td', {}, a.version || ''),
    h('td', {}, tags(a.tags)),
    h('td', {title: a.last_seen || ''}, ago(a.last_seen)),
    h('td', {}, a.config && a.config.applied ? (a.config.stale ? h('span', {class: 'tag is-warning', title: a.config.stale_reason || ''}, 'stale') : 'current') : '—'),
    h('td', {class: 'refused'}, a.refused ? h('a', {href: '#/agent/' + encodeURIComponent(a.agent_id), class: 'tag is-warning',
      title: (a.config.rejected || []).map((/** @type {any} */ r) => r.name + ': ' + r.reason).join('\n')}, a.refused + ' refused') : '0'),
    h('td', {}, a.spool_records));
  const body = h('tbody', {}, ...first.items.map(row));
  const shown = h('p', {class: 'help', id: 'agents-shown'});
  const more = h('button', {class: 'button is-small', id: 'agents-more'}, 'Show ' + size + ' more');
  let next = first.next;
  let count = first.items.length;
  const tell = () => {
    shown.textContent = count === first.total ? count + ' agents' : count + ' of ' + first.total + ' agents shown';
    more.classList.toggle('is-hidden', next === null);
  };
  more.addEventListener('click', async () => {
    try {
      const page = await api(path + '&after=' + encodeURIComponent(next));
      page.items.forEach((/** @type {any} */ a) => body.append(row(a)));
      count += page.items.length;
      next = page.next;
      tell();
    } catch (e) {
      showError(e);
    }
  });
  tell();
  const s = first.summary;
  view.append(
    h('h1', {class: 'title'}, 'Fleet'),
    h('nav', {class: 'level box'},
      stat('agents', first.total, 'count-agents'),
      stat('online', s.online, 'count-online'),
      stat('offline', s.offline, 'count-offline'),
      stat('stale config', s.stale, 'count-stale'),
      stat('refusing entries', s.refusing, 'count-refusing'),
      stat('revoked', s.revoked, 'count-revoked')),
    h('div', {class: 'field'}, filter),
    h('table', {class: 'table is-fullwidth is-striped', id: 'agents'},
      h('thead', {}, h('tr', {}, ...['Agent', 'State', 'Version', 'Tags', 'Last seen', 'Config', 'Refused', 'Spool'].map((c) => h('th', {}, c)))),
      body),
    shown, more);
}

/** Agents one page of the fleet view shows, and each "more" adds, unless the view's {@code limit} says. */
const FLEET_PAGE = 500;
