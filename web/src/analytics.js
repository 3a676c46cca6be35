// Analytics page ("/admin/analytics"): GET /api/analytics drawn with Chart.js.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';
import { apiGet } from './lib/api.js';
import { bindLogout, handleAuthError, requireStaff, staffLabel } from './lib/auth.js';
import { byTestId, h, setChildren, setError, show } from './lib/dom.js';

Chart.register(BarController, BarElement, CategoryScale, Legend, LinearScale, LineController, LineElement, PointElement, Tooltip);

const COLORS = { blue: '#2f6fed', green: '#1a7f47', red: '#c8102e', orange: '#d97706', purple: '#7c3aed', grey: '#6b7280' };
const DAY_MS = 86_400_000;

const ui = {
  user: byTestId('admin-user'),
  logout: byTestId('logout-button'),
  form: byTestId('analytics-form'),
  from: byTestId('analytics-from'),
  to: byTestId('analytics-to'),
  bucket: byTestId('analytics-bucket'),
  loading: byTestId('analytics-loading'),
  error: byTestId('analytics-error'),
  csv: byTestId('analytics-csv'),
  range: byTestId('analytics-range'),
  totals: byTestId('analytics-totals'),
};

/** [figure, label, format] of the totals tiles. */
const TILES = [
  ['calls', 'Calls', (v) => String(v)],
  ['containment', 'Containment', pct],
  ['handle_avg_s', 'Handle time (avg)', secs],
  ['handle_p90_s', 'Handle time (p90)', secs],
  ['bookings_per_call', 'Bookings per call', num2],
  ['lookups_per_call', 'Lookups per call', num2],
  ['silence_alerts', 'Silence alerts', (v) => String(v)],
  ['latency_p50_ms', 'Voice-to-voice p50', ms],
  ['latency_p95_ms', 'Voice-to-voice p95', ms],
  ['stt_confidence', 'STT confidence', num2],
  ['sentiment', 'Customer sentiment', (v) => (v > 0 ? '+' : '') + v.toFixed(2)],
  ['escalated_calls', 'Asked for a person', (v) => String(v)],
];

function pct(v) { return `${Math.round(v * 100)} %`; }
function secs(v) { return `${Math.round(v)} s`; }
function ms(v) { return `${Math.round(v)} ms`; }
function num2(v) { return v.toFixed(2); }

/** yyyy-mm-dd of a Date, in UTC (the buckets are UTC). */
function isoDay(date) { return date.toISOString().slice(0, 10); }

function query() {
  const params = new URLSearchParams();
  if (ui.from.value) params.set('from', `${ui.from.value}T00:00:00Z`);
  // the "to" day is included: the range ends at the start of the next day
  if (ui.to.value) params.set('to', isoDay(new Date(Date.parse(ui.to.value) + DAY_MS)) + 'T00:00:00Z');
  params.set('bucket', ui.bucket.value);
  return params;
}

function bucketLabel(start, bucket) {
  return bucket === 'hour' ? `${start.slice(5, 10)} ${start.slice(11, 16)}` : start.slice(0, 10);
}

const charts = new Map();

/** Draws (or redraws) one chart; the canvas carries the sum of its first series for tests. */
function draw(testid, type, labels, datasets, options = {}) {
  const canvas = byTestId(testid);
  const first = datasets[0].data.filter((v) => v !== null);
  canvas.dataset.total = String(first.reduce((a, b) => a + b, 0));
  canvas.dataset.points = String(labels.length);
  const old = charts.get(testid);
  if (old) old.destroy();
  charts.set(testid, new Chart(canvas, {
    type,
    data: { labels, datasets },
    options: { animation: false, responsive: true, maintainAspectRatio: false, spanGaps: true, ...options },
  }));
}

function series(label, data, color, extra = {}) {
  return { label, data, borderColor: color, backgroundColor: color, ...extra };
}

function render(report) {
  const { buckets, totals } = report;
  const labels = buckets.map((b) => bucketLabel(b.start, totals.bucket));
  const col = (key, scale = 1) => buckets.map((b) => (b[key] === null ? null : b[key] * scale));
  ui.range.textContent = `Calls opened from ${totals.from.slice(0, 16).replace('T', ' ')} to ${totals.to.slice(0, 16).replace('T', ' ')} UTC, per ${totals.bucket}.`;
  setChildren(ui.totals, TILES.map(([key, name, fmt]) => h('div', {},
    h('dt', { text: name }),
    h('dd', { testid: `total-${key}`, text: totals[key] === null ? '—' : fmt(totals[key]) }),
  )));
  draw('chart-calls', 'bar', labels, [
    series('Calls', col('calls'), COLORS.blue),
    series('Contained', col('contained_calls'), COLORS.green),
  ]);
  draw('chart-containment', 'line', labels, [series('Containment %', col('containment', 100), COLORS.green)],
    { scales: { y: { min: 0, max: 100 } } });
  draw('chart-handle', 'line', labels, [
    series('Average (s)', col('handle_avg_s'), COLORS.blue),
    series('p90 (s)', col('handle_p90_s'), COLORS.orange),
  ]);
  draw('chart-latency', 'line', labels, [
    series('p50 (ms)', col('latency_p50_ms'), COLORS.blue),
    series('p95 (ms)', col('latency_p95_ms'), COLORS.red),
  ]);
  draw('chart-outcomes', 'bar', labels, [
    series('Bookings per call', col('bookings_per_call'), COLORS.green),
    series('Lookups per call', col('lookups_per_call'), COLORS.purple),
  ]);
  draw('chart-silence', 'bar', labels, [series('Silence alerts', col('silence_alerts'), COLORS.orange)]);
  draw('chart-quality', 'line', labels, [
    series('STT confidence', col('stt_confidence'), COLORS.blue),
    series('Sentiment', col('sentiment'), COLORS.purple),
  ], { scales: { y: { min: -1, max: 1 } } });
}

async function load() {
  const params = query();
  ui.csv.href = `/api/analytics.csv?${params}`;
  const url = new URL(window.location.href);
  url.search = params.toString();
  window.history.replaceState(null, '', url);
  show(ui.loading, true);
  try {
    render(await apiGet(`/api/analytics?${params}`));
    setError(ui.error, null);
    document.body.dataset.loaded = 'true';
  } catch (err) {
    if (!handleAuthError(err)) setError(ui.error, err.reason || String(err));
  } finally {
    show(ui.loading, false);
  }
}

async function main() {
  bindLogout(ui.logout);
  const staff = await requireStaff();
  ui.user.textContent = staffLabel(staff);
  if (!(staff.can || []).includes('see_analytics')) {
    setError(ui.error, `Signed in as ${staff.role}: this role may not see analytics.`);
    return;
  }
  const given = new URLSearchParams(window.location.search);
  const now = Date.now();
  ui.bucket.value = given.get('bucket') === 'hour' ? 'hour' : 'day';
  ui.from.value = (given.get('from') || isoDay(new Date(now - 29 * DAY_MS))).slice(0, 10);
  ui.to.value = given.get('to') ? isoDay(new Date(Date.parse(given.get('to')) - DAY_MS)) : isoDay(new Date(now));
  ui.form.addEventListener('submit', (event) => { event.preventDefault(); load(); });
  await load();
}

main();
