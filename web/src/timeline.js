// Call timeline page ("/admin/conversations/{id}/timeline").
import { ApiError } from './lib/api.js';
import { bindLogout, handleAuthError, requireStaff, staffLabel } from './lib/auth.js';
import { byTestId, debounce, h, pillKind, setChildren, setError, setPill } from './lib/dom.js';
import { fmtDateTime, fmtDuration, fmtOffset, label, parseTime } from './lib/format.js';
import { interimLine, lookupCard, participantList, toolCard, transcriptLine } from './lib/render.js';
import { TimelineAxis } from './timeline/axis.js';
import { AudioReplay, SAME_S, servedRecording } from './timeline/replay.js';
import { entrySummary, familyOf, typeLabel } from './timeline/families.js';
import { renderInsight } from './timeline/insight.js';
import { recordingText } from './admin/calls.js';
import { loadTimeline, renderPrivacy } from './timeline/privacy.js';

const SCRUB_DEBOUNCE_MS = 250;

const ui = {
  user: byTestId('admin-user'),
  logout: byTestId('logout-button'),
  title: byTestId('timeline-title'),
  summary: byTestId('timeline-summary'),
  error: byTestId('timeline-error'),
  dashboardLink: byTestId('dashboard-call-link'),
  axis: byTestId('timeline-axis'),
  legend: byTestId('timeline-legend'),
  scrubber: byTestId('timeline-scrubber'),
  scrubTime: byTestId('scrubber-time'),
  stateLoading: byTestId('state-loading'),
  stateStatus: byTestId('state-status'),
  stateAgent: byTestId('state-agent'),
  stateUser: byTestId('state-user'),
  stateSilence: byTestId('state-silence'),
  stateRecording: byTestId('state-recording'),
  stateParticipants: byTestId('state-participants'),
  stateTranscript: byTestId('state-transcript'),
  lookups: byTestId('lookups'),
  recordings: byTestId('recordings'),
  player: byTestId('recording'),
  tableBody: byTestId('entries-body'),
  entryCount: byTestId('entry-count'),
  privacy: byTestId('privacy'),
};

/** The id is the last-but-one path segment: /admin/conversations/{id}/timeline. */
function conversationIdFromPath() {
  const parts = window.location.pathname.split('/').filter(Boolean);
  return parts.length >= 2 ? decodeURIComponent(parts[parts.length - 2]) : null;
}

const id = conversationIdFromPath();
let origin = 0; // epoch ms of offset 0
let rows = []; // [{offset, el}]
let request = { seq: 0, ctrl: null, count: -1 };
let offsets = []; // every entry's offset, ascending
let spoken = []; // the transcript's lines with their offsets, ascending: [{position, offset, speaker, text}]
let current = 0; // the scrubber's offset
let speaking = null; // the line last said at or before `current`
let staff = { can: [] }; // who is signed in, and what they may do

/**
 * Offset 0 in epoch ms, from the entries themselves (recorded_at − offset_s): offsets count
 * from when the first event was recorded, and `?at=` selects by when each was recorded.
 */
function computeOrigin(entries, state) {
  for (const e of entries) {
    const t = parseTime(e.recorded_at) ?? parseTime(e.occurred_at);
    if (t !== null && Number.isFinite(Number(e.offset_s))) return t - Number(e.offset_s) * 1000;
  }
  return parseTime(state && (state.opened_at || state.requested_at || state.started_at)) ?? Date.now();
}

function computeDuration(entries, state) {
  let d = 0;
  for (const e of entries) d = Math.max(d, Number(e.offset_s) || 0);
  if (state) {
    const end = parseTime(state.ended_at);
    if (end !== null) d = Math.max(d, (end - origin) / 1000);
    else if (state.status === 'requested' || state.status === 'active') d = Math.max(d, (Date.now() - origin) / 1000);
  }
  return Math.max(1, Math.ceil(d * 10) / 10);
}

/** A band under the axis: who spoke for the dealership when (AI, supervisor, both). */
function renderControlSpans(spans, duration) {
  const box = byTestId('control-spans');
  box.hidden = spans.length === 0 || (spans.length === 1 && spans[0].who === 'AI');
  setChildren(box, spans.map((s) => {
    const from = Math.max(0, Number(s.from_s) || 0);
    const to = Math.min(duration, Number(s.to_s) || 0);
    const el = h('span', { class: ['control-span', `control-${s.who}`], testid: 'control-span',
      title: `${s.who}: ${from.toFixed(1)}–${to.toFixed(1)} s` }, s.who);
    el.style.left = `${(100 * from) / duration}%`;
    el.style.width = `${Math.max(0.5, (100 * (to - from)) / duration)}%`;
    return el;
  }));
}

