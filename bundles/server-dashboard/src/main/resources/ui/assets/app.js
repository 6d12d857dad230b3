// @ts-check
// The Sonde dashboard: one page, its views chosen by the URL's fragment. Every datum comes from the
// API and goes into the page as text (h() below), never as markup.
import uPlot from '/ui/vendor/uplot/uPlot.esm.js';

/** @type {{user: string, role: string, csrf: string} | null} */
let session = null;
/** What the charts on the page hold, for people and for the tests. */
const state = /** @type {any} */ (window).__sonde = {charts: [], view: ''};

/**
 * Makes an element: attributes, then children (strings become text nodes).
 * @param {string} tag @param {Record<string, any>} [attrs] @param {...(Node|string|number|null|undefined)} children
 * @returns {HTMLElement}
 */
function h(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) e.addEventListener(k.substring(2), v);
    else e.setAttribute(k, String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
  return e;
}

/**
 * Asks the API. A change refused for its CSRF token (the session was replaced: a login in another
 * tab) is tried once more with the token of the session the cookie now holds.
 * @param {string} path @param {RequestInit} [init] @param {boolean} [again]
 */
async function api(path, init = {}, again = false) {
  const headers = /** @type {Record<string, string>} */ ({...(init.headers || {})});
  if (init.method && init.method !== 'GET' && session) headers['X-CSRF-Token'] = session.csrf;
  if (init.body) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, {...init, headers, credentials: 'same-origin'});
  if (r.status === 401) {
    location.assign('/ui/login');
    throw new Error('not logged in');
  }
  const body = r.status === 204 ? null : await r.json().catch(() => null);
  if (r.status === 403 && !again && body && String(body.error).includes('CSRF token')) {
    session = await api('/api/v1/session');
    return api(path, init, true);
  }
  if (!r.ok) throw new Error((body && body.error) || (r.status + ' ' + r.statusText));
  return body;
}

function showError(/** @type {any} */ e) {
  const box = /** @type {HTMLElement} */ (document.getElementById('error'));
  box.textContent = e ? String(e.message || e) : '';
  box.classList.toggle('is-hidden', !e);
}

function ago(/** @type {string|null} */ iso) {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 90) return s + ' s ago';
  if (s < 5400) return Math.round(s / 60) + ' min ago';
  if (s < 172800) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' days ago';
}

function tags(/** @type {string[]} */ list) {
  return h('span', {class: 'tags'}, ...list.map((t) => h('span', {class: 'tag is-light'}, t)));
}

// ---- Fleet -----------------------------------------------------------------------------------

