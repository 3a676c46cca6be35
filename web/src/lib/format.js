// Formatting helpers (times, durations, percentages, labels).

const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, {
  year: 'numeric', month: 'short', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
});

export function parseTime(iso) {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

/** "14:03:27" in local time, or "—". */
export function fmtClock(iso) {
  const t = parseTime(iso);
  return t === null ? '—' : timeFmt.format(new Date(t));
}

export function fmtDateTime(iso) {
  const t = parseTime(iso);
  return t === null ? '—' : dateTimeFmt.format(new Date(t));
}

/** Seconds → "m:ss" or "h:mm:ss". */
export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return '—';
  let s = Math.max(0, Math.floor(Number(seconds)));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Offset in seconds with one decimal, e.g. "+12.3 s". */
export function fmtOffset(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return '—';
  return `${Number(seconds).toFixed(1)} s`;
}

/** Seconds with sensible precision, e.g. "1.24 s". */
export function fmtSeconds(seconds) {
  if (seconds === null || seconds === undefined || !Number.isFinite(Number(seconds))) return '—';
  const v = Number(seconds);
  return `${v < 10 ? v.toFixed(2) : v.toFixed(1)} s`;
}

/** Confidence 0..1 → "87%"; null → "" (unknown). */
export function fmtConfidence(conf) {
  if (conf === null || conf === undefined || !Number.isFinite(Number(conf))) return '';
  const v = Number(conf);
  const pct = v <= 1 ? v * 100 : v;
  return `${Math.round(pct)}%`;
}

export function fmtBytes(n) {
  if (!Number.isFinite(Number(n))) return '—';
  const v = Number(n);
  if (v < 1024) return `${v} B`;
  if (v < 1024 * 1024) return `${(v / 1024).toFixed(1)} KB`;
  return `${(v / (1024 * 1024)).toFixed(1)} MB`;
}

/** "call-1234…" style shortening for long ids. */
export function shortId(id, n = 14) {
  const s = String(id ?? '');
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** "listening" → "Listening"; null → "—". */
export function label(value) {
  if (value === null || value === undefined || value === '') return '—';
  const s = String(value).replace(/[_-]+/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export function speakerLabel(speaker) {
  if (speaker === 'customer') return 'Customer';
  if (speaker === 'assistant') return 'Assistant';
  if (speaker === 'supervisor') return 'Supervisor';
  return label(speaker);
}

/** Seconds elapsed since an ISO time (or between two). */
export function secondsBetween(fromIso, toIso) {
  const a = parseTime(fromIso);
  if (a === null) return null;
  const b = toIso ? parseTime(toIso) : Date.now();
  if (b === null) return null;
  return Math.max(0, (b - a) / 1000);
}