function renderHeader(state, tl) {
  ui.title.textContent = `Call timeline — ${(state && state.room_name) || tl.room_name || id}`;
  const bits = [];
  if (state) {
    bits.push(state.customer_name || state.customer_identity || 'Unknown caller');
    bits.push(`opened ${fmtDateTime(state.opened_at)}`);
    if (state.ended_at) bits.push(`ended ${fmtDateTime(state.ended_at)}${state.end_reason ? ` (${state.end_reason})` : ''}`);
    if (Number.isFinite(state.duration_s)) bits.push(`duration ${fmtDuration(state.duration_s)}`);
    bits.push(label(state.status));
  }
  ui.summary.textContent = bits.join(' · ');
  ui.dashboardLink.href = `/admin?call=${encodeURIComponent(id)}`;
}

function renderTable(entries) {
  rows = [];
  ui.entryCount.textContent = String(entries.length);
  setChildren(ui.tableBody, entries.map((e) => {
    const fam = familyOf(e.type);
    const tr = h('tr', { class: ['entry-row', `family-${fam.id}`], testid: 'entry-row', dataset: { position: e.position ?? '', type: e.type } },
      h('td', { class: 'num' }, fmtOffset(e.offset_s)),
      h('td', {}, h('span', { class: 'swatch', 'aria-hidden': 'true' }), typeLabel(e.type)),
      h('td', {}, e.source || ''),
      h('td', {}, e.speaker || ''),
      h('td', { class: 'entry-text' }, entrySummary(e)));
    rows.push({ offset: Number(e.offset_s) || 0, el: tr, position: e.position });
    return tr;
  }));
}

function renderLookups(entries) {
  const cards = entries
    .filter((e) => e.type === 'VehicleLookedUp' || e.type === 'ToolCalled')
    .map((e) => (e.type === 'VehicleLookedUp' ? lookupCard(e.data || {}, e.occurred_at) : toolCard(e.data || {}, e.occurred_at)));
  setChildren(ui.lookups, cards.length ? cards : h('p', { class: 'muted' }, 'No vehicle lookups or tool calls in this call.'));
}

function renderRecordings(tl) {
  const recs = Array.isArray(tl.recordings) ? tl.recordings : [];
  setChildren(ui.recordings, recs.map((r) => {
    const [text, kind] = recordingText(r.status);
    return h('li', {}, h('span', { class: `pill pill-small pill-${kind}` }, text), ' ', h('code', {}, r.recording_id || ''),
      r.reason || r.error ? h('span', { class: 'muted' }, ` ${r.reason || r.error}`) : null);
  }));
  const served = servedRecording(recs, origin);
  if (!served) {
    setChildren(ui.player, h('p', { class: 'muted', testid: 'recording-unavailable' }, 'No completed recording for this call.'));
    return null;
  }
  const replay = new AudioReplay(ui.player, followAudio);
  replay.load(id, served.rec, served.start, Number(ui.scrubber.max) || 0);
  return replay;
}

/** Where each transcript line was said, from its event's offset (same position). */
function spokenLines(lines, entries) {
  const at = new Map(entries.map((e) => [e.position, Number(e.offset_s) || 0]));
  return (lines || [])
    .filter((l) => at.has(l.position))
    .map((l) => ({ position: l.position, offset: at.get(l.position), speaker: l.speaker, text: l.text || '' }))
    .sort((a, b) => a.offset - b.offset || a.position - b.position);
}

