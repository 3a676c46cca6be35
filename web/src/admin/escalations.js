// Dashboard: callers who asked for a person, longest waiting first, each with Accept.
import { apiGet, apiPost } from '../lib/api.js';
import { byTestId, h, setChildren } from '../lib/dom.js';
import { fmtDuration } from '../lib/format.js';

const POLL_MS = 2000;

export class EscalationQueue {
  /** @param {{onAccepted: (id: string, grant: object) => void, onError: (err: Error) => void}} o */
  constructor({ onAccepted, onError }) {
    this.box = byTestId('escalations');
    this.list = byTestId('escalation-list');
    this.count = byTestId('escalations-count');
    this.onAccepted = onAccepted;
    this.onError = onError;
    this.items = [];
    this.loadedAt = 0;
  }

  start() {
    this.poll();
    setInterval(() => this.poll(), POLL_MS);
  }

  async poll() {
    try {
      this.items = (await apiGet('/api/admin/escalations')).items || [];
      this.loadedAt = Date.now();
      this.render();
    } catch (err) {
      this.onError(err);
    }
  }

  /** Every second: the waits grow between polls. */
  tick() {
    if (this.items.length) this.render();
  }

  render() {
    const extra = (Date.now() - this.loadedAt) / 1000;
    this.box.hidden = this.items.length === 0;
    this.count.textContent = String(this.items.length);
    setChildren(this.list, this.items.map((e) => {
      const accept = h('button', { type: 'button', class: 'btn btn-primary btn-small', testid: 'accept-escalation' }, 'Accept');
      accept.addEventListener('click', () => this.accept(e.conversation_id, accept));
      return h('li', { class: 'call-row escalation-row', testid: 'escalation-row', 'data-conversation-id': e.conversation_id },
        h('strong', {}, e.room_name),
        h('span', { class: 'muted small' }, ` “${e.utterance || ''}” `),
        h('span', { class: 'mono', testid: 'escalation-wait' }, fmtDuration(e.waiting_s + extra)),
        accept);
    }));
  }

  async accept(id, button) {
    button.disabled = true;
    try {
      const grant = await apiPost(`/api/admin/conversations/${encodeURIComponent(id)}/accept`);
      this.items = this.items.filter((e) => e.conversation_id !== id);
      this.render();
      this.onAccepted(id, grant);
    } catch (err) {
      button.disabled = false;
      this.onError(err);
    }
  }
}
