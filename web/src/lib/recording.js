// The dashboard's recording player. GET /api/conversations/{id}/recording says whether the
// call has a completed recording, and its length, size and type; the audio itself streams
// from GET /api/conversations/{id}/recording/audio: same origin, the session cookie, range
// requests for seeking, and never the bucket's own address.
import { ApiError, apiGet, convPath } from './api.js';
import { h, setChildren } from './dom.js';
import { fmtBytes, fmtDuration } from './format.js';

export class RecordingPlayer {
  /** @param {HTMLElement} container  where the player (or a message) is rendered */
  constructor(container) {
    this.container = container;
    this.conversationId = null;
    this.loadedFor = null;
  }

  clear() {
    this.conversationId = null;
    this.loadedFor = null;
    setChildren(this.container);
    this.container.hidden = true;
  }

  /** Load (once per conversation unless forced) and show the player. */
  async show(conversationId, { force = false } = {}) {
    if (!force && this.loadedFor === conversationId) return;
    this.conversationId = conversationId;
    this.loadedFor = conversationId;
    this.container.hidden = false;
    setChildren(this.container, h('p', { class: 'muted' }, 'Loading recording…'));
    let info;
    try {
      info = await apiGet(convPath(conversationId, '/recording'));
    } catch (err) {
      if (this.conversationId !== conversationId) return;
      this.loadedFor = null;
      const msg = err instanceof ApiError && err.status === 404 ? 'No completed recording yet.' : `Recording unavailable: ${err.message}`;
      setChildren(this.container, h('p', { class: 'muted', testid: 'recording-unavailable' }, msg));
      return;
    }
    if (this.conversationId !== conversationId) return;
    this.render(conversationId, info);
  }

  render(conversationId, info) {
    const audio = h('audio', { controls: true, preload: 'metadata', testid: 'recording-player', 'aria-label': 'Call recording' });
    audio.src = convPath(conversationId, '/recording/audio');
    audio.addEventListener('error', () => {
      if (this.conversationId !== conversationId) return;
      this.loadedFor = null;
      setChildren(this.container, h('p', { class: 'muted', testid: 'recording-unavailable' }, 'The recording could not be played.'));
    });
    const meta = [];
    if (Number.isFinite(info.duration_s)) meta.push(fmtDuration(info.duration_s));
    if (Number.isFinite(info.size_bytes)) meta.push(fmtBytes(info.size_bytes));
    if (info.content_type) meta.push(info.content_type);
    setChildren(this.container,
      audio,
      meta.length ? h('p', { class: 'muted small' }, meta.join(' · ')) : null);
  }
}
