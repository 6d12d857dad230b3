// @ts-check
// The Sonde dashboard: one page, its views chosen by the URL's fragment (#/now, #/target/web, ...).
// Every datum comes from the API and goes into the page as text (core.js h()), never as markup.
// This module routes; each view is a module of its own (now, fleet, targets, target, agent, meshes,
// alerts, reports, settings) on core.js (elements, the API, the session), health.js (the health
// model's states) and charts.js (uPlot's charts and the series they draw).
import {agentPage} from './agent.js';
import {alerts} from './alerts.js';
import {api, loadSession, session, showError, state} from './core.js';
import {fleet} from './fleet.js';
import {mesh, meshes} from './meshes.js';
import {now} from './now.js';
import {reports} from './reports.js';
import {settings} from './settings.js';
import {target} from './target.js';
import {targets} from './targets.js';

/** Counts the routes begun: a view whose requests end after another route began is dropped, not drawn beside it. */
let routes = 0;

export async function route() {
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

await loadSession();
/** @type {HTMLElement} */ (document.getElementById('who')).textContent = session ? session.user + ' (' + session.role + ')' : '';
/** @type {HTMLElement} */ (document.getElementById('nav-settings')).classList.toggle('is-hidden', !session || session.role !== 'admin');
window.addEventListener('hashchange', route);
await route();
