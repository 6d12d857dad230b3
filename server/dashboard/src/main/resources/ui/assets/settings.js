// @ts-check
// Configuration (admin): definitions of targets, meshes, rollouts, rules, receivers, users, pages.
import {api, apiAll, h, redraw, showError, tags} from './core.js';

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
      setTimeout(redraw, 600);
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

export async function settings(/** @type {HTMLElement} */ view, /** @type {string} */ type, /** @type {URLSearchParams} */ q) {
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
              redraw();
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
            redraw();
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
            redraw();
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
          redraw();
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
        redraw();
      } catch (e) { uresult.className = 'help is-danger'; uresult.textContent = String(/** @type {any} */ (e).message || e); }
    }}, 'Save user')), uresult),
    h('table', {class: 'table is-narrow', id: 'users'}, h('tbody', {}, ...users.map((/** @type {any} */ u) => h('tr', {},
      h('td', {}, u.name), h('td', {}, u.role), h('td', {}, h('button', {class: 'button is-small is-danger is-light', onclick: async () => {
        if (!confirm('Delete user ' + u.name + '?')) return;
        await api('/api/v1/users/' + encodeURIComponent(u.name), {method: 'DELETE'}).catch(showError);
        redraw();
      }}, 'delete')))))));
}
