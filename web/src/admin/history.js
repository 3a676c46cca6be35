// Call history and transcript search on the dashboard: filters over
// GET /api/conversations, hits from GET /api/search; each opens the call's timeline.
import { apiGet } from '../lib/api.js';
import { handleAuthError } from '../lib/auth.js';
import { byTestId } from '../lib/dom.js';

const timelineUrl = (id, offset) => `/admin/conversations/${encodeURIComponent(id)}/timeline${offset === undefined ? '' : `?t=${offset}`}`;

function link(href, text) {
  const a = document.createElement('a');
  a.href = href;
  a.textContent = text;
  return a;
}

export class CallHistory {
  constructor() {
    this.filters = byTestId('history-filters');
    this.list = byTestId('history-list');
    this.more = byTestId('history-more');
    this.error = byTestId('history-error');
    this.searchForm = byTestId('search-form');
    this.hits = byTestId('search-hits');
    this.cursor = null;
    this.filters.addEventListener('submit', (e) => { e.preventDefault(); this.load(false); });
    this.more.addEventListener('click', () => this.load(true));
    this.searchForm.addEventListener('submit', (e) => { e.preventDefault(); this.search(); });
  }

  params() {
    const qs = new URLSearchParams();
    for (const [key, value] of new FormData(this.filters)) {
      if (!value) continue;
      // datetime-local has no zone: it is the viewer's local time.
      qs.set(key, key === 'from' || key === 'to' ? new Date(value).toISOString() : value);
    }
    return qs;
  }

  showError(err) {
    if (handleAuthError(err)) return;
    this.error.textContent = err.message;
    this.error.hidden = false;
  }

  async load(more) {
    const qs = this.params();
    if (more && this.cursor) qs.set('cursor', this.cursor);
    this.error.hidden = true;
    try {
      const page = await apiGet(`/api/conversations?${qs}`);
      if (!more) this.list.replaceChildren();
      for (const call of page.items || []) this.list.append(this.row(call));
      this.cursor = page.next_cursor;
      this.more.hidden = !this.cursor;
    } catch (err) {
      this.showError(err);
    }
  }

  row(call) {
    const li = document.createElement('li');
    li.dataset.testid = 'history-item';
    li.append(link(timelineUrl(call.conversation_id), call.room_name || call.conversation_id));
    const facts = [
      call.status === 'ended' ? 'finished' : 'live',
      call.opened_at ? new Date(call.opened_at).toLocaleString() : '',
      call.duration_s != null ? `${Math.round(call.duration_s)} s` : '',
      (call.outcomes || []).join(', '),
      call.silence_alerts ? `${call.silence_alerts} silence alert(s)` : '',
      call.recording_status ? `recording ${call.recording_status}` : '',
      call.lowest_confidence != null ? `lowest STT ${Number(call.lowest_confidence).toFixed(2)}` : '',
    ].filter(Boolean);
    const span = document.createElement('span');
    span.className = 'muted';
    span.textContent = ` — ${facts.join(' · ')}`;
    li.append(span);
    return li;
  }

  async search() {
    const q = new FormData(this.searchForm).get('q');
    this.hits.replaceChildren();
    this.error.hidden = true;
    if (!q || !String(q).trim()) return;
    try {
      const page = await apiGet(`/api/search?${new URLSearchParams({ q })}`);
      for (const hit of page.items || []) {
        const li = document.createElement('li');
        li.dataset.testid = 'search-hit';
        li.append(link(timelineUrl(hit.conversation_id, hit.offset_s), `${hit.room_name} +${Number(hit.offset_s).toFixed(1)} s`));
        li.append(` ${hit.speaker}: `);
        const snippet = document.createElement('span');
        // The server escapes the transcript text; its only markup is <mark> around hits.
        snippet.innerHTML = hit.snippet;
        li.append(snippet);
        this.hits.append(li);
      }
      if (!(page.items || []).length) this.hits.textContent = 'No transcript line matches.';
    } catch (err) {
      this.showError(err);
    }
  }
}
