// @ts-check
// The charts: the smoke chart, the agents overlaid, the timeline; the series and results they draw and the result schemas that name their values.
// @ts-ignore: the server serves uPlot from its WebJar (Vendor.java); the check has no path to it
import uPlot from '/ui/vendor/uplot/uPlot.esm.js';
import {api, h, state} from './core.js';

/** @type {Array<[string, number]>} the ranges offered, each with its seconds */
export const RANGES = [['1h', 3600], ['6h', 21600], ['24h', 86400], ['7d', 604800], ['30d', 2592000], ['1y', 31536000]];
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
export async function seriesOf(/** @type {string} */ target, /** @type {string|null} */ agent, /** @type {number} */ from, /** @type {number} */ to) {
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
export async function smoke(/** @type {HTMLElement} */ box, /** @type {string} */ target, /** @type {string|null} */ agent,
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
export const PALETTE = ['#ef6c00', '#00838f', '#6d4c41', '#f9a825', '#37474f', '#9e9d24', '#d81b60', '#0097a7', '#795548', '#ff7043'];

/** Each vantage agent's median on one chart, a colour each: where one agent differs from the others. */
export async function overlayChart(/** @type {HTMLElement} */ box, /** @type {string} */ target, /** @type {string[]} */ agents,
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
export function resultSchemas() {
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
export function valueWith(/** @type {any} */ schema, /** @type {string} */ role) {
  const v = schema && (schema.values || []).find((/** @type {any} */ x) => x.role === role);
  return v ? v.name : null;
}

/** @returns a value of a result as people read it, by the type and unit its kind's schema gives it */
export function shown(/** @type {any} */ v, /** @type {any} */ decl) {
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
export function phasesOf(/** @type {any[]} */ items, /** @type {Record<string, string>} */ phaseKinds) {
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
export function resultsOnce(/** @type {string} */ target, /** @type {number} */ from, /** @type {number} */ to) {
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
export async function pathOf(/** @type {() => Promise<any[]>} */ results, pathKinds, branchKinds = {}) {
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
/** @returns {Promise<number|null>} when (epoch seconds) the first step with a result is, if any */
export async function firstData(/** @type {string} */ name, /** @type {number} */ now, /** @type {number} */ seconds) {
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
export function timeline(/** @type {string[]} */ agents, /** @type {any[]} */ data, /** @type {number} */ from, /** @type {number} */ to,
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
