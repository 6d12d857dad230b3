// @ts-check
// One target: its health, maintenance, uptime, charts, path and each kind's own view.
// @ts-ignore: the server serves uPlot from its WebJar (Vendor.java); the check has no path to it
import uPlot from '/ui/vendor/uplot/uPlot.esm.js';
import {PALETTE, RANGES, firstData, overlayChart, pathOf, phasesOf, resultSchemas, resultsOnce, seriesOf, shown, smoke, timeline, valueWith} from './charts.js';
import {ago, api, h, put, state} from './core.js';
import {ms, pct, stateTag} from './health.js';
import {uptimeBox} from './reports.js';

/** The target's state by the health model, each agent's, and the alerts about it. */
function healthBox(/** @type {any} */ t, /** @type {any[]} */ about) {
  if (!t) return h('div', {class: 'box', id: 'target-health'}, 'No state: no definition and no result names this target.');
  return h('div', {class: 'box', id: 'target-health'},
    h('p', {class: 'mb-2'}, stateTag(t.state), ' ', h('strong', {id: 'target-state-text'}, t.text), t.since ? ' since ' + new Date(t.since).toLocaleString() + ' (' + ago(t.since) + ')' : '',
      t.loss !== null ? ' · loss ' + pct(t.loss) : '', t.p50_seconds !== null ? ' · median ' + ms(t.p50_seconds) : ''),
    t.last_failure ? h('p', {class: 'mb-2', id: 'last-error'}, 'Last failure ', ago(t.last_failure.at), ': ', h('code', {}, t.last_failure.reason), ' ', t.last_failure.error || '') : null,
    about.length ? h('p', {class: 'mb-2', id: 'target-alerts'}, 'Alerts: ', ...about.map((a) => h('span', {class: 'tag mr-1 ' + (a.state === 'firing' ? 'is-danger' : a.state === 'pending' ? 'is-warning' : 'is-light'), title: a.detail || ''}, a.rule + ': ' + a.state))) : null,
    h('table', {class: 'table is-narrow is-fullwidth', id: 'target-agents'},
      h('thead', {}, h('tr', {}, ...['Agent', 'State', 'Since', 'Reason', 'Last probe', 'Next probe'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...(t.agents || []).map((/** @type {any} */ a) => h('tr', {'data-agent': a.agent_id},
        h('td', {}, h('a', {href: '#/agent/' + encodeURIComponent(a.agent_id)}, a.agent_id)), h('td', {}, stateTag(a.state)),
        h('td', {title: a.since || ''}, a.since ? ago(a.since) : '—'), h('td', {}, a.reason || ''),
        h('td', {title: a.last_at || ''}, a.last_at ? ago(a.last_at) : '—'),
        h('td', {title: a.next_probe || ''}, a.next_probe ? new Date(a.next_probe).toLocaleTimeString() : '—'))))));
}

/** The maintenance windows that take a target: open now (their alerts notify no one), or the next opening. */
function maintenanceBox(/** @type {any[]} */ windows) {
  const shown = windows.filter((w) => w.next_starts_at);
  if (shown.length === 0) return null;
  const when = (/** @type {string} */ t) => new Date(t).toLocaleString();
  return h('div', {class: 'notification is-info is-light', id: 'maintenance'}, ...shown.map((w) => h('p', {class: 'maintenance-window'},
    h('strong', {}, 'Maintenance ' + w.name), w.active ? ': open now, until ' + when(w.next_ends_at) + ' — alerts notify no one'
      : ': next from ' + when(w.next_starts_at) + ' to ' + when(w.next_ends_at), w.comment ? ' (' + w.comment + ')' : '')));
}

export async function target(/** @type {HTMLElement} */ view, /** @type {string} */ name, /** @type {URLSearchParams} */ q) {
  const now = Math.floor(Date.now() / 1000);
  const range = q.get('range') || '6h';
  const seconds = (RANGES.find((r) => r[0] === range) || RANGES[1])[1];
  const to = Number(q.get('to')) || now;
  let from = Number(q.get('from')) || to - /** @type {number} */ (seconds);
  const overlay = q.get('agents') === 'overlay';
  const [observedList, health, alertList, windows, uptime] = await Promise.all([api('/api/v1/observed'),
    api('/api/v1/health/' + encodeURIComponent(name)).catch(() => null), api('/api/v1/alerts'),
    api('/api/v1/maintenance?target=' + encodeURIComponent(name)).catch(() => ({items: []})),
    api('/api/v1/reports/uptime/' + encodeURIComponent(name) + '?days=90').catch(() => null)]);
  const observed = observedList.items.find((/** @type {any} */ t) => t.target === name);
  const agents = observed ? observed.agents : [];
  let fitted = false;
  if (!q.get('from') && !q.get('range') && observed) {
    // the default range fits the data there is: two minutes of results are not a sliver of six hours
    const first = await firstData(name, now, /** @type {number} */ (seconds));
    if (first !== null && now - first < seconds / 4) {
      from = Math.max(now - /** @type {number} */ (seconds), Math.floor(first - Math.max(60, (now - first) * 0.1)));
      from = Math.min(from, now - 600);
      fitted = true;
    }
  }
  const reason = health && health.last_failure ? health.last_failure.reason + ': ' + (health.last_failure.error || '') : '';
  const link = (/** @type {Record<string,string>} */ p, /** @type {string} */ label, /** @type {boolean} */ active) =>
    h('a', {class: 'button is-small' + (active ? ' is-link' : ''), href: '#/target/' + encodeURIComponent(name) + '?' + new URLSearchParams(p)}, label);
  put(view,
    h('h1', {class: 'title', id: 'target-name'}, name),
    h('p', {class: 'subtitle is-6'}, observed ? observed.kinds.join(', ') + ' from ' + agents.join(', ') : 'no results yet'),
    health && Object.keys(health.labels || {}).length ? h('p', {class: 'mb-3', id: 'target-labels'}, 'Labels ', h('span', {class: 'tags labels'},
      ...Object.entries(health.labels).map(([k, v]) => h('a', {class: 'tag is-info is-light', href: '#/targets?' + new URLSearchParams({label: k + '=' + v})}, k + '=' + v)))) : null,
    healthBox(health, alertList.items.filter((/** @type {any} */ a) => a.subject === name)),
    maintenanceBox(windows.items),
    uptimeBox(uptime),
    h('div', {class: 'buttons has-addons', id: 'ranges'}, ...RANGES.map(([r]) => link({range: String(r), agents: overlay ? 'overlay' : 'side'}, String(r), !q.get('from') && !fitted && r === range))),
    h('div', {class: 'buttons has-addons'}, link({range, agents: 'side'}, 'per agent, side by side', !overlay), link({range, agents: 'overlay'}, 'per agent, overlaid', overlay)),
    fitted ? h('p', {class: 'is-size-7 mb-2', id: 'fitted'}, 'Showing the ', Math.round((now - from) / 60), ' minutes that have results; pick a range above for more.') : null,
    h('p', {class: 'legend-loss is-size-7 mb-2'}, 'median coloured by loss: ', h('span', {class: 'loss-0'}, '0'), h('span', {class: 'loss-1'}, '≤ 5 %'),
      h('span', {class: 'loss-2'}, '≤ 20 %'), h('span', {class: 'loss-3'}, '> 20 %'), ' · red band: every probe failed (light: some) · dashed red: route changed · drag to zoom'));
  // the path view for any kind whose results have a path, by the role its agents announce
  const schemas = await resultSchemas();
  /** @type {Record<string, string>} */ const pathKinds = {};
  /** @type {Record<string, string>} */ const branchKinds = {};
  for (const k of (observed ? observed.kinds : [])) {
    const v = valueWith(schemas[k], 'PATH');
    if (v) pathKinds[k] = v;
    const b = valueWith(schemas[k], 'BRANCHES');
    if (b) branchKinds[k] = b;
  }
  const results = resultsOnce(name, from, to);
  const path = Object.keys(pathKinds).length ? await pathOf(results, pathKinds, branchKinds) : {changes: [], latest: null, traces: 0, byAgent: {}};
  const width = Math.max(400, view.clientWidth - 48);
  // each agent's own series, once: the state timeline and the per-agent charts share them
  const perAgent = agents.length ? await Promise.all(agents.map((/** @type {string} */ a) => seriesOf(name, a, from, to))) : [];
  if (agents.length) {
    view.append(h('h2', {class: 'title is-5'}, 'State over time, per agent'), timeline(agents, perAgent, from, to, width));
  }
  const main = h('div', {class: 'chart box', id: 'chart-all'});
  view.append(h('h2', {class: 'title is-5'}, 'All vantage agents'), main);
  await smoke(main, name, null, from, to, path.changes, width, {reason});
  if (overlay && agents.length > 1) {
    const box = h('div', {class: 'chart box', id: 'chart-overlay'});
    view.append(h('h2', {class: 'title is-5 mt-4'}, 'Each vantage agent\'s median, overlaid'), box);
    await overlayChart(box, name, agents, from, to, width, perAgent);
  }
  if (!overlay && agents.length > 1) {
    const grid = h('div', {class: 'charts-per-agent', id: 'charts-per-agent'});
    view.append(h('h2', {class: 'title is-5 mt-4'}, 'Per vantage agent (one scale)'), grid);
    // every agent's chart on one y scale, so that a glance compares them
    const data = perAgent;
    const yMax = Math.max(1, ...data.map((d) => d.top));
    for (let i = 0; i < agents.length; i++) {
      const a = agents[i];
      const box = h('div', {class: 'chart box', 'data-agent': a});
      const word = health && (health.agents || []).find((/** @type {any} */ x) => x.agent_id === a);
      grid.append(h('div', {}, h('p', {class: 'has-text-weight-semibold'}, h('a', {href: '#/agent/' + encodeURIComponent(a)}, a), ' ', word ? stateTag(word.state) : ''), box));
      await smoke(box, name, a, from, to, path.changes, Math.max(300, Math.floor((view.clientWidth - 16) / 2) - 48),
        {data: data[i], yMax, reason: word && word.reason ? word.reason : reason});
    }
  }
  for (const [agentId, per] of Object.entries(path.hopRtts || {})) {
    const ttls = Object.keys(per.byTtl).map(Number).sort((a, b) => a - b);
    if (per.times.length < 2 || ttls.length === 0) continue;
    const box = h('div', {class: 'chart box hop-chart', 'data-agent': agentId});
    view.append(h('h2', {class: 'title is-5 mt-4'}, 'RTT of each hop from ' + agentId), box);
    /** @type {(value?: any) => void} */ let drawn = () => {};
    const first = new Promise((resolve) => { drawn = resolve; });
    new uPlot({width, height: 260, scales: {x: {time: true, min: from, max: to}},
      series: [{}, ...ttls.map((t, i) => ({label: 'hop ' + t, stroke: PALETTE[i % PALETTE.length], width: 1.5,
        value: (/** @type {any} */ u, /** @type {number|null} */ v) => v === null ? '—' : v.toFixed(2) + ' ms'}))],
      axes: [{}, {label: 'ms'}], hooks: {draw: [() => drawn()]}},
    /** @type {any} */ ([per.times, ...ttls.map((t) => per.byTtl[t])]), box);
    await first;
    state.charts.push({target: name, agent: agentId, hops: ttls.length, points: per.times.length, kind: 'hops'});
  }
  for (const latest of Object.values(path.byAgent || {})) {
    const hops = latest.details[pathKinds[latest.kind]] || [];
    view.append(h('h2', {class: 'title is-5 mt-4'}, 'Path from ' + latest.agent_id + ' at ' + new Date(latest.started_at).toLocaleString()),
      h('p', {class: 'mb-2 route-changes'}, (path.changesByAgent[latest.agent_id] || []).length + ' route change' + ((path.changesByAgent[latest.agent_id] || []).length === 1 ? '' : 's') + ' in this range',
        ...(path.changesByAgent[latest.agent_id] || []).slice(-5).map((/** @type {number} */ c) => h('span', {class: 'route-change ml-2'}, new Date(c * 1000).toLocaleTimeString()))),
      h('table', {class: 'table is-narrow path', 'data-agent': latest.agent_id},
        h('thead', {}, h('tr', {}, h('th', {}, 'Hop'), h('th', {}, 'Address'), hops.some((/** @type {any} */ x) => x.asn) ? h('th', {}, 'AS') : null,
          h('th', {}, 'Loss'), h('th', {}, 'Latency'))),
        h('tbody', {}, ...hops.map((/** @type {any} */ x) => {
          const rtts = (x.rtts || []).filter((/** @type {any} */ v) => v !== null);
          const lossPct = x.sent ? Math.round(100 * (x.sent - rtts.length) / x.sent) : 0;
          const avg = rtts.length ? rtts.reduce((/** @type {number} */ a, /** @type {number} */ b) => a + b, 0) / rtts.length * 1000 : null;
          return h('tr', {}, h('td', {}, x.ttl), h('td', {}, x.address || '*'),
            hops.some((/** @type {any} */ y) => y.asn) ? h('td', {class: 'asn'}, x.asn ? 'AS' + x.asn + (x.as_name ? ' ' + x.as_name : '') : '') : null,
            h('td', {}, lossPct + ' %'), h('td', {}, avg === null ? '—' : avg.toFixed(2) + ' ms'));
        }))));
    const branches = branchKinds[latest.kind] ? latest.details[branchKinds[latest.kind]] || [] : [];
    if (branches.length > 1) view.append(branchTable(latest.agent_id, branches));
  }
  await kindViews(view, name, observed ? observed.kinds : [], schemas, results, from, to, width);
}

/**
 * The distinct paths of a trace on several flows, side by side: a column per path (with the flows
 * that took it), a row per hop; where the paths part, the addresses are marked.
 */
function branchTable(/** @type {string} */ agentId, /** @type {any[]} */ branches) {
  const ttls = Math.max(...branches.map((/** @type {any} */ b) => (b.hops || []).length));
  const total = branches.reduce((/** @type {number} */ n, /** @type {any} */ b) => n + (b.flows || []).length, 0);
  const rows = [];
  for (let t = 0; t < ttls; t++) {
    const here = branches.map((/** @type {any} */ b) => (b.hops || [])[t]);
    const known = here.filter((/** @type {any} */ a) => a);
    const parted = new Set(known).size > 1 || (known.length > 0 && here.some((/** @type {any} */ a) => a === undefined));
    rows.push(h('tr', {class: parted ? 'parted' : ''}, h('td', {}, String(t + 1)),
      ...here.map((/** @type {any} */ a, /** @type {number} */ i) => {
        const asn = (branches[i].asns || [])[t];
        return h('td', {class: parted && a ? 'branch' : ''}, a === undefined ? '' : a || '*', asn ? h('span', {class: 'asn is-size-7 ml-1'}, 'AS' + asn) : '');
      })));
  }
  return h('div', {class: 'branches mb-4', 'data-agent': agentId},
    h('h3', {class: 'title is-6 mt-3'}, branches.length + ' distinct paths of ' + total + ' flows from ' + agentId),
    h('table', {class: 'table is-narrow branches'},
      h('thead', {}, h('tr', {}, h('th', {}, 'Hop'), ...branches.map((/** @type {any} */ b, /** @type {number} */ i) =>
        h('th', {}, 'Path ' + (i + 1), h('br'), h('span', {class: 'is-size-7 has-text-weight-normal flows'}, 'flows ' + (b.flows || []).join(', ')))))),
      h('tbody', {}, ...rows)));
}

/**
 * What every kind's results say beyond latency and loss, drawn from the roles and types its agents
 * announce (GET /api/v1/kinds), for any kind: a chart of each phase over time for a kind with
 * phase timings, and each agent's last result, value by value, with the kind's own words.
 */
async function kindViews(/** @type {HTMLElement} */ view, /** @type {string} */ name, /** @type {string[]} */ kinds,
  /** @type {Record<string, any>} */ schemas, /** @type {() => Promise<any[]>} */ results, /** @type {number} */ from,
  /** @type {number} */ to, /** @type {number} */ width) {
  const described = kinds.filter((k) => schemas[k] && (schemas[k].values || []).some((/** @type {any} */ v) => !v.local));
  if (!described.length) return;
  const items = (await results()).filter((/** @type {any} */ r) => described.includes(r.kind));
  /** @type {Record<string, string>} */ const phaseKinds = {};
  for (const k of described) {
    const v = valueWith(schemas[k], 'PHASES');
    if (v) phaseKinds[k] = v;
  }
  for (const [agentId, per] of Object.entries(phasesOf(items, phaseKinds))) {
    const phases = Object.keys(per.byPhase);
    if (per.times.length < 2 || !phases.length) continue;
    const box = h('div', {class: 'chart box phase-chart', 'data-agent': agentId});
    view.append(h('h2', {class: 'title is-5 mt-4'}, 'Each phase of a probe from ' + agentId), box);
    /** @type {(value?: any) => void} */ let drawn = () => {};
    const first = new Promise((resolve) => { drawn = resolve; });
    new uPlot({width, height: 240, scales: {x: {time: true, min: from, max: to}},
      series: [{}, ...phases.map((p, i) => ({label: p, stroke: PALETTE[i % PALETTE.length], width: 1.5,
        value: (/** @type {any} */ u, /** @type {number|null} */ v) => v === null ? '—' : v.toFixed(2) + ' ms'}))],
      axes: [{}, {label: 'ms'}], hooks: {draw: [() => drawn()]}},
    /** @type {any} */ ([per.times, ...phases.map((p) => per.byPhase[p])]), box);
    await first;
    state.charts.push({target: name, agent: agentId, phases: phases.length, points: per.times.length, kind: 'phases'});
  }
  /** @type {Record<string, any>} */ const last = {};
  for (const r of items) last[r.agent_id + '\u0000' + r.kind] = r;
  for (const r of Object.values(last)) {
    const declared = (schemas[r.kind].values || []).filter((/** @type {any} */ v) => !v.local && r.details[v.name] !== undefined && v.role !== 'PATH');
    if (!declared.length) continue;
    view.append(h('h2', {class: 'title is-5 mt-4'}, 'Last ' + r.kind + ' result from ' + r.agent_id + ' at ' + new Date(r.started_at).toLocaleString()),
      h('table', {class: 'table is-narrow last-values', 'data-agent': r.agent_id, 'data-kind': r.kind},
        h('tbody', {}, ...declared.map((/** @type {any} */ v) => h('tr', {'data-value': v.name},
          h('th', {title: v.help}, v.name), h('td', {}, shown(r.details[v.name], v)), h('td', {class: 'has-text-grey is-size-7'}, v.help))))));
  }
}
