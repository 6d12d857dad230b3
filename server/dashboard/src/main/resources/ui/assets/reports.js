// @ts-check
// Uptime: the uptime bars and boxes, and the report by target or agent.
import {api, h, put} from './core.js';

/** A day's cell colour by its availability: the same scale on every uptime bar. */
function uptimeClass(/** @type {number|null} */ percent) {
  if (percent === null || percent === undefined) return 'uptime-none';
  return percent >= 99.9 ? 'uptime-full' : percent >= 99 ? 'uptime-high' : percent >= 95 ? 'uptime-mid' : 'uptime-low';
}

function minutes(/** @type {number|null} */ m) {
  if (m === null || m === undefined) return '—';
  return m < 120 ? Math.round(m) + ' min' : m < 2880 ? (m / 60).toFixed(1) + ' h' : (m / 1440).toFixed(1) + ' days';
}

function percent(/** @type {number|null} */ p) {
  return p === null || p === undefined ? '—' : p.toFixed(p >= 99 ? 3 : 2) + ' %';
}

/** A bar of days, a cell each, coloured by availability; a day not counted is grey. */
function uptimeBar(/** @type {any[]} */ days, /** @type {string} */ from, /** @type {string} */ to) {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const bar = h('div', {class: 'uptime-bar'});
  for (let t = Date.parse(from); t < Date.parse(to); t += 86400000) {
    const day = new Date(t).toISOString().substring(0, 10);
    const d = byDay.get(day);
    bar.append(h('span', {class: 'uptime-day ' + uptimeClass(d ? d.availability_percent : null), 'data-day': day,
      title: day + ': ' + (d ? percent(d.availability_percent) + ' up, ' + d.down_minutes + ' min down, ' + d.unknown_minutes + ' min unknown' : 'not counted')}));
  }
  return bar;
}

/** A target's uptime over 90 days: the figures, a bar of days, its latest outages. */
export function uptimeBox(/** @type {any} */ u) {
  if (!u) return h('div', {class: 'box', id: 'uptime'}, h('p', {class: 'has-text-grey'}, 'Uptime: not counted yet (the server counts each hour once it has closed and its results are rolled up).'));
  const recent = u.outages.slice(-5).reverse();
  return h('div', {class: 'box', id: 'uptime'},
    h('p', {class: 'mb-2'}, h('strong', {}, 'Uptime over 90 days: ', h('span', {id: 'uptime-percent'}, percent(u.availability_percent))),
      ' · down ', minutes(u.down_minutes), ' · unknown ', minutes(u.unknown_minutes), ' · ', u.outages.length + ' outage' + (u.outages.length === 1 ? '' : 's'),
      u.outages.length ? ' · longest ' + minutes(u.longest_outage_minutes) + ' · MTTR ' + minutes(u.mttr_minutes) : ''),
    uptimeBar(u.days, u.from, u.to),
    recent.length ? h('p', {class: 'is-size-7 mt-2', id: 'uptime-outages'}, 'Latest outages: ', ...recent.map((/** @type {any} */ o) =>
      h('span', {class: 'tag is-danger is-light mr-1'}, new Date(o.start).toLocaleString() + ', ' + minutes(o.minutes) + (o.ongoing ? ', going on' : '')))) : null,
    h('p', {class: 'is-size-7 has-text-grey mt-1'}, 'Counted through ', u.counted_through, ' (UTC days; each hour is counted once it has closed).'));
}


