// Event families for colouring the timeline (Entry.type is the event class name).

export const FAMILIES = [
  { id: 'speech', label: 'Speech', test: /Transcript|Replied|StateChanged|Latency/ },
  { id: 'participants', label: 'Call & participants', test: /Participant|Track|^Opened$|^Call(Requested|Started|Ended|Summarised)$|AgentSession/ },
  { id: 'lookups', label: 'Lookups & tools', test: /VehicleLookedUp|ToolCalled|TestDrive|Callback/ },
  { id: 'recording', label: 'Recording', test: /^Recording/ },
  { id: 'monitoring', label: 'Monitoring & alerts', test: /ListenIn|Silence|Error/ },
  { id: 'supervision', label: 'Supervisors', test: /Supervisor|HandedBack|HumanRequested|EscalationExpired/ },
];

export const OTHER = { id: 'other', label: 'Other' };

export function familyOf(type) {
  const t = String(type || '');
  return FAMILIES.find((f) => f.test.test(t)) || OTHER;
}

/** "FinalTranscriptRecorded" → "Final transcript recorded". */
export function typeLabel(type) {
  const words = String(type || '').replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A short human description of an entry for the table and tooltips. */
export function entrySummary(e) {
  if (e.text) return e.text;
  const d = e.data || {};
  switch (e.type) {
    case 'AgentStateChanged':
    case 'UserStateChanged':
      return `${d.old_state ?? '?'} → ${d.new_state ?? '?'}`;
    case 'ParticipantJoined':
      return `${d.name || d.identity} joined (${d.kind || 'other'}${d.hidden ? ', hidden' : ''})`;
    case 'ParticipantLeft':
      return `${d.identity} left`;
    case 'ParticipantConnectionAborted':
      return `${d.identity} connection aborted`;
    case 'TrackPublished':
      return `${d.identity} published ${d.source || d.kind || 'a track'}`;
    case 'TrackUnpublished':
      return `${d.identity} unpublished a track`;
    case 'VehicleLookedUp':
      return `VIN ${d.vin || d.vin_as_said || '?'}: ${d.found ? 'found' : 'not found'}`;
    case 'ToolCalled':
      return `${d.name || 'tool'}${d.error ? ` failed: ${d.error}` : ''}`;
    case 'SilenceDetected':
      return `silent for ${Number(d.silent_for_s || 0).toFixed(1)} s`;
    case 'SilenceEnded':
      return `silence ended after ${Number(d.silent_for_s || 0).toFixed(1)} s`;
    case 'RecordingFailed':
      return d.reason || 'failed';
    case 'RecordingUpdated':
      return d.status || '';
    case 'RecordingCompleted':
      return d.object_key || '';
    case 'ListenInStarted':
    case 'ListenInEnded':
      return d.supervisor || '';
    case 'SupervisorCoached':
      return `${d.supervisor || ''}: “${d.text || ''}”`;
    case 'SupervisorBargedIn':
    case 'SupervisorTookOver':
    case 'CallEndedBySupervisor':
      return d.supervisor || '';
    case 'CallHandedBack':
      return `${d.supervisor || ''}${d.reason === 'supervisor_left' ? ' (left)' : ''}`;
    case 'HumanRequested':
      return d.utterance || '';
    case 'EscalationExpired':
      return `nobody took the call in ${Number(d.waited_s || 0).toFixed(0)} s`;
    case 'CallEnded':
      return d.reason || '';
    case 'CallSummarised':
      return d.text || '';
    case 'TurnLatencyMeasured':
      return d.end_to_end_s !== null && d.end_to_end_s !== undefined ? `end-to-end ${Number(d.end_to_end_s).toFixed(2)} s` : '';
    case 'ErrorReported':
      return `${d.component || ''}: ${d.message || ''}`;
    default:
      return '';
  }
}