/** How many of the sorted `values` are ≤ `x` (binary search). */
function countUpTo(values, x, key = (v) => v) {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (key(values[mid]) <= x + 1e-9) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Highlight the line being said at `current`: the last one said at or before it. */
function markSpeaking() {
  const n = countUpTo(spoken, current, (l) => l.offset);
  speaking = n ? spoken[n - 1] : null;
  const pos = speaking ? String(speaking.position) : null;
  for (const el of ui.stateTranscript.querySelectorAll('[data-testid="state-line"]')) {
    const on = el.dataset.position === pos;
    el.classList.toggle('speaking', on);
    if (on) el.dataset.speaking = 'true';
    else delete el.dataset.speaking;
  }
  for (const r of rows) r.el.classList.toggle('speaking', pos !== null && String(r.position) === pos);
  if (replay) replay.showLine(speaking);
}

/** Show the state as of the scrubber position. */
function renderState(tl) {
  const s = tl.state;
  if (!s) {
    setPill(ui.stateStatus, 'Not started', 'neutral');
    ui.stateStatus.dataset.status = '';
    setPill(ui.stateAgent, '—', 'neutral');
    setPill(ui.stateUser, '—', 'neutral');
    setPill(ui.stateSilence, '—', 'neutral');
    setPill(ui.stateRecording, '—', 'neutral');
    setChildren(ui.stateParticipants, h('li', { class: 'muted' }, 'Nobody present'));
  } else {
    setPill(ui.stateStatus, label(s.status), pillKind(s.status));
    ui.stateStatus.dataset.status = s.status || '';
    setPill(ui.stateAgent, label(s.agent_state), pillKind(s.agent_state));
    setPill(ui.stateUser, label(s.user_state), pillKind(s.user_state));
    setPill(ui.stateSilence, s.silence_active ? 'Silent' : 'No', s.silence_active ? 'bad' : 'neutral');
    ui.stateSilence.dataset.active = s.silence_active ? 'true' : 'false';
    const [recText, recKind] = recordingText(s.recording_status);
    setPill(ui.stateRecording, recText, recKind);
    setChildren(ui.stateParticipants, participantList(s.participants, { presentOnly: true }));
  }
  const lines = (tl.transcript || []).map((l) => transcriptLine(l, 'state-line'));
  const interims = (tl.interims || []).map((i) => interimLine(i, 'state-interim'));
  setChildren(ui.stateTranscript, lines.length || interims.length ? [lines, interims] : h('p', { class: 'muted' }, 'Nothing said yet.'));
  markSpeaking();
  const line = ui.stateTranscript.querySelector('.speaking');
  if (line) line.scrollIntoView({ block: 'nearest' });
  else ui.stateTranscript.scrollTop = ui.stateTranscript.scrollHeight;
}

function showOffset(offset) {
  current = offset;
  const iso = new Date(origin + offset * 1000).toISOString();
  ui.scrubTime.textContent = `${fmtDuration(offset)} (${fmtOffset(offset)}) — ${fmtDateTime(iso)}`;
  ui.scrubber.setAttribute('aria-valuetext', `${fmtDuration(offset)} into the call`);
  axis.setCursor(offset);
  for (const r of rows) r.el.classList.toggle('future', r.offset > offset + 1e-9);
}

async function fetchAt(offset) {
  // 2 ms later: `at` carries milliseconds, the log's times microseconds, and an event at
  // exactly this offset belongs to the state shown
  const iso = new Date(origin + offset * 1000 + 2).toISOString();
  if (request.ctrl) request.ctrl.abort();
  const ctrl = new AbortController();
  const seq = ++request.seq;
  request = { seq, ctrl, count: countUpTo(offsets, offset) };
  ui.stateLoading.hidden = false;
  try {
    const tl = await loadTimeline(id, staff, `?at=${encodeURIComponent(iso)}`, { signal: ctrl.signal });
    if (seq !== request.seq) return;
    setError(ui.error, '');
    renderState(tl);
  } catch (err) {
    if (err.name === 'AbortError' || seq !== request.seq) return;
    if (!handleAuthError(err)) setError(ui.error, `Could not load the state at ${fmtDuration(offset)}: ${err.message}`);
  } finally {
    if (seq === request.seq) ui.stateLoading.hidden = true;
  }
}

const fetchAtDebounced = debounce(fetchAt, SCRUB_DEBOUNCE_MS);

/** The scrubber (or a marker, or `?t=`) chose `offset`: the state follows, the audio seeks. */
function moveTo(offset, { immediate = false } = {}) {
  ui.scrubber.value = String(offset);
  showOffset(offset);
  markSpeaking();
  if (replay) replay.seek(offset);
  if (immediate) {
    fetchAtDebounced.cancel();
    fetchAt(offset);
  } else {
    fetchAtDebounced(offset);
  }
}

/**
 * The audio played on (or its waveform was clicked): the scrubber, the transcript's
 * highlight and the state follow; the audio is not sought again. The state is fetched
 * only when an event lies between the old moment and the new, not at every frame.
 */
function followAudio(callOffset) {
  const offset = Math.min(Number(ui.scrubber.max) || callOffset, Math.max(0, callOffset));
  if (Math.abs(offset - current) < SAME_S) return;
  ui.scrubber.value = String(offset);
  showOffset(offset);
  markSpeaking();
  if (countUpTo(offsets, offset) !== request.count) {
    fetchAtDebounced.cancel();
    fetchAt(offset);
  }
}

let replay = null;

const axis = new TimelineAxis(ui.axis, ui.legend, (entry) => {
  moveTo(Number(entry.offset_s) || 0, { immediate: true });
  const row = rows.find((r) => r.position === entry.position);
  if (row) {
    for (const r of rows) r.el.classList.remove('picked');
    row.el.classList.add('picked');
    row.el.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }
});

async function main() {
  bindLogout(ui.logout);
  if (!id) {
    setError(ui.error, 'No call id in the address.');
    return;
  }
  staff = await requireStaff();
  ui.user.textContent = staffLabel(staff);
  let tl;
  try {
    tl = await loadTimeline(id, staff);
  } catch (err) {
    if (handleAuthError(err)) return;
    setError(ui.error, err instanceof ApiError && err.status === 404 ? 'This call was not found.' : `Could not load the timeline: ${err.message}`);
    return;
  }
  const entries = [...(tl.entries || [])].sort((a, b) => (Number(a.offset_s) || 0) - (Number(b.offset_s) || 0) || (Number(a.position) || 0) - (Number(b.position) || 0));
  origin = computeOrigin(entries, tl.state);
  const duration = computeDuration(entries, tl.state);

  renderHeader(tl.state, tl);
  axis.render(entries, duration);
  renderControlSpans(tl.control_spans || [], duration);
  renderTable(entries);
  renderLookups(entries);
  offsets = entries.map((e) => Number(e.offset_s) || 0);
  spoken = spokenLines(tl.transcript, entries);
  renderInsight(id); // its own request: the timeline does not wait for it
  renderPrivacy(ui.privacy, id, staff, tl);

  ui.scrubber.min = '0';
  ui.scrubber.max = String(duration);
  ui.scrubber.step = '0.1';
  ui.scrubber.disabled = false;
  replay = renderRecordings(tl);
  ui.scrubber.addEventListener('input', () => moveTo(Number(ui.scrubber.value)));
  const seek = requestedOffset();
  if (seek !== null) {
    // A search hit opens the call at the moment its words were said.
    moveTo(Math.min(scrubberOffset(seek, entries, tl.state), duration), { immediate: true });
    return;
  }
  // Start at the end of the call: the full response already is the final state.
  ui.scrubber.value = String(duration);
  showOffset(duration);
  request.count = entries.length;
  renderState(tl);
  if (replay) replay.seek(duration);
}

/**
 * `?t=` counts from the call's opening by the sources' clocks (a search hit's `offset_s`:
 * when its words were said); the scrubber counts by when events were recorded, a little
 * later. An event that happened at that moment is the place: its own offset, so that its
 * line is in the state shown. Otherwise the same moment on the scrubber's clock.
 */
function scrubberOffset(t, entries, state) {
  const opened = parseTime(state && state.opened_at) ?? origin;
  const moment = opened + t * 1000;
  let best = null;
  for (const e of entries) {
    const gap = Math.abs((parseTime(e.occurred_at) ?? Infinity) - moment);
    if (gap <= 5 && (best === null || gap < best.gap || (gap === best.gap && Number(e.offset_s) > best.offset))) {
      best = { gap, offset: Number(e.offset_s) || 0 };
    }
  }
  return best ? best.offset : Math.max(0, (moment - origin) / 1000);
}

/** Seconds into the call asked for by `?t=12.5` or `#t=12.5`, or null. */
function requestedOffset() {
  const raw = new URLSearchParams(window.location.search).get('t')
    ?? new URLSearchParams(window.location.hash.slice(1)).get('t');
  const value = raw === null ? NaN : Number(raw);
  return Number.isFinite(value) && value >= 0 ? value : null;
}

main().catch((err) => {
  if (!handleAuthError(err)) setError(ui.error, `The timeline failed to load: ${err.message}`);
});
