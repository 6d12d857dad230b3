// @ts-check
// The health model's states as the views show them: colours, meanings, who sees what.
import {h} from './core.js';

/** The health model's states, worst first, with their colours: one table for the README, the help and every view. */
export const STATES = /** @type {Record<string, {colour: string, meaning: string}>} */ ({
  down: {colour: 'is-danger', meaning: 'the latest probe failed'},
  backoff: {colour: 'is-danger', meaning: 'down, probed less often until it answers'},
  degraded: {colour: 'is-warning', meaning: "answers, with loss or latency past the target's thresholds"},
  refused: {colour: 'is-warning is-light', meaning: 'the agent refused the definition'},
  no_prober: {colour: 'is-warning is-light', meaning: 'no installed plugin probes its kind'},
  unknown: {colour: 'is-dark', meaning: 'no result: the agent is offline, has not probed it yet, or is overdue'},
  up: {colour: 'is-success', meaning: 'the latest probe succeeded within the thresholds'},
});

export function stateTag(/** @type {string} */ st, /** @type {string} */ title = '') {
  return h('span', {class: 'tag state-' + st + ' ' + ((STATES[st] || {}).colour || ''), title: title || (STATES[st] || {}).meaning}, st);
}

export function pct(/** @type {number|null} */ loss) {
  return loss === null || loss === undefined ? '—' : (loss * 100).toFixed(1) + ' %';
}

export function ms(/** @type {number|null} */ seconds) {
  return seconds === null || seconds === undefined ? '—' : (seconds * 1000).toFixed(seconds < 0.01 ? 2 : 1) + ' ms';
}

/** @returns the agents in the target's overall state (down takes backoff with it) */
function affected(/** @type {any} */ t) {
  const down = (/** @type {string} */ st) => st === 'down' || st === 'backoff';
  return (t.agents || []).filter((/** @type {any} */ a) => down(t.state) ? down(a.state) : a.state === t.state).map((/** @type {any} */ a) => a.agent_id);
}

/** @returns the agents in the target's state, in few words: all of them, or the first five and how many more */
export function fromWhom(/** @type {any} */ t) {
  const names = affected(t);
  const n = Math.max(names.length, t.affected || 0); // the list carries the worst agents only; the count is of all
  if (n > 3 && n === t.vantages) return 'every vantage agent';
  return n > 5 ? names.slice(0, 5).join(', ') + ' and ' + (n - 5) + ' more' : names.join(', ');
}

export function reasonOf(/** @type {any} */ t) {
  const names = affected(t);
  const bad = (t.agents || []).filter((/** @type {any} */ a) => names.includes(a.agent_id) && a.reason);
  return bad.length ? bad[0].reason : (t.last_failure ? t.last_failure.reason + ': ' + (t.last_failure.error || '') : '');
}

export function stateHelp() {
  return h('details', {class: 'box', id: 'state-help'}, h('summary', {}, 'What the states mean'),
    h('table', {class: 'table is-narrow'}, h('tbody', {}, ...Object.entries(STATES).map(([k, v]) => h('tr', {}, h('td', {}, stateTag(k)), h('td', {}, v.meaning))))));
}
