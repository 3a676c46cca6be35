// Admin session helpers shared by the dashboard and the timeline page.
import { ApiError, apiGet, apiPost } from './api.js';

/** Only same-site admin paths are acceptable redirect targets (no open redirects). */
export function safeAdminPath(next) {
  if (typeof next !== 'string') return null;
  if (!next.startsWith('/admin')) return null;
  if (next.startsWith('/admin/login')) return null;
  if (/[\\\s]/.test(next) || next.startsWith('//')) return null;
  return next;
}

export function redirectToLogin() {
  const here = window.location.pathname + window.location.search;
  const next = safeAdminPath(here);
  window.location.assign(next ? `/admin/login?next=${encodeURIComponent(next)}` : '/admin/login');
}

/** Re-throws everything except 401, which sends the browser to the login page. */
export function handleAuthError(err) {
  if (err instanceof ApiError && err.status === 401) {
    redirectToLogin();
    return true;
  }
  return false;
}

/** GET /api/admin/me → {name, role, can: [rights]}; redirects to login on 401. */
export async function requireStaff() {
  try {
    return await apiGet('/api/admin/me');
  } catch (err) {
    if (handleAuthError(err)) return new Promise(() => {}); // navigation under way
    throw err;
  }
}

/** "ann (supervisor)": who is signed in, as the page header shows it. */
export function staffLabel(staff) {
  return staff && staff.name ? `${staff.name} (${staff.role})` : '';
}

/** Wire a logout button: POST /api/admin/logout, then go to the login page. */
export function bindLogout(button) {
  if (!button) return;
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await apiPost('/api/admin/logout');
    } catch {
      // Even if the request failed, leave the admin area.
    }
    window.location.assign('/admin/login');
  });
}
