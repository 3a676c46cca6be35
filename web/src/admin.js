// Admin dashboard ("/admin"): live list of calls, silence alerts, and the selected call.
import { apiGet } from './lib/api.js';
import { bindLogout, handleAuthError, requireStaff, staffLabel } from './lib/auth.js';
import { byTestId, setError, setPill } from './lib/dom.js';
import { SyncedStream, streamStatusText } from './lib/sse.js';
import { CallList } from './admin/calls.js';
import { CallDetail } from './admin/detail.js';
import { EscalationQueue } from './admin/escalations.js';
import { CallHistory } from './admin/history.js';

const MAX_PAGES = 20;

const ui = {
  user: byTestId('admin-user'),
  logout: byTestId('logout-button'),
  stream: byTestId('stream-status'),
  error: byTestId('dashboard-error'),
};

/** All active calls, following next_cursor. */
async function loadActive() {
  const items = [];
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const qs = new URLSearchParams({ status: 'active' });
    if (cursor) qs.set('cursor', cursor);
    const res = await apiGet(`/api/conversations?${qs}`);
    items.push(...(res.items || []));
    cursor = res.next_cursor;
    if (!cursor) break;
  }
  return items;
}

function selectedFromUrl() {
  return new URLSearchParams(window.location.search).get('call');
}

function rememberSelection(id) {
  const url = new URL(window.location.href);
  url.searchParams.set('call', id);
  window.history.replaceState(null, '', url);
}

async function main() {
  bindLogout(ui.logout);
  const staff = await requireStaff();
  ui.user.textContent = staffLabel(staff);
  const can = new Set(staff.can || []);
  byTestId('analytics-link').hidden = !can.has('see_analytics');
  if (!can.has('watch_calls') && can.has('see_analytics')) {
    window.location.replace('/admin/analytics'); // an analyst's page
    return;
  }
  if (!can.has('watch_calls')) {
    // the role sees no call at all: say so rather than fail on every request
    setError(ui.error, `Signed in as ${staff.role}: this role may not watch calls.`);
    setPill(ui.stream, 'Not permitted', 'neutral');
    return;
  }
  new CallHistory().load(false);

  let calls = null;
  const detail = new CallDetail((conv) => calls && calls.upsert(conv), can);
  calls = new CallList({
    list: byTestId('calls-list'),
    empty: byTestId('calls-empty'),
    count: byTestId('calls-count'),
    alerts: byTestId('silence-alerts'),
    onSelect: (id) => {
      calls.select(id);
      rememberSelection(id);
      detail.select(id);
    },
  });

  const stream = new SyncedStream({
    url: '/api/stream',
    events: ['conversation', 'silence', 'recording'],
    load: async () => {
      const items = await loadActive();
      setError(ui.error, '');
      calls.setAll(items);
      calls.select(detail.id);
      return null; // rows carry their own version; no global floor
    },
    onMessage: (type, data) => {
      if (type === 'conversation') calls.upsert(data);
      else if (type === 'silence') calls.silence(data);
      else if (type === 'recording') calls.recording(data);
    },
    onStatus: (status, detailText) => {
      const [text, kind] = streamStatusText(status, detailText);
      setPill(ui.stream, text, kind);
      ui.stream.dataset.status = status;
    },
    onError: (err) => {
      if (handleAuthError(err)) return;
      setError(ui.error, `Could not load the active calls: ${err.message}`);
    },
  });
  stream.start();

  const initial = selectedFromUrl();
  if (initial) {
    calls.select(initial);
    detail.select(initial);
  }

  let queue = null;
  if (can.has('act_on_calls')) {
    queue = new EscalationQueue({
      onAccepted: async (id, grant) => {
        calls.select(id);
        rememberSelection(id);
        await detail.select(id);
        if (detail.supervise) await detail.supervise.joinWith(grant);
      },
      onError: (err) => {
        if (!handleAuthError(err)) setError(ui.error, `Escalations: ${err.message}`);
      },
    });
    queue.start();
  }

  setInterval(() => {
    calls.tick();
    detail.tick();
    if (queue) queue.tick();
  }, 1000);
}

main().catch((err) => {
  if (!handleAuthError(err)) setError(ui.error, `The dashboard failed to start: ${err.message}`);
});
