// The call's recording inside the timeline: its waveform and a player, synced both ways
// with the scrubber. The audio streams from GET /api/conversations/{id}/recording/audio
// (same origin, the session cookie, range requests), never from the bucket.
//
// Two clocks: the audio's own (0 = when the recording started) and the call's (0 = the
// call's first event). `start` is where the first lies on the second.
import { convPath } from '../lib/api.js';
import { h, setChildren } from '../lib/dom.js';
import { fmtBytes, fmtDuration, fmtOffset, parseTime, speakerLabel } from '../lib/format.js';
import { createWaveform } from '../lib/waveform.js';

/** Below this many seconds apart, two positions are the same one: no seek, no redraw. */
const SAME_S = 0.05;

/**
 * The recording both routes serve (the last completed one) and where it starts in the
 * call, in seconds from offset 0 (`origin`, epoch ms): when it started recording, else
 * when it was asked for, else its end less its length.
 */
export function servedRecording(recordings, origin) {
  const done = (recordings || []).filter((r) => r.status === 'completed');
  if (!done.length) return null;
  done.sort((a, b) => (parseTime(b.finished_at) ?? 0) - (parseTime(a.finished_at) ?? 0));
  const rec = done[0];
  let at = parseTime(rec.started_at) ?? parseTime(rec.requested_at);
  const end = parseTime(rec.finished_at);
  if (at === null && end !== null && Number.isFinite(rec.duration_s)) at = end - rec.duration_s * 1000;
  return { rec, start: at === null ? 0 : Math.max(0, (at - origin) / 1000) };
}

export class AudioReplay {
  /**
   * @param {HTMLElement} container  where the player is drawn
   * @param {(callOffset: number) => void} onTime  the audio moved (playing, or the
   *   waveform was clicked or dragged): the page follows; it never seeks back
   */
  constructor(container, onTime) {
    this.container = container;
    this.onTime = onTime;
    this.ws = null;
    this.media = null;
    this.start = 0;
    this.pending = null; // a call offset asked for before the audio could seek
  }

  /**
   * Draw the player for `rec` (a recordings row), starting `start` s into a call of
   * `callDuration` s: the waveform lies under the axis on the same scale.
   */
  load(conversationId, rec, start, callDuration) {
    this.start = start;
    this.callDuration = callDuration;
    const url = new URL(convPath(conversationId, '/recording/audio'), window.location.href).href;
    this.media = h('audio', { preload: 'auto', testid: 'recording-player', 'aria-label': 'Call recording' });
    this.media.src = url; // streamed with range requests: it plays before it has all arrived
    this.play = h('button', { type: 'button', class: 'btn', testid: 'recording-play', disabled: true,
      onclick: () => this.toggle() }, 'Play');
    this.clock = h('span', { class: 'mono small', testid: 'recording-time' }, 'Loading…');
    const wave = h('div', { class: 'waveform', testid: 'recording-waveform', 'aria-label': 'Waveform of the recording' });
    this.wave = wave;
    this.caption = h('p', { class: 'replay-caption', testid: 'recording-caption', 'aria-live': 'polite' });
    const meta = [`starts ${fmtOffset(start)} into the call`];
    if (Number.isFinite(rec.duration_s)) meta.push(fmtDuration(rec.duration_s));
    if (Number.isFinite(rec.size_bytes)) meta.push(fmtBytes(rec.size_bytes));
    if (rec.content_type) meta.push(rec.content_type);
    setChildren(this.container,
      h('div', { class: 'replay-controls' }, this.play, this.clock,
        h('span', { class: 'muted small' }, meta.join(' · '))),
      wave, this.caption, this.media);
    this.container.dataset.state = 'loading';
    this.container.dataset.start = String(start);

    const ws = createWaveform(wave, this.media, url);
    this.ws = ws;
    ws.on('ready', () => {
      this.container.dataset.state = 'ready';
      this.play.disabled = false;
      if (this.pending !== null) this.seek(this.pending);
      this.showClock();
      this.placeWave();
    });
    ws.on('timeupdate', (t) => {
      this.showClock();
      if (ws.isPlaying()) this.onTime(this.start + t);
    });
    ws.on('interaction', (t) => this.onTime(this.start + t));
    ws.on('play', () => this.showPlaying(true));
    ws.on('pause', () => this.showPlaying(false));
    ws.on('finish', () => this.showPlaying(false));
    ws.on('error', (err) => {
      this.container.dataset.state = 'error';
      this.play.disabled = true;
      this.clock.textContent = `Recording unavailable: ${err && err.message ? err.message : err}`;
    });
  }

  toggle() {
    if (!this.ws) return;
    this.ws.playPause().catch((err) => {
      this.clock.textContent = `Could not play: ${err.message}`;
    });
  }

  /** The scrubber moved to `callOffset`: seek the audio there (its start, before it). */
  seek(callOffset) {
    if (!this.ws) return;
    const duration = this.ws.getDuration();
    if (!(duration > 0)) {
      this.pending = callOffset;
      return;
    }
    this.pending = null;
    const t = Math.min(duration, Math.max(0, callOffset - this.start));
    if (Math.abs(this.ws.getCurrentTime() - t) > SAME_S) this.ws.setTime(t);
    this.showClock();
  }

  /** The line last said at or before now: shown under the waveform. */
  showLine(line) {
    if (!this.caption) return;
    if (!line) {
      setChildren(this.caption);
      delete this.caption.dataset.position;
      return;
    }
    this.caption.dataset.position = String(line.position);
    this.caption.dataset.speaker = line.speaker;
    setChildren(this.caption, h('span', { class: 'speaker' }, speakerLabel(line.speaker)), ' ', line.text);
  }

  /** Where the audio lies in the call, as a share of the axis (set through the CSSOM). */
  placeWave() {
    const total = this.callDuration;
    const length = this.ws.getDuration();
    if (!(total > 0) || !(length > 0)) return;
    const left = Math.min(100, (100 * this.start) / total);
    this.wave.style.marginLeft = `${left}%`;
    this.wave.style.width = `${Math.max(5, Math.min(100 - left, (100 * length) / total))}%`;
  }

  showPlaying(playing) {
    this.container.dataset.playing = playing ? 'true' : 'false';
    this.play.textContent = playing ? 'Pause' : 'Play';
    this.play.setAttribute('aria-pressed', playing ? 'true' : 'false');
  }

  showClock() {
    const ws = this.ws;
    if (!ws || !(ws.getDuration() > 0)) return;
    this.clock.textContent = `${fmtDuration(ws.getCurrentTime())} / ${fmtDuration(ws.getDuration())}`;
  }
}

export { SAME_S };
