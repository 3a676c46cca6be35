// Server-Sent Events with a REST snapshot (see docs/api.md, "Server-Sent Events").
//
// Protocol followed here:
//  * Each message has `id:` = event-log position, `event:` = type, `data:` = JSON.
//  * On a network drop, EventSource reconnects by itself and sends Last-Event-ID: the
//    server replays exactly what was missed. We leave that mechanism alone.
//  * `event: resync` (or an EventSource the browser gave up on): close it, reload the
//    state over REST and open a *new* EventSource, which carries no Last-Event-ID.
//
// To avoid a gap between the REST snapshot and the stream, the stream is opened first
// and its messages are buffered until the snapshot has loaded; buffered messages at or
// below the snapshot's position are then dropped.

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30000;

export class SyncedStream {
  /**
   * @param {object} o
   * @param {string} o.url                     EventSource URL (same origin, cookie auth)
   * @param {string[]} o.events                event names to listen for (besides `resync`)
   * @param {() => Promise<number|null>} o.load  loads + renders the REST snapshot; returns its position (or null)
   * @param {(type: string, data: any, id: number|null) => void} o.onMessage
   * @param {(status: 'connecting'|'live'|'reconnecting'|'resyncing'|'closed', detail?: string) => void} [o.onStatus]
   * @param {(err: Error) => void} [o.onError]  snapshot load failed (will be retried)
   */
  constructor(o) {
    this.url = o.url;
    this.events = o.events;
    this.load = o.load;
    this.onMessage = o.onMessage;
    this.onStatus = o.onStatus || (() => {});
    this.onError = o.onError || (() => {});
    this.es = null;
    this.generation = 0;
    this.retryMs = RETRY_MIN_MS;
    this.retryTimer = null;
    this.stopped = true;
  }

  start() {
    this.stopped = false;
    this.open('connecting');
  }

  stop() {
    this.stopped = true;
    this.generation += 1;
    clearTimeout(this.retryTimer);
    if (this.es) this.es.close();
    this.es = null;
    this.onStatus('closed');
  }

  /** Open a fresh EventSource (no Last-Event-ID) and load the REST snapshot. */
  async open(status, detail) {
    clearTimeout(this.retryTimer);
    if (this.es) this.es.close();
    const gen = ++this.generation;
    this.onStatus(status, detail);

    let ready = false;
    let floor = null;
    const buffer = [];
    const es = new EventSource(this.url);
    this.es = es;

    const deliver = (type, data, id) => {
      if (floor !== null && id !== null && id <= floor) return; // already in the snapshot
      try {
        this.onMessage(type, data, id);
      } catch (err) {
        console.error('SSE handler failed', type, err);
      }
    };

    const listen = (type) => es.addEventListener(type, (ev) => {
      if (gen !== this.generation) return;
      let data;
      try {
        data = ev.data ? JSON.parse(ev.data) : {};
      } catch {
        console.warn('SSE: ignoring non-JSON data for', type);
        return;
      }
      const id = parseId(ev.lastEventId);
      if (ready) deliver(type, data, id);
      else buffer.push([type, data, id]);
    });
    this.events.forEach(listen);

    es.addEventListener('resync', (ev) => {
      if (gen !== this.generation) return;
      let reason = '';
      try { reason = JSON.parse(ev.data || '{}').reason || ''; } catch { /* ignore */ }
      this.open('resyncing', reason); // reload + reconnect without Last-Event-ID
    });

    es.addEventListener('open', () => {
      if (gen !== this.generation) return;
      this.retryMs = RETRY_MIN_MS;
      if (ready) this.onStatus('live');
    });

    es.addEventListener('error', () => {
      if (gen !== this.generation) return;
      if (es.readyState === EventSource.CONNECTING) {
        // The browser reconnects on its own with Last-Event-ID; the server replays the gap.
        this.onStatus('reconnecting');
      } else if (es.readyState === EventSource.CLOSED) {
        // The browser gave up (HTTP error such as 401/5xx): start over after a back-off.
        this.scheduleRetry(gen);
      }
    });

    try {
      floor = await this.load();
    } catch (err) {
      if (gen !== this.generation) return;
      this.onError(err);
      this.scheduleRetry(gen);
      return;
    }
    if (gen !== this.generation) return;
    floor = Number.isFinite(floor) ? floor : null;
    ready = true;
    for (const [type, data, id] of buffer.splice(0)) deliver(type, data, id);
    if (es.readyState === EventSource.OPEN) this.onStatus('live');
  }

  scheduleRetry(gen) {
    if (this.stopped || gen !== this.generation) return;
    if (this.es) this.es.close();
    this.onStatus('closed', `retrying in ${Math.round(this.retryMs / 1000)} s`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (!this.stopped && gen === this.generation) this.open('reconnecting');
    }, this.retryMs);
    this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
  }
}

function parseId(raw) {
  if (raw === undefined || raw === null || raw === '') return null;
  const n = Number(raw);
  return Number.isFinite(n) ? n : null;
}

/** Human text + pill kind for a stream status. */
export function streamStatusText(status, detail) {
  switch (status) {
    case 'live': return ['Live', 'good'];
    case 'connecting': return ['Connecting…', 'warn'];
    case 'reconnecting': return ['Reconnecting…', 'warn'];
    case 'resyncing': return ['Resyncing…', 'warn'];
    case 'closed': return [detail ? `Disconnected (${detail})` : 'Disconnected', 'bad'];
    default: return [status, 'neutral'];
  }
}