async function fleet(/** @type {HTMLElement} */ view, /** @type {URLSearchParams} */ q) {
  const agents = (await api('/api/v1/agents')).items;
  const tag = q.get('tag') || '';
  const shown = agents.filter((/** @type {any} */ a) => !tag || a.tags.includes(tag));
  const count = (/** @type {(a: any) => boolean} */ f) => agents.filter(f).length;
  const filter = h('input', {class: 'input', id: 'tag-filter', placeholder: 'filter by tag', value: tag});
  filter.addEventListener('change', () => { location.hash = '#/fleet' + (/** @type {HTMLInputElement} */ (filter).value ? '?tag=' + encodeURIComponent(/** @type {HTMLInputElement} */ (filter).value) : ''); });
  const stat = (/** @type {string} */ label, /** @type {number} */ n, /** @type {string} */ id) =>
    h('div', {class: 'level-item has-text-centered'}, h('div', {}, h('p', {class: 'heading'}, label), h('p', {class: 'title', id}, n)));
  view.append(
    h('h1', {class: 'title'}, 'Fleet'),
    h('nav', {class: 'level box'},
      stat('agents', agents.length, 'count-agents'),
      stat('online', count((a) => a.online && !a.revoked), 'count-online'),
      stat('offline', count((a) => !a.online && !a.revoked), 'count-offline'),
      stat('stale config', count((a) => a.config && a.config.stale), 'count-stale'),
      stat('revoked', count((a) => a.revoked), 'count-revoked')),
    h('div', {class: 'field'}, filter),
    h('table', {class: 'table is-fullwidth is-striped', id: 'agents'},
      h('thead', {}, h('tr', {}, ...['Agent', 'State', 'Version', 'Tags', 'Last seen', 'Config', 'Spool'].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...shown.map((/** @type {any} */ a) => h('tr', {'data-agent': a.agent_id},
        h('td', {}, a.agent_id),
        h('td', {}, h('span', {class: 'tag ' + (a.revoked ? 'is-dark' : a.online ? 'is-success' : 'is-danger')}, a.revoked ? 'revoked' : a.online ? 'online' : 'offline')),
        h('td', {}, a.version || ''),
        h('td', {}, tags(a.tags)),
        h('td', {title: a.last_seen || ''}, ago(a.last_seen)),
        h('td', {}, a.config && a.config.applied ? (a.config.stale ? h('span', {class: 'tag is-warning', title: a.config.stale_reason || ''}, 'stale') : 'current') : '—'),
        h('td', {}, a.spool_records))))));
}

// ---- Targets and the smoke chart ------------------------------------------------------------

async function targets(/** @type {HTMLElement} */ view) {
  const observed = (await api('/api/v1/observed')).items;
  view.append(h('h1', {class: 'title'}, 'Targets'),
    h('table', {class: 'table is-fullwidth is-striped', id: 'targets'},
      h('thead', {}, h('tr', {}, h('th', {}, 'Target'), h('th', {}, 'Kinds'), h('th', {}, 'Vantage agents'))),
      h('tbody', {}, ...observed.map((/** @type {any} */ t) => h('tr', {},
        h('td', {}, h('a', {href: '#/target/' + encodeURIComponent(t.target), class: 'target-link'}, t.target)),
        h('td', {}, t.kinds.join(', ')),
        h('td', {}, t.agents.join(', ')))))));
}

const RANGES = [['1h', 3600], ['6h', 21600], ['24h', 86400], ['7d', 604800], ['30d', 2592000], ['1y', 31536000]];
const STEPS = [10, 30, 60, 300, 900, 3600, 21600, 86400];

/** @returns the step, in seconds, that gives a range at most about 9,000 points (a year: one hour) */
function stepFor(/** @type {number} */ seconds) {
  return STEPS.find((s) => seconds / s <= 9000) || 86400;
}

/** SmokePing's colours of loss: none, a little, some, much. */
function lossColour(/** @type {number|null} */ loss) {
  if (loss === null || loss === undefined) return '#9e9e9e';
  if (loss <= 0) return '#2e7d32';
  if (loss <= 0.05) return '#1565c0';
  if (loss <= 0.2) return '#8e24aa';
  return '#c62828';
}

/**
 * A smoke chart: the range from shortest to longest response time shaded light, the 50th to 90th
 * percentile darker, the median drawn over them coloured by loss; route changes marked as
 * vertical lines. Dragging over it zooms in (the finer data is fetched).
 */
async function smoke(/** @type {HTMLElement} */ box, /** @type {string} */ target, /** @type {string|null} */ agent,
  /** @type {number} */ from, /** @type {number} */ to, /** @type {number[]} */ changes, /** @type {number} */ width) {
  const step = stepFor(to - from);
  const q = new URLSearchParams({target, step: step + 's', from: new Date(from * 1000).toISOString(), to: new Date(to * 1000).toISOString()});
  if (agent) q.set('agent', agent);
  const t0 = performance.now();
  const items = (await api('/api/v1/series?' + q)).items;
  const xs = [], min = [], p50 = [], p90 = [], max = [], loss = [];
  for (const s of items) {
    xs.push(Date.parse(s.start) / 1000);
    min.push(s.min === null ? null : s.min * 1000);
    p50.push(s.p50 === null ? null : s.p50 * 1000);
    p90.push(s.p90 === null ? null : s.p90 * 1000);
    max.push(s.max === null ? null : s.max * 1000);
    loss.push(s.loss);
  }
  const t1 = performance.now();
  box.replaceChildren();
  const drawMedian = (/** @type {uPlot} */ u) => {
    const ctx = u.ctx;
    ctx.save();
    ctx.lineWidth = 2 * devicePixelRatio;
    for (let i = 1; i < xs.length; i++) {
      if (p50[i] === null || p50[i - 1] === null) continue;
      ctx.strokeStyle = lossColour(loss[i]);
      ctx.beginPath();
      ctx.moveTo(u.valToPos(xs[i - 1], 'x', true), u.valToPos(/** @type {number} */ (p50[i - 1]), 'y', true));
      ctx.lineTo(u.valToPos(xs[i], 'x', true), u.valToPos(/** @type {number} */ (p50[i]), 'y', true));
      ctx.stroke();
    }
    ctx.strokeStyle = '#c62828';
    ctx.setLineDash([4, 4]);
    for (const c of changes) {
      if (c < from || c > to) continue;
      const x = u.valToPos(c, 'x', true);
      ctx.beginPath();
      ctx.moveTo(x, u.bbox.top);
      ctx.lineTo(x, u.bbox.top + u.bbox.height);
      ctx.stroke();
    }
    ctx.restore();
  };
  /** @type {(value?: any) => void} */ let drawn = () => {};
  const first = new Promise((resolve) => { drawn = resolve; });
  const opts = {
    width, height: 300,
    scales: {x: {time: true, min: from, max: to}},
    cursor: {drag: {x: true, y: false}},
    series: [
      {},
      {label: 'min', stroke: 'rgba(0,0,0,0)', value: (/** @type {any} */ u, /** @type {number|null} */ v) => v === null ? '—' : v.toFixed(2) + ' ms'},
      {label: 'median', stroke: 'rgba(0,0,0,0)', value: (/** @type {any} */ u, /** @type {number|null} */ v) => v === null ? '—' : v.toFixed(2) + ' ms'},
      {label: 'p90', stroke: 'rgba(0,0,0,0)', value: (/** @type {any} */ u, /** @type {number|null} */ v) => v === null ? '—' : v.toFixed(2) + ' ms'},
      {label: 'max', stroke: 'rgba(0,0,0,0)', value: (/** @type {any} */ u, /** @type {number|null} */ v) => v === null ? '—' : v.toFixed(2) + ' ms'},
    ],
    bands: [{series: [4, 1], fill: 'rgba(96,96,96,0.18)'}, {series: [3, 2], fill: 'rgba(64,64,64,0.40)'}],
    axes: [{}, {label: 'ms'}],
    hooks: {
      draw: [drawMedian, () => drawn()],
      setSelect: [(/** @type {uPlot} */ u) => {
        if (u.select.width < 5) return;
        const a = Math.floor(u.posToVal(u.select.left, 'x'));
        const b = Math.ceil(u.posToVal(u.select.left + u.select.width, 'x'));
        const params = new URLSearchParams(location.hash.split('?')[1] || '');
        params.set('from', String(a));
        params.set('to', String(b));
        location.hash = location.hash.split('?')[0] + '?' + params;
      }],
    },
  };
  const chart = new uPlot(opts, [xs, min, p50, p90, max], box);
  await first; // uPlot draws in a microtask after it is made: the time to the end of the first drawing
  const t2 = performance.now();
  const record = {target, agent, from, to, step, points: xs.length, fetchMs: Math.round(t1 - t0), renderMs: Math.round(t2 - t1),
    medians: p50.filter((v) => v !== null).length, losses: loss.filter((v) => v > 0).length};
  state.charts.push(record);
  box.dataset.points = String(xs.length);
  box.dataset.step = String(step);
  box.dataset.from = String(from);
  box.dataset.to = String(to);
  box.dataset.renderMs = String(record.renderMs);
  return chart;
}

const PALETTE = ['#1565c0', '#2e7d32', '#c62828', '#8e24aa', '#ef6c00', '#00838f', '#6d4c41', '#5e35b1', '#9e9d24', '#ad1457'];

/** Each vantage agent's median on one chart, a colour each: where one agent differs from the others. */
async function overlayChart(/** @type {HTMLElement} */ box, /** @type {string} */ target, /** @type {string[]} */ agents,
  /** @type {number} */ from, /** @type {number} */ to, /** @type {number} */ width) {
  const step = stepFor(to - from);
  const t0 = performance.now();
  const parts = await Promise.all(agents.map(async (a) => {
    const q = new URLSearchParams({target, agent: a, step: step + 's', from: new Date(from * 1000).toISOString(), to: new Date(to * 1000).toISOString()});
    const items = (await api('/api/v1/series?' + q)).items;
    return [items.map((/** @type {any} */ x) => Date.parse(x.start) / 1000), items.map((/** @type {any} */ x) => x.p50 === null ? null : x.p50 * 1000)];
  }));
  const t1 = performance.now();
  const data = uPlot.join(/** @type {any} */ (parts));
  /** @type {(value?: any) => void} */ let drawn = () => {};
  const first = new Promise((resolve) => { drawn = resolve; });
  box.replaceChildren();
  new uPlot({width, height: 260, scales: {x: {time: true, min: from, max: to}}, cursor: {drag: {x: true, y: false}},
    series: [{}, ...agents.map((a, i) => ({label: a, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: false}))],
    axes: [{}, {label: 'ms (median)'}], hooks: {draw: [() => drawn()]}}, data, box);
  await first;
  const record = {target, agent: '*', agents, from, to, step, points: data[0].length, fetchMs: Math.round(t1 - t0), renderMs: Math.round(performance.now() - t1)};
  state.charts.push(record);
  box.dataset.points = String(data[0].length);
}

/** @returns the times at which the traceroute path changed, and the latest path */
async function pathOf(/** @type {string} */ target, /** @type {number} */ from, /** @type {number} */ to) {
  const q = new URLSearchParams({target, from: new Date(from * 1000).toISOString(), to: new Date(to * 1000).toISOString(), limit: '5000'});
  const items = (await api('/api/v1/results?' + q)).items.filter((/** @type {any} */ r) => r.kind === 'traceroute');
  /** @type {Record<string, string>} */ const last = {};
  const changes = [];
  let latest = null;
  for (const r of items) {
    const hops = (r.details.hops || []).map((/** @type {any} */ x) => x.address || '*');
    const key = hops.join(' ');
    if (last[r.agent_id] !== undefined && last[r.agent_id] !== key) changes.push(Date.parse(r.started_at) / 1000);
    last[r.agent_id] = key;
    latest = r;
  }
  return {changes, latest, traces: items.length};
}

async function target(/** @type {HTMLElement} */ view, /** @type {string} */ name, /** @type {URLSearchParams} */ q) {
  const now = Math.floor(Date.now() / 1000);
  const range = q.get('range') || '6h';
  const seconds = (RANGES.find((r) => r[0] === range) || RANGES[1])[1];
  const to = Number(q.get('to')) || now;
  const from = Number(q.get('from')) || to - /** @type {number} */ (seconds);
  const overlay = q.get('agents') === 'overlay';
  const observed = (await api('/api/v1/observed')).items.find((/** @type {any} */ t) => t.target === name);
  const agents = observed ? observed.agents : [];
  const link = (/** @type {Record<string,string>} */ p, /** @type {string} */ label, /** @type {boolean} */ active) =>
    h('a', {class: 'button is-small' + (active ? ' is-link' : ''), href: '#/target/' + encodeURIComponent(name) + '?' + new URLSearchParams(p)}, label);
  view.append(
    h('h1', {class: 'title', id: 'target-name'}, name),
    h('p', {class: 'subtitle is-6'}, observed ? observed.kinds.join(', ') + ' from ' + agents.join(', ') : 'no results yet'),
    h('div', {class: 'buttons has-addons', id: 'ranges'}, ...RANGES.map(([r]) => link({range: String(r), agents: overlay ? 'overlay' : 'side'}, String(r), !q.get('from') && r === range))),
    h('div', {class: 'buttons has-addons'}, link({range, agents: 'side'}, 'per agent, side by side', !overlay), link({range, agents: 'overlay'}, 'per agent, overlaid', overlay)),
    h('p', {class: 'legend-loss is-size-7 mb-2'}, 'median coloured by loss: ', h('span', {class: 'loss-0'}, '0'), h('span', {class: 'loss-1'}, '≤ 5 %'),
      h('span', {class: 'loss-2'}, '≤ 20 %'), h('span', {class: 'loss-3'}, '> 20 %'), ' · dashed red: route changed · drag to zoom'));
  const path = observed && observed.kinds.includes('traceroute') ? await pathOf(name, from, to) : {changes: [], latest: null, traces: 0};
  const width = Math.max(400, view.clientWidth - 48);
  const main = h('div', {class: 'chart box', id: 'chart-all'});
  view.append(h('h2', {class: 'title is-5'}, 'All vantage agents'), main);
  await smoke(main, name, null, from, to, path.changes, width);
  if (overlay && agents.length > 1) {
    const box = h('div', {class: 'chart box', id: 'chart-overlay'});
    view.append(h('h2', {class: 'title is-5 mt-4'}, 'Each vantage agent\'s median, overlaid'), box);
    await overlayChart(box, name, agents, from, to, width);
  }
  if (!overlay && agents.length > 1) {
    const grid = h('div', {class: 'charts-per-agent', id: 'charts-per-agent'});
    view.append(h('h2', {class: 'title is-5 mt-4'}, 'Per vantage agent'), grid);
    for (const a of agents) {
      const box = h('div', {class: 'chart box', 'data-agent': a});
      grid.append(h('div', {}, h('p', {class: 'has-text-weight-semibold'}, a), box));
      await smoke(box, name, a, from, to, path.changes, Math.max(300, Math.floor((view.clientWidth - 16) / 2) - 48));
    }
  }
  if (path.latest) {
    const hops = path.latest.details.hops || [];
    view.append(h('h2', {class: 'title is-5 mt-4'}, 'Path from ' + path.latest.agent_id + ' at ' + new Date(path.latest.started_at).toLocaleString()),
      h('p', {class: 'mb-2', id: 'route-changes'}, path.changes.length + ' route change' + (path.changes.length === 1 ? '' : 's') + ' in this range',
        ...path.changes.slice(-5).map((c) => h('span', {class: 'route-change ml-2'}, new Date(c * 1000).toLocaleTimeString()))),
      h('table', {class: 'table is-narrow', id: 'path'},
        h('thead', {}, h('tr', {}, h('th', {}, 'Hop'), h('th', {}, 'Address'), h('th', {}, 'Loss'), h('th', {}, 'Latency'))),
        h('tbody', {}, ...hops.map((/** @type {any} */ x) => {
          const rtts = (x.rtts || []).filter((/** @type {any} */ v) => v !== null);
          const lossPct = x.sent ? Math.round(100 * (x.sent - rtts.length) / x.sent) : 0;
          const avg = rtts.length ? rtts.reduce((/** @type {number} */ a, /** @type {number} */ b) => a + b, 0) / rtts.length * 1000 : null;
          return h('tr', {}, h('td', {}, x.ttl), h('td', {}, x.address || '*'), h('td', {}, lossPct + ' %'), h('td', {}, avg === null ? '—' : avg.toFixed(2) + ' ms'));
        }))));
  }
}

// ---- Meshes ----------------------------------------------------------------------------------

async function meshes(/** @type {HTMLElement} */ view) {
  const items = (await api('/api/v1/meshes')).items;
  view.append(h('h1', {class: 'title'}, 'Meshes'),
    items.length === 0 ? h('p', {}, 'No mesh is defined.') : h('ul', {}, ...items.map((/** @type {any} */ m) =>
      h('li', {}, h('a', {href: '#/mesh/' + encodeURIComponent(m.name)}, m.name), ' — members: ', m.members))));
}

async function mesh(/** @type {HTMLElement} */ view, /** @type {string} */ name) {
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

// ---- Alerts ----------------------------------------------------------------------------------

async function alerts(/** @type {HTMLElement} */ view) {
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
          route();
        }}, 'end') : ''))))));
}

