// Dashboard: the live list of calls in progress (status requested/active) and silence alerts.
import { h, pillKind, setChildren } from '../lib/dom.js';
import { fmtDuration, label, parseTime, secondsBetween } from '../lib/format.js';

const LIVE_STATUSES = new Set(['requested', 'active']);
const ENDED_LINGER_MS = 10000; // keep an ended call visible (greyed) for a moment

export function recordingText(status) {
  switch (status) {
    case 'requested': return ['Rec requested', 'warn'];
    case 'recording': return ['● Recording', 'rec'];
    case 'completed': return ['Recorded', 'good'];
    case 'failed': return ['Rec failed', 'bad'];
    default: return ['Not recorded', 'neutral'];
  }
}

/** Newer-or-equal version wins; rows without a version always apply. */
export function isNewer(incoming, existing) {
  if (!existing) return true;
  const a = Number(incoming.version);
  const b = Number(existing.version);
  return !(Number.isFinite(a) && Number.isFinite(b) && a < b);
}

export class CallList {
  /**
   * @param {object} o
   * @param {HTMLElement} o.list    <ul> of rows
   * @param {HTMLElement} o.empty   "no calls" message
   * @param {HTMLElement} o.count   count badge
   * @param {HTMLElement} o.alerts  silence alert list
   * @param {(id: string) => void} o.onSelect
   */
  constructor({ list, empty, count, alerts, onSelect }) {
    this.list = list;
    this.empty = empty;
    this.count = count;
    this.alerts = alerts;
    this.onSelect = onSelect;
    this.rows = new Map(); // id → Conversation
    this.elements = new Map(); // id → <li>
    this.removals = new Map(); // id → timeout
    this.silences = new Map(); // id → {room, since}
    this.selectedId = null;
  }

  /** Replace everything with a REST snapshot. */
  setAll(items) {
    for (const t of this.removals.values()) clearTimeout(t);
    this.removals.clear();
    this.rows.clear();
    this.silences.clear();
    for (const conv of items) {
      if (LIVE_STATUSES.has(conv.status)) {
        this.rows.set(conv.conversation_id, conv);
        this.trackSilence(conv);
      }
    }
    this.render();
  }

  /** A `conversation` message (row + change). */
  upsert(conv) {
    const id = conv.conversation_id;
    const existing = this.rows.get(id);
    if (!isNewer(conv, existing)) return;
    if (conv.status === 'ended' || conv.change === 'ended') {
      if (!existing) return;
      this.rows.set(id, { ...conv, status: 'ended' });
      this.silences.delete(id);
      if (!this.removals.has(id)) {
        this.removals.set(id, setTimeout(() => this.remove(id), ENDED_LINGER_MS));
      }
    } else if (LIVE_STATUSES.has(conv.status)) {
      this.rows.set(id, conv);
      this.trackSilence(conv);
    } else {
      return; // "opened": not a call yet
    }
    this.render();
  }

  remove(id) {
    clearTimeout(this.removals.get(id));
    this.removals.delete(id);
    this.rows.delete(id);
    this.silences.delete(id);
    this.render();
  }

  trackSilence(conv) {
    if (conv.silence_active) {
      const prev = this.silences.get(conv.conversation_id);
      this.silences.set(conv.conversation_id, {
        room: conv.room_name,
        since: parseTime(conv.silence_since) ?? prev?.since ?? Date.now(),
      });
    } else {
      this.silences.delete(conv.conversation_id);
    }
  }

  /** A `silence` message: {conversation_id, room_name, active, silent_for_s, at}. */
  silence(msg) {
    const id = msg.conversation_id;
    const row = this.rows.get(id);
    if (msg.active) {
      const at = parseTime(msg.at) ?? Date.now();
      const since = at - (Number(msg.silent_for_s) || 0) * 1000;
      this.silences.set(id, { room: msg.room_name || row?.room_name || id, since });
      if (row) this.rows.set(id, { ...row, silence_active: true, silence_since: new Date(since).toISOString() });
    } else {
      this.silences.delete(id);
      if (row) this.rows.set(id, { ...row, silence_active: false, silence_since: null });
    }
    this.render();
  }

  /** A `recording` message: {conversation_id, recording_id, status, ...}. */
  recording(msg) {
    const row = this.rows.get(msg.conversation_id);
    if (!row || !msg.status) return;
    this.rows.set(msg.conversation_id, { ...row, recording_status: msg.status });
    this.render();
  }

