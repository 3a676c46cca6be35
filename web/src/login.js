// Admin login page ("/admin/login").
import { apiPost } from './lib/api.js';
import { safeAdminPath } from './lib/auth.js';
import { byTestId, setError } from './lib/dom.js';

const form = byTestId('login-form');
const username = byTestId('login-username');
const password = byTestId('login-password');
const submit = byTestId('login-submit');
const error = byTestId('login-error');

function target() {
  const next = new URLSearchParams(window.location.search).get('next');
  return safeAdminPath(next) || '/admin';
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  setError(error, '');
  if (!username.value.trim() || !password.value) {
    setError(error, 'Enter your username and password.');
    return;
  }
  submit.disabled = true;
  submit.textContent = 'Signing in…';
  try {
    // The response also carries a bearer token; the HttpOnly session cookie is what the
    // pages use, so the token is deliberately not stored anywhere.
    await apiPost('/api/admin/login', { username: username.value.trim(), password: password.value });
    window.location.assign(target());
  } catch (err) {
    setError(error, err.status === 401 ? (err.reason || 'Wrong username or password.') : `Sign-in failed: ${err.message}`);
    password.value = '';
    password.focus();
    submit.disabled = false;
    submit.textContent = 'Sign in';
  }
});

username.focus();