// ---- Configuration (admin) -------------------------------------------------------------------

const KINDS = {
  targets: {path: '/api/v1/targets', label: 'Target', template: {kind: 'tcp', host: 'example.net', port: 443, interval_ms: 5000, agents: '*', tags: []}},
  meshes: {path: '/api/v1/meshes', label: 'Mesh', template: {members: '*', kinds: ['icmp'], fanout: 'all', interval_ms: 30000}},
  'alert-rules': {path: '/api/v1/alert-rules', label: 'Alert rule', template: {type: 'target_down', target: '*', for: '1m', notify: []}},
};

/** A definition's editor: its name and its JSON, checked by the API, whose error is shown as it is. */
function editor(/** @type {string} */ type, /** @type {any} */ existing) {
  const k = /** @type {any} */ (KINDS)[type];
  const body = existing ? {...existing} : k.template;
  delete body.name; delete body.updated_at; delete body.sha256; delete body.agents_taken; delete body.states; delete body.agents_status; delete body.peers;
  const name = h('input', {class: 'input', id: 'def-name', placeholder: 'name', value: existing ? existing.name : ''});
  const text = h('textarea', {class: 'textarea is-family-monospace', id: 'def-body', rows: 8});
  text.textContent = JSON.stringify(body, null, 2);
  const result = h('p', {class: 'help', id: 'def-result'});
  const preview = h('p', {class: 'help', id: 'def-preview'});
  const save = async () => {
    result.className = 'help';
    result.textContent = '';
    try {
      const n = /** @type {HTMLInputElement} */ (name).value;
      const json = JSON.parse(/** @type {HTMLTextAreaElement} */ (text).value);
      await api(k.path + '/' + encodeURIComponent(n), {method: 'PUT', body: JSON.stringify(json)});
      result.className = 'help is-success';
      result.textContent = k.label + ' ' + n + ' saved';
      setTimeout(route, 600);
    } catch (e) {
      result.className = 'help is-danger';
      result.textContent = String(/** @type {any} */ (e).message || e);
    }
  };
  const showPreview = async () => {
    try {
      const json = JSON.parse(/** @type {HTMLTextAreaElement} */ (text).value);
      const selector = json.agents || json.members || '*';
      const agents = (await api('/api/v1/agents?selector=' + encodeURIComponent(selector))).items;
      preview.className = 'help';
      preview.textContent = '"' + selector + '" takes ' + agents.length + ' agent' + (agents.length === 1 ? '' : 's') + ' now: '
        + agents.map((/** @type {any} */ a) => a.agent_id).join(', ');
    } catch (e) {
      preview.className = 'help is-danger';
      preview.textContent = String(/** @type {any} */ (e).message || e);
    }
  };
  return h('div', {class: 'box', id: 'editor'},
    h('h3', {class: 'title is-6'}, (existing ? 'Edit ' : 'New ') + k.label.toLowerCase()),
    h('div', {class: 'field'}, name), h('div', {class: 'field'}, text),
    h('div', {class: 'buttons'}, h('button', {class: 'button is-primary', id: 'def-save', onclick: save}, 'Save'),
      h('button', {class: 'button', id: 'def-preview-button', onclick: showPreview}, 'Which agents?')),
    result, preview);
}

