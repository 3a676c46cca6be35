// Live captions for the customer page, fed by LiveKit transcriptions.
//
// Two transports exist in livekit-client 2.x:
//  * text streams on topic "lk.transcription" (current LiveKit Agents), with attributes
//    lk.segment_id, lk.transcription_final and lk.transcribed_track_id;
//  * RoomEvent.TranscriptionReceived (legacy transcription packets).
// Both are keyed by segment id, so a segment seen on both only shows once; once any text
// stream arrives, the legacy events are ignored to avoid double captions.
import { h } from './dom.js';

const MAX_LINES = 60;

export class Captions {
  /**
   * @param {HTMLElement} list        container for caption lines
   * @param {HTMLElement} scroller    the scrolling element (may be the same)
   * @param {HTMLElement} [placeholder] shown while there are no captions
   */
  constructor(list, scroller, placeholder) {
    this.list = list;
    this.scroller = scroller;
    this.placeholder = placeholder;
    this.segments = new Map(); // segment id → {el, textEl}
  }

  clear() {
    this.segments.clear();
    this.list.replaceChildren();
    if (this.placeholder) this.placeholder.hidden = false;
  }

  /**
   * @param {string} id        segment id
   * @param {'you'|'agent'} who
   * @param {string} text      the whole text of the segment so far
   * @param {boolean} final
   */
  upsert(id, who, text, final) {
    if (!text || !text.trim()) return;
    const nearBottom = this.scroller.scrollHeight - this.scroller.scrollTop - this.scroller.clientHeight < 48;
    let seg = this.segments.get(id);
    if (!seg) {
      const textEl = h('span', { class: 'caption-text' });
      const el = h('div', { class: ['caption', `caption-${who}`], testid: 'caption-line', dataset: { speaker: who } },
        h('span', { class: 'caption-who' }, who === 'you' ? 'You' : 'Assistant'),
        textEl);
      seg = { el, textEl };
      this.segments.set(id, seg);
      this.list.append(el);
      while (this.list.childElementCount > MAX_LINES) {
        const first = this.list.firstElementChild;
        for (const [key, value] of this.segments) if (value.el === first) this.segments.delete(key);
        first.remove();
      }
    }
    seg.textEl.textContent = text;
    seg.el.classList.toggle('caption-interim', !final);
    seg.el.dataset.final = final ? 'true' : 'false';
    if (this.placeholder) this.placeholder.hidden = true;
    if (nearBottom) this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}

/**
 * Subscribe a Room's transcriptions to a Captions instance.
 * @param {import('livekit-client').Room} room
 * @param {Captions} captions
 * @param {typeof import('livekit-client').RoomEvent} RoomEvent
 */
export function bindTranscriptions(room, captions, RoomEvent) {
  let streamsSeen = false;
  const whoIs = (identity) => (identity && identity === room.localParticipant.identity ? 'you' : 'agent');

  if (typeof room.registerTextStreamHandler === 'function') {
    room.registerTextStreamHandler('lk.transcription', async (reader, participantInfo) => {
      streamsSeen = true;
      const info = reader.info;
      const attrs = () => info.attributes || {};
      const id = attrs()['lk.segment_id'] || info.id;
      // The agent publishes the caller's transcript on the caller's behalf; fall back to the
      // transcribed track when the sender identity is the agent's.
      let who = whoIs(participantInfo && participantInfo.identity);
      const trackId = attrs()['lk.transcribed_track_id'];
      if (trackId) {
        for (const pub of room.localParticipant.trackPublications.values()) {
          if (pub.trackSid === trackId) who = 'you';
        }
      }
      let text = '';
      try {
        for await (const chunk of reader) {
          text += chunk;
          captions.upsert(id, who, text, attrs()['lk.transcription_final'] === 'true');
        }
      } catch (err) {
        console.warn('transcription stream ended abnormally', err);
      }
      // Trailer attributes are merged into info when the stream closes. An agent speech stream
      // that ended is complete; a caller interim stays interim until its final arrives.
      const final = attrs()['lk.transcription_final'] === 'true' || who === 'agent';
      captions.upsert(id, who, text, final);
    });
  }

  room.on(RoomEvent.TranscriptionReceived, (segments, participant) => {
    if (streamsSeen) return;
    const who = whoIs(participant && participant.identity);
    for (const seg of segments) captions.upsert(seg.id, who, seg.text, !!seg.final);
  });
}
