// Recording player: GET /api/conversations/{id}/recording → {url, expires_in_s, content_type, size_bytes, duration_s}.
//
// The page's CSP allows media only from 'self' and blob:. A same-origin URL is played
// directly; a URL on another origin (e.g. a presigned object-store URL) is fetched into a
// blob: URL (connect-src allows it, if the store sends CORS headers). If that fails too, a
// plain link to the file is shown.
import { ApiError, apiGet, convPath } from './api.js';
import { h, setChildren } from './dom.js';
import { fmtBytes, fmtDuration } from './format.js';

export class RecordingPlayer {
  /** @param {HTMLElement} container  where the player (or a message) is rendered */
  constructor(container) {
    this.container = container;
    this.conversationId = null;
    this.objectUrl = null;
    this.loading = null;
    this.loadedFor = null;
  }

  clear() {
    this.revoke();
    this.conversationId = null;
    this.loadedFor = null;
    setChildren(this.container);
    this.container.hidden = true;
  }

  revoke() {
    if (this.objectUrl) URL.revokeObjectURL(this.objectUrl);
    this.objectUrl = null;
  }

  /** Load (once per conversation unless forced) and show the player. */
  async show(conversationId, { force = false } = {}) {
    if (!force && this.loadedFor === conversationId) return;
    if (this.conversationId !== conversationId) this.revoke();
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
    await this.render(conversationId, info);
  }

  async render(conversationId, info) {
    const url = new URL(info.url, window.location.href);
    let src = url.href;
    if (url.origin !== window.location.origin) {
      try {
        const res = await fetch(url.href, { credentials: 'omit' });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const blob = await res.blob();
        if (this.conversationId !== conversationId) return;
        this.revoke();
        this.objectUrl = URL.createObjectURL(blob);
        src = this.objectUrl;
      } catch {
        if (this.conversationId !== conversationId) return;
        setChildren(this.container,
          h('p', {}, 'The recording is stored on another server. ',
            h('a', { href: url.href, target: '_blank', rel: 'noopener noreferrer', testid: 'recording-link' }, 'Open recording')));
        return;
      }
    }
    let retried = false;
    const audio = h('audio', { controls: true, preload: 'metadata', testid: 'recording-player', 'aria-label': 'Call recording' });
    audio.addEventListener('error', () => {
      // A presigned URL may have expired: fetch a fresh one once.
      if (retried || this.objectUrl) return;
      retried = true;
      this.show(conversationId, { force: true });
    });
    audio.src = src;
    const meta = [];
    if (Number.isFinite(info.duration_s)) meta.push(fmtDuration(info.duration_s));
    if (Number.isFinite(info.size_bytes)) meta.push(fmtBytes(info.size_bytes));
    if (info.content_type) meta.push(info.content_type);
    setChildren(this.container,
      audio,
      meta.length ? h('p', { class: 'muted small' }, meta.join(' · ')) : null);
  }
}