async function settings(/** @type {HTMLElement} */ view, /** @type {string} */ type, /** @type {URLSearchParams} */ q) {
  const tabs = [['targets', 'Targets'], ['meshes', 'Meshes'], ['alert-rules', 'Alert rules'], ['tokens', 'Enrollment tokens'], ['agents', 'Agents'], ['users', 'Users']];
  const current = type || 'targets';
  view.append(h('h1', {class: 'title'}, 'Configuration'),
    h('div', {class: 'tabs'}, h('ul', {}, ...tabs.map(([id, label]) => h('li', {class: id === current ? 'is-active' : ''}, h('a', {href: '#/settings/' + id}, label))))));
  if (/** @type {any} */ (KINDS)[current]) {
    const k = /** @type {any} */ (KINDS)[current];
    const items = (await api(k.path)).items;
    const editing = q.get('edit');
    view.append(editor(current, editing ? items.find((/** @type {any} */ d) => d.name === editing) : null),
      h('table', {class: 'table is-fullwidth is-narrow', id: 'definitions'},
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Definition'), h('th', {}, ''))),
        h('tbody', {}, ...items.map((/** @type {any} */ d) => h('tr', {'data-name': d.name},
          h('td', {}, d.name),
          h('td', {class: 'is-family-monospace is-size-7'}, JSON.stringify(Object.fromEntries(Object.entries(d).filter(([key]) => key !== 'name' && key !== 'updated_at')))),
          h('td', {}, h('div', {class: 'buttons'},
            h('a', {class: 'button is-small', href: '#/settings/' + current + '?edit=' + encodeURIComponent(d.name)}, 'edit'),
            h('button', {class: 'button is-small is-danger is-light', onclick: async () => {
              if (!confirm('Delete ' + k.label.toLowerCase() + ' ' + d.name + '?')) return;
              await api(k.path + '/' + encodeURIComponent(d.name), {method: 'DELETE'}).catch(showError);
              route();
            }}, 'delete'))))))));
    return;
  }
  if (current === 'tokens') {
    const items = (await api('/api/v1/enrollment-tokens')).items;
    const tagsInput = h('input', {class: 'input', id: 'token-tags', placeholder: 'tags, comma separated'});
    const single = h('input', {type: 'checkbox', id: 'token-single'});
    const shown = h('div', {id: 'token-shown'});
    view.append(h('div', {class: 'box'},
      h('div', {class: 'field'}, tagsInput), h('label', {class: 'checkbox'}, single, ' single use'),
      h('div', {class: 'buttons mt-2'}, h('button', {class: 'button is-primary', id: 'token-create', onclick: async () => {
        try {
          const tagList = /** @type {HTMLInputElement} */ (tagsInput).value.split(',').map((t) => t.trim()).filter((t) => t);
          const t = await api('/api/v1/enrollment-tokens', {method: 'POST', body: JSON.stringify({tags: tagList, single_use: /** @type {HTMLInputElement} */ (single).checked})});
          const code = h('code', {id: 'token-secret'}, t.token);
          shown.replaceChildren(h('div', {class: 'notification is-warning'}, 'Copy the token now: it is shown once. ', code, ' ',
            h('button', {class: 'button is-small', onclick: () => navigator.clipboard && navigator.clipboard.writeText(t.token)}, 'copy')));
        } catch (e) { showError(e); }
      }}, 'New enrollment token')), shown),
      h('table', {class: 'table is-fullwidth is-narrow', id: 'tokens'},
        h('thead', {}, h('tr', {}, ...['Id', 'Tags', 'Expires', 'Single use', ''].map((c) => h('th', {}, c)))),
        h('tbody', {}, ...items.map((/** @type {any} */ t) => h('tr', {'data-id': t.id}, h('td', {}, t.id), h('td', {}, tags(t.tags)),
          h('td', {}, new Date(t.expires_at).toLocaleString()), h('td', {}, t.single_use ? 'yes' : 'no'),
          h('td', {}, h('button', {class: 'button is-small is-danger is-light', onclick: async () => {
            await api('/api/v1/enrollment-tokens/' + t.id, {method: 'DELETE'}).catch(showError);
            route();
          }}, 'revoke')))))));
    return;
  }
  if (current === 'agents') {
    const items = (await api('/api/v1/agents')).items;
    const tagEditor = (/** @type {any} */ a) => {
      const input = h('input', {class: 'input is-small agent-tags', value: a.tags.join(', ')});
      const said = h('span', {class: 'help is-danger agent-tags-error'});
      return h('div', {class: 'field has-addons'}, h('div', {class: 'control'}, input), h('div', {class: 'control'},
        h('button', {class: 'button is-small agent-tags-save', onclick: async () => {
          try {
            const list = /** @type {HTMLInputElement} */ (input).value.split(',').map((t) => t.trim()).filter((t) => t);
            await api('/api/v1/agents/' + encodeURIComponent(a.agent_id) + '/tags', {method: 'PUT', body: JSON.stringify({tags: list})});
            route();
          } catch (e) { said.textContent = String(/** @type {any} */ (e).message || e); }
        }}, 'save tags')), said);
    };
    view.append(h('table', {class: 'table is-fullwidth is-narrow', id: 'agent-admin'},
      h('thead', {}, h('tr', {}, ...['Agent', 'Tags', 'State', ''].map((c) => h('th', {}, c)))),
      h('tbody', {}, ...items.map((/** @type {any} */ a) => h('tr', {'data-agent': a.agent_id}, h('td', {}, a.agent_id), h('td', {}, a.revoked ? tags(a.tags) : tagEditor(a)),
        h('td', {}, a.revoked ? 'revoked' : a.online ? 'online' : 'offline'),
        h('td', {}, a.revoked ? '' : h('button', {class: 'button is-small is-danger is-light', onclick: async () => {
          if (!confirm('Revoke agent ' + a.agent_id + '? Its credential stops working.')) return;
          await api('/api/v1/agents/' + encodeURIComponent(a.agent_id), {method: 'DELETE'}).catch(showError);
          route();
        }}, 'revoke')))))));
    return;
  }
  const users = (await api('/api/v1/users')).items;
  const uname = h('input', {class: 'input', id: 'user-name', placeholder: 'name'});
  const upass = h('input', {class: 'input', id: 'user-password', type: 'password', placeholder: 'password (10 characters or more)'});
  const urole = h('select', {id: 'user-role'}, h('option', {value: 'viewer'}, 'viewer'), h('option', {value: 'admin'}, 'admin'));
  const uresult = h('p', {class: 'help', id: 'user-result'});
  view.append(h('div', {class: 'box'}, h('div', {class: 'field is-grouped'}, uname, upass, h('div', {class: 'select'}, urole),
    h('button', {class: 'button is-primary', id: 'user-save', onclick: async () => {
      try {
        await api('/api/v1/users/' + encodeURIComponent(/** @type {HTMLInputElement} */ (uname).value), {method: 'PUT',
          body: JSON.stringify({password: /** @type {HTMLInputElement} */ (upass).value, role: /** @type {HTMLSelectElement} */ (urole).value})});
        route();
      } catch (e) { uresult.className = 'help is-danger'; uresult.textContent = String(/** @type {any} */ (e).message || e); }
    }}, 'Save user')), uresult),
    h('table', {class: 'table is-narrow', id: 'users'}, h('tbody', {}, ...users.map((/** @type {any} */ u) => h('tr', {},
      h('td', {}, u.name), h('td', {}, u.role), h('td', {}, h('button', {class: 'button is-small is-danger is-light', onclick: async () => {
        if (!confirm('Delete user ' + u.name + '?')) return;
        await api('/api/v1/users/' + encodeURIComponent(u.name), {method: 'DELETE'}).catch(showError);
        route();
      }}, 'delete')))))));
}

