// Customer voice page ("/"): start a LiveKit call with the dealership's voice assistant.
import { ConnectionState, DisconnectReason, Room, RoomEvent, Track } from 'livekit-client';
import { apiPost } from './lib/api.js';
import { Captions, bindTranscriptions } from './lib/captions.js';
import { byTestId, pillKind, setError, setPill } from './lib/dom.js';
import { fmtDuration, label } from './lib/format.js';

const AGENT_STATE_ATTR = 'lk.agent.state';
// The agent listens for typed VINs on this data-channel topic (apps/agent/typed_vin.py).
const VIN_TOPIC = 'vin';
const VIN_LENGTH = 17;

const ui = {
  form: byTestId('call-form'),
  name: byTestId('call-name-input'),
  start: byTestId('call-start'),
  rejoin: byTestId('call-rejoin'),
  end: byTestId('call-end'),
  mute: byTestId('call-mute'),
  error: byTestId('call-error'),
  unlock: byTestId('audio-unlock'),
  connection: byTestId('connection-state'),
  agent: byTestId('agent-state'),
  timer: byTestId('call-timer'),
  room: byTestId('room-name'),
  captions: byTestId('captions'),
  captionList: byTestId('caption-list'),
  captionEmpty: byTestId('captions-empty'),
  audio: byTestId('agent-audio'),
  vinForm: byTestId('vin-form'),
  vin: byTestId('vin-input'),
  vinSend: byTestId('vin-send'),
  vinStatus: byTestId('vin-status'),
};

const captions = new Captions(ui.captionList, ui.captions, ui.captionEmpty);
let room = null;
// Proof that the current call is ours: only this gets us back into it after a drop.
let reconnectTicket = null;
let timerId = 0;
let startedAt = 0;

const CONNECTION_TEXT = {
  [ConnectionState.Disconnected]: 'Not connected',
  [ConnectionState.Connecting]: 'Connecting…',
  [ConnectionState.Connected]: 'Connected',
  [ConnectionState.Reconnecting]: 'Reconnecting…',
  [ConnectionState.SignalReconnecting]: 'Reconnecting…',
};

function showConnection(state) {
  const kind = state === ConnectionState.SignalReconnecting ? 'reconnecting' : state;
  setPill(ui.connection, CONNECTION_TEXT[state] || label(state), pillKind(kind));
  ui.connection.dataset.state = state;
}

function showAgentState(state) {
  const text = state ? label(state) : 'Waiting for assistant…';
  setPill(ui.agent, text, state ? pillKind(state) : 'neutral');
  ui.agent.dataset.state = state || '';
}

function isAgent(participant) {
  return !!participant && (participant.isAgent || AGENT_STATE_ATTR in (participant.attributes || {}));
}

function refreshAgentState() {
  if (!room) return;
  for (const p of room.remoteParticipants.values()) {
    if (isAgent(p)) {
      showAgentState(p.attributes[AGENT_STATE_ATTR] || 'initializing');
      return;
    }
  }
  showAgentState(null);
}

function setBusy(inCall) {
  ui.start.disabled = inCall;
  ui.name.disabled = inCall;
  ui.end.disabled = !inCall;
  ui.mute.disabled = !inCall;
  ui.vin.disabled = !inCall;
  ui.vinSend.disabled = !inCall;
  if (!inCall) ui.vinStatus.textContent = '';
}

// What a VIN typed by hand looks like once spaces and dashes are gone; null if it cannot be one.
// I, O and Q never occur in a VIN (the agent checks the rest, check digit included).
function typedVin(text) {
  const vin = text.replace(/[\s\-.]/g, '').toUpperCase();
  if (vin.length !== VIN_LENGTH) return { error: `A VIN has ${VIN_LENGTH} characters; that is ${vin.length}.` };
  if (/[^A-Z0-9]/.test(vin)) return { error: 'A VIN has only letters and digits.' };
  if (/[IOQ]/.test(vin)) return { error: 'VINs never contain the letters I, O or Q: is it a 1 or a 0?' };
  return { vin };
}

async function sendVin() {
  if (!room) return;
  const { vin, error } = typedVin(ui.vin.value);
  if (error) {
    ui.vinStatus.textContent = error;
    return;
  }
  try {
    await room.localParticipant.publishData(new TextEncoder().encode(vin), { reliable: true, topic: VIN_TOPIC });
    ui.vinStatus.textContent = `Sent ${vin}. The assistant will look it up.`;
    ui.vin.value = '';
  } catch (err) {
    ui.vinStatus.textContent = `Could not send the VIN: ${err.message || err}`;
  }
}

function startTimer() {
  startedAt = Date.now();
  ui.timer.textContent = '0:00';
  clearInterval(timerId);
  timerId = setInterval(() => { ui.timer.textContent = fmtDuration((Date.now() - startedAt) / 1000); }, 1000);
}

function stopTimer() {
  clearInterval(timerId);
  timerId = 0;
}

function micErrorMessage(err) {
  const name = err && err.name;
  if (name === 'NotAllowedError' || name === 'SecurityError') {
    return 'Microphone access was blocked. Allow the microphone for this site in your browser, then start the call again.';
  }
  if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No microphone was found. Connect one and try again.';
  if (name === 'NotReadableError') return 'Your microphone is in use by another application.';
  return `Could not start the microphone: ${err && err.message ? err.message : err}`;
}

