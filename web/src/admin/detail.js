// Dashboard: the selected call (header, live transcript, listen-in, recording).
import { ApiError, apiGet, convPath } from '../lib/api.js';
import { handleAuthError } from '../lib/auth.js';
import { byTestId, pillKind, setChildren, setError, setPill } from '../lib/dom.js';
import { fmtClock, fmtDuration, fmtSeconds, label, secondsBetween } from '../lib/format.js';
import { ListenSession } from '../lib/monitor.js';
import { RecordingPlayer } from '../lib/recording.js';
import { participantList } from '../lib/render.js';
import { SyncedStream, streamStatusText } from '../lib/sse.js';
import { SupervisePanel } from './supervise.js';
import { TranscriptFeed } from './feed.js';

/** The conversation row's counter that each call-stream message adds one to. */
const COUNTED = { final: 'final_count', reply: 'reply_count', lookup: 'lookup_count', tool: 'tool_call_count' };
import { isNewer, recordingText } from './calls.js';

const CALL_EVENTS = ['interim', 'final', 'reply', 'state', 'lookup', 'tool', 'silence', 'recording', 'participant', 'conversation', 'latency', 'supervisor', 'escalation'];

export class CallDetail {
  /**
   * @param {(conv: object) => void} onConversation  called with every fresher Conversation row
   * @param {Set<string>} can  the signed-in role's rights: what it may not do is not shown
   */
  constructor(onConversation, can = new Set()) {
    this.onConversation = onConversation || (() => {});
    this.can = can;
    this.ui = {
      empty: byTestId('detail-empty'),
      body: byTestId('detail-body'),
      title: byTestId('detail-title'),
      customer: byTestId('detail-customer'),
      started: byTestId('detail-started'),
      duration: byTestId('detail-duration'),
      status: byTestId('detail-status'),
      agent: byTestId('detail-agent-state'),
      user: byTestId('detail-user-state'),
      recording: byTestId('detail-recording-status'),
      silence: byTestId('detail-silence'),
      latency: byTestId('detail-latency'),
      stream: byTestId('detail-stream-status'),
      participants: byTestId('detail-participants'),
      counts: byTestId('detail-counts'),
      timeline: byTestId('timeline-link'),
      listen: byTestId('listen-button'),
      stop: byTestId('stop-listen-button'),
      listenStatus: byTestId('listen-status'),
      meter: byTestId('audio-meter'),
      meterFill: byTestId('audio-meter-fill'),
      sink: byTestId('listen-audio-sink'),
      player: byTestId('recording'),
      error: byTestId('detail-error'),
      feedToggle: byTestId('toggle-state-changes'),
      feedScroller: byTestId('transcript-feed'),
    };
    this.feed = new TranscriptFeed({
      scroller: this.ui.feedScroller,
      items: byTestId('feed-items'),
      interims: byTestId('feed-interims'),
      jump: byTestId('jump-latest'),
    });
    this.player = new RecordingPlayer(this.ui.player);
    this.listen = new ListenSession({
      audioSink: this.ui.sink,
      onLevel: (level) => this.showLevel(level),
      onState: (state, detail) => this.showListenState(state, detail),
    });
    this.id = null;
    this.conv = null;
    this.ui.listen.hidden = !can.has('act_on_calls');
    this.supervise = can.has('act_on_calls')
      ? new SupervisePanel({ errorBox: this.ui.error, audioSink: this.ui.sink })
      : null;
    this.stream = null;

    this.ui.listen.addEventListener('click', () => this.startListening());
    this.ui.stop.addEventListener('click', () => this.listen.stop());
    this.ui.feedToggle.addEventListener('change', () => {
      this.ui.feedScroller.classList.toggle('hide-states', !this.ui.feedToggle.checked);
    });
    window.addEventListener('pagehide', () => { if (this.listen.active) this.listen.stop(); });
  }

