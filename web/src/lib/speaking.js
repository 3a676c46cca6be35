// A supervisor's microphone in a call (barge in, take over, accept an escalation): the
// token from the act's route may publish a microphone in that one room.
import { Room, RoomEvent, Track } from 'livekit-client';

export class SpeakingSession {
  /** @param {{audioSink: HTMLElement, onState: (state: string, detail?: string) => void}} o */
  constructor({ audioSink, onState }) {
    this.audioSink = audioSink;
    this.onState = onState;
    this.room = null;
  }

  get active() {
    return this.room !== null;
  }

  /** Join with the grant ({token, livekit_url}) and open the microphone; from a click. */
  async start(grant) {
    await this.stop();
    const room = new Room({ adaptiveStream: false, dynacast: false });
    this.room = room;
    room
      .on(RoomEvent.TrackSubscribed, (track) => {
        if (track.kind === Track.Kind.Audio) this.audioSink.append(track.attach());
      })
      .on(RoomEvent.Disconnected, () => {
        if (this.room === room) {
          this.room = null;
          this.onState('stopped', 'Left the call.');
        }
      });
    await room.connect(grant.livekit_url, grant.token, { autoSubscribe: true });
    await room.startAudio().catch(() => {});
    await room.localParticipant.setMicrophoneEnabled(true);
    this.onState('speaking');
  }

  async stop() {
    const room = this.room;
    this.room = null;
    if (room) await room.disconnect();
    this.audioSink.replaceChildren();
  }
}