function setMuted(muted) {
  ui.mute.textContent = muted ? 'Unmute' : 'Mute';
  ui.mute.setAttribute('aria-pressed', muted ? 'true' : 'false');
  ui.mute.setAttribute('aria-label', muted ? 'Unmute microphone' : 'Mute microphone');
}

function wireRoom(r) {
  r.on(RoomEvent.ConnectionStateChanged, showConnection)
    .on(RoomEvent.TrackSubscribed, (track, _pub, participant) => {
      if (track.kind !== Track.Kind.Audio) return;
      const el = track.attach();
      el.dataset.participant = participant.identity;
      ui.audio.append(el);
    })
    .on(RoomEvent.TrackUnsubscribed, (track) => { track.detach().forEach((el) => el.remove()); })
    .on(RoomEvent.ParticipantConnected, refreshAgentState)
    .on(RoomEvent.ParticipantDisconnected, (p) => {
      if (isAgent(p)) {
        setPill(ui.agent, 'Left the call', 'neutral');
        ui.agent.dataset.state = 'left';
      }
    })
    .on(RoomEvent.ParticipantAttributesChanged, (changed, participant) => {
      if (participant !== r.localParticipant && (AGENT_STATE_ATTR in changed || isAgent(participant))) refreshAgentState();
    })
    .on(RoomEvent.AudioPlaybackStatusChanged, () => { ui.unlock.hidden = r.canPlaybackAudio; })
    .on(RoomEvent.MediaDevicesError, (err) => setError(ui.error, micErrorMessage(err)))
    .on(RoomEvent.Disconnected, (reason) => {
      if (room !== r) return;
      room = null;
      stopTimer();
      setBusy(false);
      setMuted(false);
      ui.unlock.hidden = true;
      ui.audio.replaceChildren();
      showConnection(ConnectionState.Disconnected);
      setPill(ui.agent, '—', 'neutral');
      ui.agent.dataset.state = '';
      if (reason !== undefined && reason !== DisconnectReason.CLIENT_INITIATED) {
        const name = DisconnectReason[reason];
        setError(ui.error, `The call was disconnected${name ? ` (${String(name).toLowerCase().replace(/_/g, ' ')})` : ''}.`);
        ui.rejoin.hidden = !reconnectTicket;
      } else {
        reconnectTicket = null;
      }
    });
  bindTranscriptions(r, captions, RoomEvent);
}

async function startCall(rejoin = false) {
  setError(ui.error, '');
  setBusy(true);
  ui.rejoin.hidden = true;
  if (!rejoin) captions.clear();
  showConnection(ConnectionState.Connecting);
  const name = ui.name.value.trim();
  let grant;
  try {
    grant = rejoin
      ? await apiPost('/api/reconnect-token', { reconnect_ticket: reconnectTicket })
      : await apiPost('/api/get-token', name ? { participant_name: name } : {});
  } catch (err) {
    if (rejoin) reconnectTicket = null; // ended or expired: only a new call is left
    setError(ui.error, `Could not ${rejoin ? 'rejoin' : 'start'} the call: ${err.message}`);
    showConnection(ConnectionState.Disconnected);
    setBusy(false);
    return;
  }
  reconnectTicket = grant.reconnect_ticket || null;
  const r = new Room({
    adaptiveStream: true,
    dynacast: true,
    audioCaptureDefaults: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
  });
  room = r;
  wireRoom(r);
  ui.room.textContent = grant.room_name || '';
  try {
    await r.connect(grant.livekit_url, grant.token);
  } catch (err) {
    room = null;
    setError(ui.error, `Could not connect to the call: ${err.message || err}`);
    showConnection(ConnectionState.Disconnected);
    setBusy(false);
    return;
  }
  refreshAgentState();
  startTimer();
  try {
    await r.localParticipant.setMicrophoneEnabled(true);
    setMuted(false);
  } catch (err) {
    setError(ui.error, micErrorMessage(err));
    await r.disconnect();
    return;
  }
  ui.unlock.hidden = r.canPlaybackAudio;
}

ui.form.addEventListener('submit', (ev) => {
  ev.preventDefault();
  if (!room) startCall();
});

ui.vinForm.addEventListener('submit', (ev) => {
  ev.preventDefault();
  sendVin();
});

ui.rejoin.addEventListener('click', () => {
  if (!room && reconnectTicket) startCall(true);
});

ui.end.addEventListener('click', async () => {
  if (!room) return;
  ui.end.disabled = true;
  await room.disconnect();
});

ui.mute.addEventListener('click', async () => {
  if (!room) return;
  const enabled = room.localParticipant.isMicrophoneEnabled;
  try {
    await room.localParticipant.setMicrophoneEnabled(!enabled);
    setMuted(enabled);
  } catch (err) {
    setError(ui.error, micErrorMessage(err));
  }
});

ui.unlock.addEventListener('click', async () => {
  if (!room) return;
  await room.startAudio().catch(() => {});
  ui.unlock.hidden = room.canPlaybackAudio;
});

window.addEventListener('pagehide', () => {
  if (room) room.disconnect();
});

showConnection(ConnectionState.Disconnected);
setBusy(false);
