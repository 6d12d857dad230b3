// @ts-check
// The dashboard's ground: making elements (text, never markup), asking the API, the session, the page's error line.

/** @type {{user: string, role: string, csrf: string} | null} */
export let session = null;
/** What the charts on the page hold, for people and for the tests. */
export const state = /** @type {any} */ ({charts: [], view: ''});
/** @type {any} */ (window).__sonde = state;

/**
 * Makes an element: attributes, then children (strings become text nodes).
 * @param {string} tag @param {Record<string, any>} [attrs] @param {...(Node|string|number|null|undefined)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs = {}, ...children) {
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
export async function api(path, init = {}, again = false) {
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
export async function apiAll(/** @type {string} */ path) {
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

/**
 * Appends to {@code parent} what is there of {@code children}: a null stands for something not shown, never the text "null".
 * @param {HTMLElement} parent @param {...(Node|string|null|undefined)} children
 */
export function put(parent, ...children) {
  for (const c of children) {
    if (c !== null && c !== undefined) parent.append(c);
  }
}

/** Reads who is logged in ({@code GET /api/v1/session}) into {@link session}. */
export async function loadSession() {
  session = await api('/api/v1/session');
  return session;
}

/** Draws the view of the URL's fragment again, after a change it shows (app.js routes on this event). */
export function redraw() {
  window.dispatchEvent(new HashChangeEvent('hashchange'));
}

export function showError(/** @type {any} */ e) {
  const box = /** @type {HTMLElement} */ (document.getElementById('error'));
  box.textContent = e ? String(e.message || e) : '';
  box.classList.toggle('is-hidden', !e);
}

export function ago(/** @type {string|null} */ iso) {
  if (!iso) return 'never';
  const s = Math.round((Date.now() - Date.parse(iso)) / 1000);
  if (s < 90) return s + ' s ago';
  if (s < 5400) return Math.round(s / 60) + ' min ago';
  if (s < 172800) return Math.round(s / 3600) + ' h ago';
  return Math.round(s / 86400) + ' days ago';
}

export function tags(/** @type {string[]} */ list) {
  return h('span', {class: 'tags'}, ...list.map((t) => h('span', {class: 'tag is-light'}, t)));
}