  async select(id) {
    if (id === this.id) return;
    if (this.listen.active) await this.listen.stop();
    if (this.supervise) await this.supervise.select(id);
    if (this.stream) this.stream.stop();
    this.id = id;
    this.conv = null;
    this.feed.clear();
    this.player.clear();
    setError(this.ui.error, '');
    this.ui.empty.hidden = true;
    this.ui.body.hidden = false;
    this.ui.body.dataset.conversationId = id;
    this.ui.title.textContent = id;
    this.ui.timeline.href = `/admin/conversations/${encodeURIComponent(id)}/timeline`;
    this.ui.listen.disabled = true;

    this.stream = new SyncedStream({
      url: convPath(id, '/stream'),
      events: CALL_EVENTS,
      load: () => this.load(id),
      onMessage: (type, data, pos) => { if (this.id === id) this.handle(type, data, pos); },
      onStatus: (status, detail) => {
        if (this.id !== id) return;
        const [text, kind] = streamStatusText(status, detail);
        setPill(this.ui.stream, text, kind);
      },
      onError: (err) => {
        if (this.id !== id || handleAuthError(err)) return;
        setError(this.ui.error, err instanceof ApiError && err.status === 404
          ? 'This call no longer exists.'
          : `Could not load the call: ${err.message}`);
      },
    });
    this.stream.start();
  }

  /** REST snapshot: conversation row, transcript, and (best effort) past events from the timeline. */
  async load(id) {
    const [conv, transcript] = await Promise.all([
      apiGet(convPath(id)),
      apiGet(convPath(id, '/transcript')),
    ]);
    if (this.id !== id) return null;
    setError(this.ui.error, '');
    this.feed.clear();
    this.conv = null;
    this.applyConversation(conv);
    for (const line of transcript.lines || []) this.feed.line(line);
    for (const interim of transcript.interims || []) this.feed.interim(interim);
    try {
      const timeline = await apiGet(convPath(id, '/timeline'));
      if (this.id === id) for (const e of timeline.entries || []) this.feed.entry(e);
    } catch (err) {
      if (handleAuthError(err)) throw err;
      console.warn('timeline history unavailable', err);
    }
    return Number.isFinite(Number(transcript.position)) ? Number(transcript.position) : null;
  }

  handle(type, d, pos) {
    const at = d.at;
    this.count(type, d, pos);
    switch (type) {
      case 'interim':
        this.feed.interim(d);
        break;
      case 'final':
        this.feed.line({ ...d, kind: 'final', occurred_at: at, position: pos });
        break;
      case 'reply':
        this.feed.line({ ...d, speaker: 'assistant', kind: 'reply', occurred_at: at, position: pos });
        break;
      case 'state':
        this.feed.state(d, at, pos);
        this.patch(d.who === 'user' ? { user_state: d.new_state } : { agent_state: d.new_state });
        break;
      case 'lookup':
        this.feed.lookup(d, at, pos);
        break;
      case 'tool':
        this.feed.tool(d, at, pos);
        break;
      case 'silence':
        this.feed.silence(d, at, pos);
        this.patch({ silence_active: !!d.active });
        break;
      case 'recording':
        this.feed.recording(d, at, pos);
        if (d.status) this.patch({ recording_status: d.status });
        break;
      case 'participant':
        this.feed.participant(d, at, pos);
        break;
      case 'conversation':
        this.applyConversation(d);
        break;
      case 'latency':
        this.showLatency(d.end_to_end_s);
        break;
      case 'supervisor':
        this.feed.supervisor(d, at, pos);
        break;
      case 'escalation':
        this.feed.escalation(d, at, pos);
        break;
      default:
        break;
    }
  }

  /**
   * Keeps the header's counters current: the call stream sends a line, reply or lookup as
   * its own message, not as a new conversation row. Only events after the row's own
   * position are counted, so a replayed or resumed stream never counts one twice.
   */
  count(type, d, pos) {
    const column = COUNTED[type];
    const c = this.conv;
    const at = Number(pos);
    if (!column || !c || !Number.isFinite(at) || at <= Number(c.position ?? -1)) return;
    this.patch({ [column]: (c[column] ?? 0) + 1, position: at });
  }

  /** Local, optimistic update of the header until the next `conversation` row. */
  patch(fields) {
    if (!this.conv) return;
    this.conv = { ...this.conv, ...fields };
    this.renderHeader();
  }