  select(id) {
    this.selectedId = id;
    for (const [rowId, el] of this.elements) {
      const btn = el.firstElementChild;
      const on = rowId === id;
      el.classList.toggle('selected', on);
      if (btn) btn.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
  }

  get(id) {
    return this.rows.get(id) || null;
  }

  render() {
    const sorted = [...this.rows.values()].sort((a, b) => (parseTime(b.requested_at || b.opened_at) ?? 0) - (parseTime(a.requested_at || a.opened_at) ?? 0));
    const liveCount = sorted.filter((c) => c.status !== 'ended').length;
    this.count.textContent = String(liveCount);
    this.empty.hidden = sorted.length > 0;
    this.elements.clear();
    setChildren(this.list, sorted.map((conv) => {
      const el = this.renderRow(conv);
      this.elements.set(conv.conversation_id, el);
      return el;
    }));
    this.renderAlerts();
  }

  renderRow(conv) {
    const id = conv.conversation_id;
    const [recText, recKind] = recordingText(conv.recording_status);
    const selected = id === this.selectedId;
    const who = conv.customer_name || conv.customer_identity || 'Unknown caller';
    const button = h('button', {
      type: 'button',
      class: 'call-row-button',
      'aria-pressed': selected ? 'true' : 'false',
      'aria-label': `Open call ${conv.room_name || id} with ${who}`,
      onclick: () => this.onSelect(id),
    },
    h('div', { class: 'call-row-top' },
      h('span', { class: 'call-room' }, conv.room_name || id),
      h('span', { class: `pill pill-${pillKind(conv.status)}`, testid: 'call-row-status' }, label(conv.status))),
    h('div', { class: 'call-row-mid' },
      h('span', { class: 'call-who' }, who),
      h('span', { class: 'call-duration', testid: 'call-row-duration', dataset: { since: conv.started_at || conv.requested_at || '', until: conv.ended_at || '' } },
        this.durationText(conv))),
    h('div', { class: 'call-row-bottom' },
      h('span', { class: `pill pill-small pill-${recKind}`, testid: 'call-row-recording', dataset: { status: conv.recording_status || 'none' } }, recText),
      conv.agent_state ? h('span', { class: `pill pill-small pill-${pillKind(conv.agent_state)}`, title: 'Assistant state' }, `Agent: ${label(conv.agent_state)}`) : null,
      conv.silence_active ? h('span', { class: 'pill pill-small pill-bad', testid: 'call-row-silence' }, 'Silence') : null,
      conv.listen_in_count ? h('span', { class: 'pill pill-small pill-info', title: 'Supervisor listen-ins' }, `${conv.listen_in_count} listen-ins`) : null));
  return h('li', {
      class: ['call-row', selected ? 'selected' : null, conv.silence_active ? 'row-silence' : null, conv.status === 'ended' ? 'row-ended' : null],
      testid: 'call-row',
      dataset: { conversationId: id, status: conv.status, silence: conv.silence_active ? 'true' : 'false' },
    }, button);
  }

  durationText(conv) {
    const since = conv.started_at || conv.requested_at;
    if (conv.status === 'ended' && Number.isFinite(conv.duration_s)) return fmtDuration(conv.duration_s);
    const s = secondsBetween(since, conv.ended_at);
    return s === null ? '—' : fmtDuration(s);
  }

  renderAlerts() {
    const items = [...this.silences.entries()].map(([id, s]) => h('li', { class: 'alert-item', testid: 'silence-alert', dataset: { conversationId: id } },
      h('button', { type: 'button', class: 'link-button', onclick: () => this.onSelect(id), 'aria-label': `Open call ${s.room} (silence alert)` },
        h('strong', {}, 'Silence '), `on ${s.room} — `,
        h('span', { class: 'silence-for', dataset: { since: String(s.since) } }, fmtDuration((Date.now() - s.since) / 1000)))));
    this.alerts.hidden = items.length === 0;
    setChildren(this.alerts, items);
  }

  /** Called every second: refresh running durations and silence timers. */
  tick() {
    for (const el of this.list.querySelectorAll('.call-duration')) {
      const id = el.closest('[data-conversation-id]')?.dataset.conversationId;
      const conv = id && this.rows.get(id);
      if (conv) el.textContent = this.durationText(conv);
    }
    for (const el of this.alerts.querySelectorAll('.silence-for')) {
      el.textContent = fmtDuration((Date.now() - Number(el.dataset.since)) / 1000);
    }
  }
}
