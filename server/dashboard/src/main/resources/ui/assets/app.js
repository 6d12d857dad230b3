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

/** Every item of a paged list: its pages in turn, following {@code next} (at most 1,000 pages). */
async function apiAll(/** @type {string} */ path) {
  /** @type {any[]} */
  const items = [];
  let after = null;
  for (let page = 0; page < 1000; page++) {
    const body = await api(path + (after === null ? '' : (path.includes('?') ? '&' : '?') + 'after=' + encodeURIComponent(after)));
    items.push(...body.items);
    if (body.next === null || body.next === undefined) break;
    after = body.next;
  }
  return items;
}

/** Appends to {@code parent} what is there of {@code children}: a null stands for something not shown, never the text "null". */
function put(/** @type {HTMLElement} */ parent, /** @type {...(Node|string|null|undefined)} */ ...children) {
  for (const c of children) {
    if (c !== null && c !== undefined) parent.append(c);
  }
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

// ---- Targets and the smoke chart ------------------------------------------------------------

/** The health model's states, worst first, with their colours: one table for the README, the help and every view. */
const STATES = /** @type {Record<string, {colour: string, meaning: string}>} */ ({
  down: {colour: 'is-danger', meaning: 'the latest probe failed'},
  backoff: {colour: 'is-danger', meaning: 'down, probed less often until it answers'},
  degraded: {colour: 'is-warning', meaning: "answers, with loss or latency past the target's thresholds"},
  refused: {colour: 'is-warning is-light', meaning: 'the agent refused the definition'},
  no_prober: {colour: 'is-warning is-light', meaning: 'no installed plugin probes its kind'},
  unknown: {colour: 'is-dark', meaning: 'no result: the agent is offline, has not probed it yet, or is overdue'},
  up: {colour: 'is-success', meaning: 'the latest probe succeeded within the thresholds'},
});

function stateTag(/** @type {string} */ st, /** @type {string} */ title = '') {
  return h('span', {class: 'tag state-' + st + ' ' + ((STATES[st] || {}).colour || ''), title: title || (STATES[st] || {}).meaning}, st);
}

function pct(/** @type {number|null} */ loss) {
  return loss === null || loss === undefined ? '—' : (loss * 100).toFixed(1) + ' %';
}

function ms(/** @type {number|null} */ seconds) {
  return seconds === null || seconds === undefined ? '—' : (seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1) + ' ms';
}

/** @returns the agents in the target's overall state (down takes backoff with it) */
function affected(/** @type {any} */ t) {
  const down = (/** @type {string} */ st) => st === 'down' || st === 'backoff';
  return (t.agents || []).filter((/** @type {any} */ a) => down(t.state) ? down(a.state) : a.state === t.state).map((/** @type {any} */ a) => a.agent_id);
}

/** @returns the agents in the target's state, in few words: all of them, or the first five and how many more */
function fromWhom(/** @type {any} */ t) {
  const names = affected(t);
  const n = Math.max(names.length, t.affected || 0); // the list carries the worst agents only; the count is of all
  if (n > 3 && n === t.vantages) return 'every vantage agent';
  return n > 5 ? names.slice(0, 5).join(', ') + ' and ' + (n - 5) + ' more' : names.join(', ');
}

function reasonOf(/** @type {any} */ t) {
  const names = affected(t);
  const bad = (t.agents || []).filter((/** @type {any} */ a) => names.includes(a.agent_id) && a.reason);
  return bad.length ? bad[0].reason : (t.last_failure ? t.last_failure.reason + ': ' + (t.last_failure.error || '') : '');
}

function stateHelp() {
  return h('details', {class: 'box', id: 'state-help'}, h('summary', {}, 'What the states mean'),
    h('table', {class: 'table is-narrow'}, h('tbody', {}, ...Object.entries(STATES).map(([k, v]) => h('tr', {}, h('td', {}, stateTag(k)), h('td', {}, v.meaning))))));
}

// ---- Now: what is broken ----------------------------------------------------------------------

/** Rows of the landing page's list of broken targets; the grid shows twice as many, worst first. */
const NOW_ROWS = 250;

async function now(/** @type {HTMLElement} */ view) {
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

// ---- Targets ----------------------------------------------------------------------------------

async function targets(/** @type {HTMLElement} */ view, /** @type {URLSearchParams} */ q) {
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

/** The steps of a target's series (one agent's, or all), in ms, with loss and the failed share of each step. */
async function seriesOf(/** @type {string} */ target, /** @type {string|null} */ agent, /** @type {number} */ from, /** @type {number} */ to) {
  const step = stepFor(to - from);
  const q = new URLSearchParams({target, step: step + 's', from: new Date(from * 1000).toISOString(), to: new Date(to * 1000).toISOString()});
  if (agent) q.set('agent', agent);
  const t0 = performance.now();
  const items = (await api('/api/v1/series?' + q)).items;
  const d = {step, fetchMs: 0, xs: /** @type {number[]} */ ([]), min: /** @type {(number|null)[]} */ ([]), p50: /** @type {(number|null)[]} */ ([]),
    p90: /** @type {(number|null)[]} */ ([]), max: /** @type {(number|null)[]} */ ([]), loss: /** @type {(number|null)[]} */ ([]),
    failed: /** @type {number[]} */ ([]), top: 0};
  for (const s of items) {
    d.xs.push(Date.parse(s.start) / 1000);
    d.min.push(s.min === null ? null : s.min * 1000);
    d.p50.push(s.p50 === null ? null : s.p50 * 1000);
    d.p90.push(s.p90 === null ? null : s.p90 * 1000);
    d.max.push(s.max === null ? null : s.max * 1000);
    d.loss.push(s.loss);
    d.failed.push(s.count > 0 ? s.failures / s.count : 0);
    if (s.max !== null) d.top = Math.max(d.top, s.max * 1000);
  }
  d.fetchMs = Math.round(performance.now() - t0);
  return d;
}

/**
 * A smoke chart: the range from shortest to longest response time shaded light, the 50th to 90th
 * percentile darker, the median drawn over them coloured by loss; steps where every probe failed as
 * red bands (lighter where some did), with the reason written over a range where nothing answered;
 * route changes marked as vertical lines. Dragging over it zooms in (the finer data is fetched).
 */
async function smoke(/** @type {HTMLElement} */ box, /** @type {string} */ target, /** @type {string|null} */ agent,
  /** @type {number} */ from, /** @type {number} */ to, /** @type {number[]} */ changes, /** @type {number} */ width,
  /** @type {{data?: any, yMax?: number, reason?: string}} */ extra = {}) {
  const yMax = extra.yMax || 0;
  const downReason = extra.reason || '';
  const d = extra.data || await seriesOf(target, agent, from, to);
  const {xs, min, p50, p90, max, loss, failed, step} = d;
  const t1 = performance.now();
  box.replaceChildren();
  const answered = p50.some((v) => v !== null);
  const drawMedian = (/** @type {uPlot} */ u) => {
    const ctx = u.ctx;
    ctx.save();
    // down: red bands over the steps whose probes failed, the whole step wide
    for (let i = 0; i < xs.length; i++) {
      if (!failed[i]) continue;
      const x0 = u.valToPos(xs[i], 'x', true);
      const x1 = u.valToPos(xs[i] + step, 'x', true);
      ctx.fillStyle = failed[i] >= 1 ? 'rgba(241,70,104,0.35)' : 'rgba(241,70,104,0.12)';
      ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height);
    }
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
    if (!answered) {
      ctx.setLineDash([]);
      ctx.fillStyle = '#a0153e';
      ctx.font = (14 * devicePixelRatio) + 'px sans-serif';
      ctx.textAlign = 'center';
      const text = xs.length && failed.some((f) => f > 0) ? 'no answer in this range' + (downReason ? ': ' + downReason : '') : 'no results in this range';
      ctx.fillText(text, u.bbox.left + u.bbox.width / 2, u.bbox.top + u.bbox.height / 2);
    }
    ctx.restore();
  };
  /** @type {(value?: any) => void} */ let drawn = () => {};
  const first = new Promise((resolve) => { drawn = resolve; });
  const ms = (/** @type {any} */ u, /** @type {number|null} */ v) => v === null ? '—' : v.toFixed(2) + ' ms';
  const top = yMax || d.top || 1;
  const opts = {
    width, height: 300,
    scales: {x: {time: true, min: from, max: to}, y: {range: (/** @type {any} */ u, /** @type {number} */ lo, /** @type {number} */ hi) => [0, yMax ? yMax * 1.05 : Math.max(hi || 0, top) * 1.05]},
      loss: {range: [0, 100]}},
    cursor: {drag: {x: true, y: false}},
    series: [
      {},
      {label: 'min', stroke: 'rgba(0,0,0,0)', value: ms},
      {label: 'median', stroke: 'rgba(0,0,0,0)', value: ms},
      {label: 'p90', stroke: 'rgba(0,0,0,0)', value: ms},
      {label: 'max', stroke: 'rgba(0,0,0,0)', value: ms},
      {label: 'loss', scale: 'loss', stroke: 'rgba(0,0,0,0)', points: {show: false},
        value: (/** @type {any} */ u, /** @type {number|null} */ v) => v === null ? '—' : v.toFixed(1) + ' %'},
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
  const chart = new uPlot(opts, [xs, min, p50, p90, max, loss.map((l) => l === null ? null : l * 100)], box);
  await first; // uPlot draws in a microtask after it is made: the time to the end of the first drawing
  const t2 = performance.now();
  const record = {target, agent, from, to, step, points: xs.length, fetchMs: d.fetchMs, renderMs: Math.round(t2 - t1),
    medians: p50.filter((v) => v !== null).length, losses: loss.filter((v) => v !== null && v > 0).length,
    downSteps: failed.filter((f) => f >= 1).length, yMax: yMax || null};
  state.charts.push(record);
  box.dataset.points = String(xs.length);
  box.dataset.step = String(step);
  box.dataset.from = String(from);
  box.dataset.to = String(to);
  box.dataset.renderMs = String(record.renderMs);
  box.dataset.downSteps = String(record.downSteps);
  return chart;
}

/** Agents' colours: none of them a loss colour (green, blue, purple, red) nor grey. */
const PALETTE = ['#ef6c00', '#00838f', '#6d4c41', '#f9a825', '#37474f', '#9e9d24', '#d81b60', '#0097a7', '#795548', '#ff7043'];

/** Each vantage agent's median on one chart, a colour each: where one agent differs from the others. */
async function overlayChart(/** @type {HTMLElement} */ box, /** @type {string} */ target, /** @type {string[]} */ agents,
  /** @type {number} */ from, /** @type {number} */ to, /** @type {number} */ width, /** @type {any[]} */ perAgent) {
  const step = stepFor(to - from);
  const t0 = performance.now();
  const parts = perAgent.map((d) => [d.xs, d.p50]);
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

/** @type {{at: number, schemas: Promise<Record<string, any>>} | null} */
let kindsRead = null;

/** @returns each kind's result schema as its agents announce it (GET /api/v1/kinds), read at most once a minute */
function resultSchemas() {
  if (!kindsRead || Date.now() - kindsRead.at > 60_000) {
    kindsRead = {at: Date.now(), schemas: api('/api/v1/kinds').then((/** @type {any} */ b) => {
      /** @type {Record<string, any>} */ const out = {};
      for (const k of b.items) if (k.results) out[k.kind] = k.results;
      return out;
    }).catch(() => ({}))};
  }
  return kindsRead.schemas;
}

/** @returns the name of the value with that role in a kind's result schema, or null */
function valueWith(/** @type {any} */ schema, /** @type {string} */ role) {
  const v = schema && (schema.values || []).find((/** @type {any} */ x) => x.role === role);
  return v ? v.name : null;
}

/** @returns a value of a result as people read it, by the type and unit its kind's schema gives it */
function shown(/** @type {any} */ v, /** @type {any} */ decl) {
  if (v === null || v === undefined) return '—';
  switch (decl.type) {
    case 'DURATION': return (v * 1000).toFixed(2) + ' ms';
    case 'TIMESTAMP': {
      const days = (Date.parse(v) - Date.now()) / 86_400_000;
      return new Date(v).toLocaleString() + (Number.isFinite(days) ? ' (' + (days >= 0 ? 'in ' + days.toFixed(1) + ' days' : Math.abs(days).toFixed(1) + ' days ago') + ')' : '');
    }
    case 'DURATION_MAP': return Object.entries(v).map(([k, x]) => k + ' ' + (Number(x) * 1000).toFixed(2) + ' ms').join(' · ');
    case 'DURATIONS': return v.length + ' × ' + v.map((/** @type {number} */ x) => (x * 1000).toFixed(2)).join(', ') + ' ms';
    case 'HOPS': return v.length + ' hops';
    case 'PATHS': return v.length + (v.length === 1 ? ' path' : ' distinct paths') + ' of ' + v.reduce((/** @type {number} */ n, /** @type {any} */ p) => n + (p.flows || []).length, 0) + ' flows';
    case 'BOOLEAN': return v ? 'yes' : 'no';
    case 'NUMBER': return String(v) + (decl.unit ? ' ' + decl.unit : '');
    default: return typeof v === 'object' ? JSON.stringify(v) : String(v);
  }
}

/** @returns per agent, the times of its results and each phase's duration in ms (the value with role PHASES of each kind) */
function phasesOf(/** @type {any[]} */ items, /** @type {Record<string, string>} */ phaseKinds) {
  /** @type {Record<string, {times: number[], byPhase: Record<string, (number|null)[]>}>} */ const out = {};
  for (const r of items) {
    const name = phaseKinds[r.kind];
    const phases = name ? r.details[name] : null;
    if (!phases || typeof phases !== 'object') continue;
    const per = out[r.agent_id] = out[r.agent_id] || {times: [], byPhase: {}};
    const i = per.times.length;
    per.times.push(Date.parse(r.started_at) / 1000);
    for (const [k, v] of Object.entries(phases)) {
      const series = per.byPhase[k] = per.byPhase[k] || [];
      while (series.length < i) series.push(null);
      series.push(typeof v === 'number' ? v * 1000 : null);
    }
  }
  for (const per of Object.values(out)) {
    for (const series of Object.values(per.byPhase)) while (series.length < per.times.length) series.push(null);
  }
  return out;
}

/**
 * @returns a function that gives the target's raw results in the range (at most 5,000), asked of the
 * API once however many views of the page read them
 */
function resultsOnce(/** @type {string} */ target, /** @type {number} */ from, /** @type {number} */ to) {
  /** @type {Promise<any[]> | null} */ let asked = null;
  return () => {
    if (!asked) {
      const q = new URLSearchParams({target, from: new Date(from * 1000).toISOString(), to: new Date(to * 1000).toISOString(), limit: '5000'});
      asked = api('/api/v1/results?' + q).then((/** @type {any} */ b) => b.items);
    }
    return asked;
  };
}

/** @returns a result's route as one text: its distinct paths (role BRANCHES) in order when it has several flows, else its path */
function routeKey(/** @type {any} */ r, /** @type {string} */ pathValue, /** @type {string|undefined} */ branchesValue) {
  const branches = branchesValue ? r.details[branchesValue] : null;
  if (branches && branches.length) {
    return branches.map((/** @type {any} */ b) => (b.hops || []).map((/** @type {any} */ a) => a || '*').join(' ')).sort().join(' | ');
  }
  return (r.details[pathValue] || []).map((/** @type {any} */ x) => x.address || '*').join(' ');
}

/**
 * @param {Record<string, string>} pathKinds the kinds whose results have a path (role PATH), each with its value's name
 * @param {Record<string, string>} branchKinds the kinds whose results may have several flows' paths (role BRANCHES)
 * @returns from the target's results, the times at which the path changed, and the latest path
 */
async function pathOf(/** @type {() => Promise<any[]>} */ results, pathKinds, branchKinds = {}) {
  const items = (await results()).filter((/** @type {any} */ r) => pathKinds[r.kind] !== undefined);
  /** @type {Record<string, string>} */ const last = {};
  const changes = [];
  /** @type {Record<string, number[]>} */ const changesByAgent = {};
  /** @type {Record<string, any>} */ const byAgent = {};
  /** @type {Record<string, {times: number[], byTtl: Record<number, (number|null)[]>}>} */ const hopRtts = {};
  let latest = null;
  for (const r of items) {
    const key = routeKey(r, pathKinds[r.kind], branchKinds[r.kind]);
    if (last[r.agent_id] !== undefined && last[r.agent_id] !== key) {
      changes.push(Date.parse(r.started_at) / 1000);
      (changesByAgent[r.agent_id] = changesByAgent[r.agent_id] || []).push(Date.parse(r.started_at) / 1000);
    }
    last[r.agent_id] = key;
    latest = r;
    byAgent[r.agent_id] = r;
    // each hop's mean RTT, per agent, over time: what the path is made of, not the trace's duration
    const per = hopRtts[r.agent_id] = hopRtts[r.agent_id] || {times: [], byTtl: /** @type {Record<number, (number|null)[]>} */ ({})};
    const i = per.times.length;
    per.times.push(Date.parse(r.started_at) / 1000);
    for (const x of (r.details[pathKinds[r.kind]] || [])) {
      const rtts = (x.rtts || []).filter((/** @type {any} */ v) => v !== null);
      const series = per.byTtl[x.ttl] = per.byTtl[x.ttl] || [];
      while (series.length < i) series.push(null);
      series.push(rtts.length ? rtts.reduce((/** @type {number} */ a, /** @type {number} */ b) => a + b, 0) / rtts.length * 1000 : null);
    }
  }
  for (const per of Object.values(hopRtts)) {
    for (const series of Object.values(per.byTtl)) while (series.length < per.times.length) series.push(null);
  }
  return {changes, latest, traces: items.length, byAgent, changesByAgent, hopRtts};
}

/** @returns the start of the first step with a result in the last {@code seconds}, or null */
async function firstData(/** @type {string} */ name, /** @type {number} */ now, /** @type {number} */ seconds) {
  const d = await seriesOf(name, null, now - seconds, now);
  for (let i = 0; i < d.xs.length; i++) {
    if (d.p50[i] !== null || d.failed[i] > 0) return d.xs[i];
  }
  return null;
}

/**
 * A strip per agent over the range: each step coloured by what its probes said (green: every one
 * answered, light red: some failed, red: every one failed, grey: no result).
 */
function timeline(/** @type {string[]} */ agents, /** @type {any[]} */ data, /** @type {number} */ from, /** @type {number} */ to,
  /** @type {number} */ width) {
  const box = h('div', {class: 'box', id: 'state-timeline'});
  const labelWidth = 140;
  const w = Math.max(200, width - labelWidth - 32);
  agents.forEach((a, i) => {
    const d = data[i];
    const canvas = /** @type {HTMLCanvasElement} */ (h('canvas', {width: String(w), height: '14', class: 'timeline', 'data-agent': a}));
    const ctx = /** @type {CanvasRenderingContext2D} */ (canvas.getContext('2d'));
    ctx.fillStyle = '#e8e8e8';
    ctx.fillRect(0, 0, w, 14);
    let down = 0;
    for (let k = 0; k < d.xs.length; k++) {
      const x0 = (d.xs[k] - from) / (to - from) * w;
      const x1 = (d.xs[k] + d.step - from) / (to - from) * w;
      const answered = d.p50[k] !== null;
      if (!answered && !d.failed[k]) continue;
      ctx.fillStyle = d.failed[k] >= 1 ? '#f14668' : d.failed[k] > 0 ? '#f9a3b5' : '#48c78e';
      if (d.failed[k] >= 1) down++;
      ctx.fillRect(Math.floor(x0), 0, Math.max(1, Math.ceil(x1 - x0)), 14);
    }
    canvas.dataset.downSteps = String(down);
    box.append(h('div', {class: 'timeline-row'}, h('span', {class: 'timeline-agent'}, h('a', {href: '#/agent/' + encodeURIComponent(a)}, a)), canvas));
  });
  box.append(h('p', {class: 'is-size-7'}, 'green: every probe answered · light red: some failed · red: every one failed · grey: no result'));
  return box;
}

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
function uptimeBox(/** @type {any} */ u) {
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

// ---- Reports ---------------------------------------------------------------------------------

async function reports(/** @type {HTMLElement} */ view, /** @type {URLSearchParams} */ q) {
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

async function target(/** @type {HTMLElement} */ view, /** @type {string} */ name, /** @type {URLSearchParams} */ q) {
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

// ---- An agent ---------------------------------------------------------------------------------

async function agentPage(/** @type {HTMLElement} */ view, /** @type {string} */ id) {
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
  // a receiver's secrets are never shown: secrets_set names them, and a save that leaves one out keeps it
  receivers: {path: '/api/v1/receivers', label: 'Receiver', template: {type: 'slack', url: 'https://hooks.slack.com/services/...'}},
  objectives: {path: '/api/v1/objectives', label: 'Objective', template: {targets: '*', percent: 99.9, days: 30}},
  // a status page is public at /status/{name}: it shows the targets its groups select, and nothing else
  'status-pages': {path: '/api/v1/status-pages', label: 'Status page', template: {title: 'Service status', groups: [{name: 'Services', targets: 'shop'}]}},
};

/** A definition's editor: its name and its JSON, checked by the API, whose error is shown as it is. */
function editor(/** @type {string} */ type, /** @type {any} */ existing) {
  const k = /** @type {any} */ (KINDS)[type];
  const body = existing ? {...existing} : k.template;
  delete body.name; delete body.updated_at; delete body.secrets_set; delete body.sha256; delete body.agents_taken; delete body.states; delete body.agents_status; delete body.peers;
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
      const page = await api('/api/v1/agents?limit=50&selector=' + encodeURIComponent(selector));
      preview.className = 'help';
      preview.textContent = '"' + selector + '" takes ' + page.total + ' agent' + (page.total === 1 ? '' : 's') + ' now: '
        + page.items.map((/** @type {any} */ a) => a.agent_id).join(', ') + (page.next === null ? '' : ', …');
    } catch (e) {
      preview.className = 'help is-danger';
      preview.textContent = String(/** @type {any} */ (e).message || e);
    }
  };
  return h('div', {class: 'box', id: 'editor'},
    h('h3', {class: 'title is-6'}, (existing ? 'Edit ' : 'New ') + k.label.toLowerCase()),
    h('div', {class: 'field'}, name), h('div', {class: 'field'}, text),
    h('div', {class: 'buttons'}, h('button', {class: 'button is-primary', id: 'def-save', onclick: save}, 'Save'),
      ['targets', 'meshes', 'alert-rules'].includes(type) ? h('button', {class: 'button', id: 'def-preview-button', onclick: showPreview}, 'Which agents?') : null),
    result, preview);
}

async function settings(/** @type {HTMLElement} */ view, /** @type {string} */ type, /** @type {URLSearchParams} */ q) {
  const tabs = [['targets', 'Targets'], ['meshes', 'Meshes'], ['alert-rules', 'Alert rules'], ['receivers', 'Receivers'], ['objectives', 'Objectives'], ['status-pages', 'Status pages'], ['tokens', 'Enrollment tokens'], ['agents', 'Agents'], ['users', 'Users']];
  const current = type || 'targets';
  view.append(h('h1', {class: 'title'}, 'Configuration'),
    h('div', {class: 'tabs'}, h('ul', {}, ...tabs.map(([id, label]) => h('li', {class: id === current ? 'is-active' : ''}, h('a', {href: '#/settings/' + id}, label))))));
  if (/** @type {any} */ (KINDS)[current]) {
    const k = /** @type {any} */ (KINDS)[current];
    const items = (await api(k.path)).items;
    const editing = q.get('edit');
    const tested = h('p', {class: 'help', id: 'receiver-test-result'});
    /** A receiver's "send a test": the server sends one at once and says whether the receiver took it. */
    const test = async (/** @type {string} */ name) => {
      tested.className = 'help';
      tested.textContent = 'Sending a test to ' + name + '…';
      try {
        const r = await api(k.path + '/' + encodeURIComponent(name) + '/test', {method: 'POST'});
        tested.className = 'help ' + (r.sent ? 'is-success' : 'is-danger');
        tested.textContent = r.sent ? 'Delivered a test to ' + name + ' (' + r.where + ')' : 'Not delivered to ' + name + ' (' + r.where + '): ' + r.error;
      } catch (e) {
        tested.className = 'help is-danger';
        tested.textContent = String(/** @type {any} */ (e).message || e);
      }
    };
    view.append(editor(current, editing ? items.find((/** @type {any} */ d) => d.name === editing) : null), tested,
      h('table', {class: 'table is-fullwidth is-narrow', id: 'definitions'},
        h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Definition'), h('th', {}, ''))),
        h('tbody', {}, ...items.map((/** @type {any} */ d) => h('tr', {'data-name': d.name},
          h('td', {}, d.name),
          h('td', {class: 'is-family-monospace is-size-7'}, JSON.stringify(Object.fromEntries(Object.entries(d).filter(([key]) => key !== 'name' && key !== 'updated_at')))),
          h('td', {}, h('div', {class: 'buttons'},
            h('a', {class: 'button is-small', href: '#/settings/' + current + '?edit=' + encodeURIComponent(d.name)}, 'edit'),
            current === 'receivers' ? h('button', {class: 'button is-small is-info is-light receiver-test', onclick: () => test(d.name)}, 'send a test') : null,
            current === 'status-pages' ? h('a', {class: 'button is-small is-link is-light', href: '/status/' + encodeURIComponent(d.name), target: '_blank', rel: 'noopener'}, 'open') : null,
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
    const items = await apiAll('/api/v1/agents');
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

/** Counts the routes begun: a view whose requests end after another route began is dropped, not drawn beside it. */
let routes = 0;

async function route() {
  const t0 = performance.now();
  const mine = ++routes;
  // each route draws into a box of its own; the next route takes it out of the page, so a slow view never lands in another's
  const view = document.createElement('div');
  /** @type {HTMLElement} */ (document.getElementById('view')).replaceChildren(view);
  const [path, query] = (location.hash.substring(1) || '/now').split('?');
  const q = new URLSearchParams(query || '');
  const parts = path.split('/').slice(1).map(decodeURIComponent);
  state.charts = [];
  state.view = '';
  showError(null);
  for (const a of document.querySelectorAll('.navbar-start .navbar-item')) a.classList.toggle('is-active', a.id === 'nav-' + parts[0]);
  try {
    switch (parts[0]) {
      case 'targets': await targets(view, q); break;
      case 'fleet': await fleet(view, q); break;
      case 'agent': await agentPage(view, parts.slice(1).join('/')); break;
      case 'target': await target(view, parts.slice(1).join('/'), q); break;
      case 'meshes': await meshes(view); break;
      case 'mesh': await mesh(view, parts[1]); break;
      case 'alerts': await alerts(view); break;
      case 'reports': await reports(view, q); break;
      case 'settings': await settings(view, parts[1], q); break;
      case 'logout':
        await api('/api/v1/session', {method: 'DELETE'});
        location.assign('/ui/login');
        return;
      default: await now(view);
    }
    if (mine !== routes) return; // another route began meanwhile: it says what the page shows
    state.view = parts[0] || 'now';
    state.ms = Math.round(performance.now() - t0); // this view: its requests and its drawing
    state.sinceNavigation = Math.round(performance.now()); // from the page's navigation start
  } catch (e) {
    if (mine !== routes) return;
    showError(e);
    state.view = 'error';
  }
}

session = await api('/api/v1/session');
/** @type {HTMLElement} */ (document.getElementById('who')).textContent = session ? session.user + ' (' + session.role + ')' : '';
/** @type {HTMLElement} */ (document.getElementById('nav-settings')).classList.toggle('is-hidden', !session || session.role !== 'admin');
window.addEventListener('hashchange', route);
await route();
