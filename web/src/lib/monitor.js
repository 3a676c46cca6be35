// Supervisor listen-in: a subscribe-only LiveKit connection with an audio level meter.
import { Room, RoomEvent, Track } from 'livekit-client';
import { apiPost } from './api.js';

export class ListenSession {
  /**
   * @param {object} o
   * @param {HTMLElement} o.audioSink   hidden container for the <audio> elements
   * @param {(level: number) => void} o.onLevel   0..1, called every animation frame
   * @param {(state: string, detail?: string) => void} o.onState  'connecting'|'listening'|'stopped'|'error'
   */
  constructor({ audioSink, onLevel, onState }) {
    this.audioSink = audioSink;
    this.onLevel = onLevel;
    this.onState = onState;
    this.room = null;
    this.conversationId = null;
    this.listenId = null;
    this.audioCtx = null;
    this.analyser = null;
    this.sources = new Map(); // track sid → MediaStreamAudioSourceNode
    this.attached = new Set(); // track sids with an <audio> element
    this.raf = 0;
    this.ending = false;
  }

  get active() {
    return this.room !== null;
  }

  /** Must be called from a user gesture (click) so audio may start. */
  async start(conversationId) {
    if (this.room) await this.stop();
    this.ending = false;
    this.conversationId = conversationId;
    this.onState('connecting');
    // Create the AudioContext inside the click handler (autoplay policy).
    const Ctx = window.AudioContext || window.webkitAudioContext;
    this.audioCtx = Ctx ? new Ctx() : null;
    if (this.audioCtx) {
      this.analyser = this.audioCtx.createAnalyser();
      this.analyser.fftSize = 1024;
      this.analyser.smoothingTimeConstant = 0.3;
    }

    let room;
    try {
      const grant = await apiPost('/api/admin/get-monitor-token', { conversation_id: conversationId });
      this.listenId = grant.listen_id;
      room = new Room({ adaptiveStream: false, dynacast: false });
      this.room = room;
      room
        .on(RoomEvent.TrackSubscribed, (track) => this.addTrack(track))
        .on(RoomEvent.TrackUnsubscribed, (track) => this.removeTrack(track))
        .on(RoomEvent.Disconnected, () => {
          if (this.room === room) this.stop('The call ended or the connection was lost.');
        });
      await room.connect(grant.livekit_url, grant.token, { autoSubscribe: true });
      await room.startAudio().catch(() => {});
    } catch (err) {
      await this.stop();
      throw err;
    }
    // Tracks published before we joined.
    for (const p of room.remoteParticipants.values()) {
      for (const pub of p.trackPublications.values()) {
        if (pub.track && pub.kind === Track.Kind.Audio) this.addTrack(pub.track);
      }
    }
    this.onState('listening');
    this.loop();
  }

  addTrack(track) {
    if (track.kind !== Track.Kind.Audio || this.attached.has(track.sid)) return;
    this.attached.add(track.sid);
    const el = track.attach();
    el.dataset.testid = 'listen-audio';
    this.audioSink.append(el);
    if (!this.audioCtx || !this.analyser || this.sources.has(track.sid)) return;
    try {
      const stream = new MediaStream([track.mediaStreamTrack]);
      const src = this.audioCtx.createMediaStreamSource(stream);
      src.connect(this.analyser); // analyser only, not the speakers: the <audio> element plays it
      this.sources.set(track.sid, src);
    } catch (err) {
      console.warn('audio meter unavailable for track', err);
    }
  }

  removeTrack(track) {
    track.detach().forEach((el) => el.remove());
    this.attached.delete(track.sid);
    const src = this.sources.get(track.sid);
    if (src) src.disconnect();
    this.sources.delete(track.sid);
  }

  loop() {
    if (!this.analyser) return;
    const buf = new Float32Array(this.analyser.fftSize);
    const tick = () => {
      if (!this.analyser) return;
      if (this.audioCtx && this.audioCtx.state === 'suspended') this.audioCtx.resume().catch(() => {});
      this.analyser.getFloatTimeDomainData(buf);
      let sum = 0;
      for (let i = 0; i < buf.length; i += 1) sum += buf[i] * buf[i];
      const rms = Math.sqrt(sum / buf.length);
      // Map roughly -60 dBFS..0 dBFS onto 0..1.
      const db = rms > 0 ? 20 * Math.log10(rms) : -100;
      this.onLevel(Math.min(1, Math.max(0, (db + 60) / 60)));
      this.raf = requestAnimationFrame(tick);
    };
    this.raf = requestAnimationFrame(tick);
  }

  /** Disconnect and tell the server the listen-in ended. */
  async stop(detail) {
    if (this.ending) return;
    this.ending = true;
    cancelAnimationFrame(this.raf);
    const room = this.room;
    this.room = null;
    for (const src of this.sources.values()) src.disconnect();
    this.sources.clear();
    this.attached.clear();
    this.analyser = null;
    if (this.audioCtx) this.audioCtx.close().catch(() => {});
    this.audioCtx = null;
    this.onLevel(0);
    this.audioSink.replaceChildren();
    const { conversationId, listenId } = this;
    this.listenId = null;
    // Start both requests synchronously so this also works from a pagehide handler.
    const pending = [];
    if (room) pending.push(room.disconnect());
    if (conversationId && listenId) {
      pending.push(apiPost('/api/admin/listen-ended', { conversation_id: conversationId, listen_id: listenId }, { keepalive: true })
        .catch((err) => console.warn('listen-ended failed', err)));
    }
    await Promise.allSettled(pending);
    this.onState('stopped', detail);
    this.ending = false;
  }
}
