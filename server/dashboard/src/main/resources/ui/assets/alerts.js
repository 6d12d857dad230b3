// @ts-check
// Alerts: the alerts firing and the silences.
import {ago, api, h, redraw, session} from './core.js';

export async function alerts(/** @type {HTMLElement} */ view) {
  const [alertList, rules, silences] = await Promise.all([api('/api/v1/alerts'), api('/api/v1/alert-rules'), api('/api/v1/silences')]);
  const colour = (/** @type {string} */ s) => ({firing: 'is-danger', pending: 'is-warning', resolving: 'is-info', nodata: 'is-dark', resolved: 'is-success'})[s] || '';
  view.append(h('h1', {class: 'title'}, 'Alerts'),
    h('table', {class: 'table is-fullwidth', id: 'alerts'},
      h('thead', {}, h('tr', {}, ...['State', 'Rule', 'Subject', 'Since', 'Detail'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...alertList.items.map((/** @type {any} */ a) => h('tr', {},
        h('td', {}, h('span', {class: 'tag ' + colour(a.state)}, a.state), a.silenced ? h('span', {class: 'tag is-light ml-1'}, 'silenced') : null),
        h('td', {}, a.rule, ' ', h('span', {class: 'tag is-light'}, a.severity || '')),
        h('td', {}, a.subject), h('td', {}, ago(a.since)), h('td', {}, a.detail))))),
    h('h2', {class: 'title is-5'}, 'Rules'),
    h('table', {class: 'table is-fullwidth is-narrow', id: 'rules'},
      h('thead', {}, h('tr', {}, ...['Name', 'Type', 'Target', 'Agents', 'For', 'Threshold', 'Receivers'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...rules.items.map((/** @type {any} */ r) => h('tr', {}, h('td', {}, r.name), h('td', {}, r.type), h('td', {}, r.target || ''),
        h('td', {}, r.agents), h('td', {}, r.for), h('td', {}, r.threshold === undefined ? '' : r.threshold), h('td', {}, String(r.notify.length)))))),
    h('h2', {class: 'title is-5'}, 'Silences'),
    h('table', {class: 'table is-fullwidth is-narrow', id: 'silences'},
      h('thead', {}, h('tr', {}, ...['Matchers', 'Until', 'Comment', ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...silences.items.map((/** @type {any} */ s) => h('tr', {},
        h('td', {}, JSON.stringify(s.matchers)), h('td', {}, new Date(s.ends_at).toLocaleString()), h('td', {}, s.comment),
        h('td', {}, session && session.role === 'admin' ? h('button', {class: 'button is-small', onclick: async () => {
          await api('/api/v1/silences/' + encodeURIComponent(s.id), {method: 'DELETE'});
          redraw();
        }}, 'end') : ''))))));
}
