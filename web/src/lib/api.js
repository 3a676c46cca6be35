// Small fetch wrapper for the JSON HTTP API (see docs/api.md).
// Errors are always {"error": code, "reason": sentence}; ApiError carries both.

export class ApiError extends Error {
  constructor(status, code, reason) {
    super(reason || code || `Request failed (HTTP ${status})`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || 'http_error';
    this.reason = this.message;
  }
}

/**
 * Fetch JSON from the same-origin API.
 * @param {string} path  e.g. "/api/conversations?status=active"
 * @param {{method?: string, body?: unknown, signal?: AbortSignal, keepalive?: boolean}} [opts]
 * @returns {Promise<any>} the parsed JSON body
 * @throws {ApiError} with the server's `reason` when the response is not 2xx
 */
export async function api(path, opts = {}) {
  const { method = opts.body === undefined ? 'GET' : 'POST', body, signal, keepalive } = opts;
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', signal, keepalive };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    throw new ApiError(0, 'network_error', 'Could not reach the server. Check your connection and try again.');
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!res.ok) {
    const code = data && typeof data.error === 'string' ? data.error : null;
    const reason = data && typeof data.reason === 'string' ? data.reason : null;
    throw new ApiError(res.status, code, reason || defaultReason(res.status));
  }
  return data;
}

function defaultReason(status) {
  if (status === 401) return 'You are not signed in.';
  if (status === 403) return 'You are not allowed to do that.';
  if (status === 404) return 'Not found.';
  if (status === 429) return 'Too many requests. Please wait a moment and try again.';
  if (status >= 500) return `The server had a problem (HTTP ${status}). Please try again.`;
  return `Request failed (HTTP ${status}).`;
}

export const apiGet = (path, opts) => api(path, { ...opts, method: 'GET' });
export const apiPost = (path, body = {}, opts) => api(path, { ...opts, method: 'POST', body });

/** Path of one conversation resource, with the id safely encoded. */
export const convPath = (id, suffix = '') => `/api/conversations/${encodeURIComponent(id)}${suffix}`;