  applyConversation(conv) {
    if (!conv || conv.conversation_id !== this.id || !isNewer(conv, this.conv)) return;
    const wasEnded = this.conv && this.conv.status === 'ended';
    this.conv = conv;
    this.renderHeader();
    this.onConversation(conv);
    if (conv.status === 'ended' && !wasEnded && this.listen.active) this.listen.stop('The call ended.');
  }

  renderHeader() {
    const c = this.conv;
    const ui = this.ui;
    ui.title.textContent = c.room_name || c.conversation_id;
    ui.customer.textContent = c.customer_name || c.customer_identity || 'Unknown caller';
    ui.started.textContent = fmtClock(c.started_at || c.requested_at || c.opened_at);
    this.tick();
    setPill(ui.status, label(c.status), pillKind(c.status));
    ui.status.dataset.status = c.status || '';
    setPill(ui.agent, `Agent: ${label(c.agent_state)}`, pillKind(c.agent_state));
    ui.agent.dataset.state = c.agent_state || '';
    setPill(ui.user, `Customer: ${label(c.user_state)}`, pillKind(c.user_state));
    ui.user.dataset.state = c.user_state || '';
    const [recText, recKind] = recordingText(c.recording_status);
    setPill(ui.recording, recText, recKind);
    ui.recording.dataset.status = c.recording_status || 'none';
    ui.silence.hidden = !c.silence_active;
    if (c.last_end_to_end_s !== undefined) this.showLatency(c.last_end_to_end_s);
    setChildren(ui.participants, participantList(c.participants));
    ui.counts.textContent = [
      `${c.final_count ?? 0} finals`, `${c.reply_count ?? 0} replies`, `${c.lookup_count ?? 0} lookups`,
      `${c.tool_call_count ?? 0} tool calls`, `${c.listen_in_count ?? 0} listen-ins`,
      c.error_count ? `${c.error_count} errors` : null,
    ].filter(Boolean).join(' · ');
    const live = c.status === 'active' || c.status === 'requested';
    ui.listen.disabled = !live || this.listen.active;
    if (c.recording_status === 'completed' && this.can.has('replay_calls')) {
      this.player.show(c.conversation_id);
    }
    ui.timeline.hidden = !this.can.has('replay_calls');
    if (this.supervise) this.supervise.show(c);
  }

  showLatency(seconds) {
    this.ui.latency.textContent = seconds === null || seconds === undefined ? '—' : fmtSeconds(seconds);
  }

  /** Every second: running duration. */
  tick() {
    const c = this.conv;
    if (!c) return;
    const d = c.status === 'ended' && Number.isFinite(c.duration_s)
      ? c.duration_s
      : secondsBetween(c.started_at || c.requested_at, c.ended_at);
    this.ui.duration.textContent = d === null ? '—' : fmtDuration(d);
  }

  async startListening() {
    if (!this.id) return;
    this.ui.listen.disabled = true;
    setError(this.ui.error, '');
    try {
      await this.listen.start(this.id);
    } catch (err) {
      if (handleAuthError(err)) return;
      setError(this.ui.error, `Could not listen in: ${err.message || err}`);
      this.showListenState('stopped');
    }
  }

  showListenState(state, detail) {
    const ui = this.ui;
    const listening = state === 'listening';
    const busy = state === 'connecting';
    ui.stop.hidden = !(listening || busy);
    ui.listen.hidden = listening || busy || !this.can.has('act_on_calls');
    const live = this.conv && (this.conv.status === 'active' || this.conv.status === 'requested');
    ui.listen.disabled = busy || listening || !live;
    ui.meter.hidden = !listening;
    ui.listenStatus.dataset.state = state;
    ui.listenStatus.textContent = {
      connecting: 'Connecting…',
      listening: 'Listening (hidden from the caller)',
      stopped: detail || '',
    }[state] ?? '';
  }

  showLevel(level) {
    const pct = Math.round(level * 100);
    this.ui.meterFill.style.width = `${pct}%`;
    this.ui.meter.setAttribute('aria-valuenow', String(pct));
  }
}
