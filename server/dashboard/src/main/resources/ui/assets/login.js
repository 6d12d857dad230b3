// @ts-check
// The login form: POST /api/v1/session, then the dashboard.
const form = /** @type {HTMLFormElement} */ (document.getElementById('login'));
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const user = /** @type {HTMLInputElement} */ (document.getElementById('user')).value;
  const password = /** @type {HTMLInputElement} */ (document.getElementById('password')).value;
  const error = /** @type {HTMLElement} */ (document.getElementById('login-error'));
  error.textContent = '';
  const r = await fetch('/api/v1/session', {
    method: 'POST', credentials: 'same-origin', headers: {'Content-Type': 'application/json'},
    body: JSON.stringify({user, password}),
  });
  if (r.ok) {
    location.assign('/ui/#/now');
  } else {
    const body = await r.json().catch(() => ({error: r.statusText}));
    error.textContent = body.error || ('refused: ' + r.status);
  }
});