export async function reports(/** @type {HTMLElement} */ view, /** @type {URLSearchParams} */ q) {
  const days = q.get('days') || '30';
  const by = q.get('by') || 'target';
  const maint = q.get('maintenance') === 'out' && by !== 'agent' ? 'out' : 'in';
  const query = new URLSearchParams({days, by});
  if (maint === 'out') query.set('exclude_maintenance', 'true');
  const [report, objectives] = await Promise.all([api('/api/v1/reports/uptime?' + query), api('/api/v1/reports/objectives')]);
  const link = (/** @type {Record<string,string>} */ p, /** @type {string} */ label, /** @type {boolean} */ active) =>
    h('a', {class: 'button is-small' + (active ? ' is-link' : ''), href: '#/reports?' + new URLSearchParams({days, by, maintenance: maint, ...p})}, label);
  put(view, h('h1', {class: 'title'}, 'Uptime'),
    h('p', {class: 'subtitle is-6'}, 'From ', report.from.substring(0, 10), ' to ', report.to.substring(0, 10), ' (UTC days, the last not included), counted through ',
      report.counted_through === 'null' ? 'nothing yet' : report.counted_through),
    h('div', {class: 'buttons has-addons mb-1', id: 'report-days'}, ...['1', '7', '30', '90'].map((d) => link({days: d}, d === '1' ? 'today' : d + ' days', d === days))),
    h('div', {class: 'buttons has-addons', id: 'report-by'}, ...['target', 'agent', 'tag'].map((b) => link({by: b}, 'per ' + b, b === by)),
      h('a', {class: 'button is-small ml-2', id: 'report-csv', href: '/api/v1/reports/uptime?' + new URLSearchParams([...query.entries(), ['format', 'csv']])}, 'CSV')),
    by === 'agent' ? null : h('div', {class: 'buttons has-addons', id: 'report-maintenance'}, link({maintenance: 'in'}, 'maintenance counted', maint === 'in'),
      link({maintenance: 'out'}, 'downtime in maintenance left out', maint === 'out')));
  if (objectives.items.length) {
    view.append(h('h2', {class: 'title is-5'}, 'Objectives'), h('table', {class: 'table is-fullwidth is-narrow', id: 'objectives'},
      h('thead', {}, h('tr', {}, ...['Objective', 'Targets', 'Availability', 'Error budget left', 'Burn rate (last day)', ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...objectives.items.map((/** @type {any} */ o) => h('tr', {'data-objective': o.name},
        h('td', {}, h('strong', {}, o.name), ' ', o.percent + ' % over ' + o.days + ' days', h('br'), h('span', {class: 'is-size-7'}, o.targets_pattern + (o.tag ? ' tagged ' + o.tag : '')
          + (o.maintenance_minutes !== undefined ? ' · downtime in maintenance left out (' + minutes(o.maintenance_minutes) + ')' : ''))),
        h('td', {}, o.targets), h('td', {}, percent(o.availability_percent)),
        h('td', {class: 'budget'}, o.budget_left_percent === null ? '—' : o.budget_left_minutes < 0
          ? h('span', {class: 'has-text-danger'}, 'exhausted: ' + minutes(-o.budget_left_minutes) + ' down past the ' + minutes(o.budget_minutes) + ' allowed')
          : h('span', {}, h('progress', {class: 'progress is-small mb-1 ' + (o.budget_left_percent > 50 ? 'is-success' : 'is-warning'),
            value: o.budget_left_percent, max: 100}), percent(o.budget_left_percent) + ' (' + minutes(o.budget_left_minutes) + ' of ' + minutes(o.budget_minutes) + ')')),
        h('td', {}, o.burn_rate_1d === null ? '—' : o.burn_rate_1d.toFixed(2) + '×'),
        h('td', {}, o.met === null ? h('span', {class: 'tag'}, 'no data') : o.met ? h('span', {class: 'tag is-success'}, 'met') : h('span', {class: 'tag is-danger'}, 'missed')))))));
  }
  if (report.items.length === 0) {
    view.append(h('p', {class: 'notification is-light', id: 'report-empty'}, report.counted_through === 'null'
      ? 'Nothing is counted yet: the server counts each hour once it has closed and its results are rolled up (about an hour after the first results).'
      : 'No target has minutes counted in this range.'));
    return;
  }
  const items = [...report.items].sort((a, b) => (a.availability_percent ?? 101) - (b.availability_percent ?? 101));
  const head = by === 'agent' ? ['Agent', 'Targets', 'Availability', 'Down', 'Degraded', 'Unknown']
    : [by === 'tag' ? 'Tag' : 'Target', ...(by === 'tag' ? ['Targets'] : []), 'Availability', 'Down', 'Degraded', 'Unknown',
      ...(maint === 'out' ? ['In maintenance'] : []), 'Outages', 'Longest', 'MTTR'];
  view.append(h('table', {class: 'table is-fullwidth is-narrow is-hoverable', id: 'report'},
    h('thead', {}, h('tr', {}, ...head.map((c) => h('th', {}, c)))),
    h('tbody', {}, ...items.map((/** @type {any} */ r) => h('tr', {'data-key': r[by]},
      h('td', {}, by === 'target' ? h('a', {href: '#/target/' + encodeURIComponent(r.target)}, r.target) : by === 'agent' ? h('a', {href: '#/agent/' + encodeURIComponent(r.agent)}, r.agent) : r.tag),
      by === 'target' ? null : h('td', {}, r.targets),
      h('td', {class: 'availability'}, h('span', {class: 'uptime-dot ' + uptimeClass(r.availability_percent)}), ' ', percent(r.availability_percent)),
      h('td', {}, minutes(r.down_minutes)), h('td', {}, minutes(r.degraded_minutes)), h('td', {}, minutes(r.unknown_minutes)),
      maint === 'out' ? h('td', {class: 'maintenance'}, minutes(r.maintenance_minutes)) : null,
      by === 'agent' ? null : h('td', {}, r.outages + (r.ongoing ? ' (one going on)' : '')),
      by === 'agent' ? null : h('td', {}, r.outages ? minutes(r.longest_outage_minutes) : '—'),
      by === 'agent' ? null : h('td', {}, minutes(r.mttr_minutes)))))));
  view.append(h('p', {class: 'is-size-7 has-text-grey'}, 'Availability: minutes up or degraded over the minutes known, by the health model (a target in backoff is down). Unknown minutes (no standing result) are apart and not counted as up.'));
}