// ---- Routing ---------------------------------------------------------------------------------

async function route() {
  const t0 = performance.now();
  const view = /** @type {HTMLElement} */ (document.getElementById('view'));
  const [path, query] = (location.hash.substring(1) || '/fleet').split('?');
  const q = new URLSearchParams(query || '');
  const parts = path.split('/').slice(1).map(decodeURIComponent);
  view.replaceChildren();
  state.charts = [];
  state.view = '';
  showError(null);
  for (const a of document.querySelectorAll('.navbar-start .navbar-item')) a.classList.toggle('is-active', a.id === 'nav-' + parts[0]);
  try {
    switch (parts[0]) {
      case 'targets': await targets(view); break;
      case 'target': await target(view, parts.slice(1).join('/'), q); break;
      case 'meshes': await meshes(view); break;
      case 'mesh': await mesh(view, parts[1]); break;
      case 'alerts': await alerts(view); break;
      case 'settings': await settings(view, parts[1], q); break;
      case 'logout':
        await api('/api/v1/session', {method: 'DELETE'});
        location.assign('/ui/login');
        return;
      default: await fleet(view, q);
    }
    state.view = parts[0] || 'fleet';
    state.ms = Math.round(performance.now() - t0); // this view: its requests and its drawing
    state.sinceNavigation = Math.round(performance.now()); // from the page's navigation start
  } catch (e) {
    showError(e);
    state.view = 'error';
  }
}

session = await api('/api/v1/session');
/** @type {HTMLElement} */ (document.getElementById('who')).textContent = session ? session.user + ' (' + session.role + ')' : '';
/** @type {HTMLElement} */ (document.getElementById('nav-settings')).classList.toggle('is-hidden', !session || session.role !== 'admin');
window.addEventListener('hashchange', route);
await route();
