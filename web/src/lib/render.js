// Renderers shared by the dashboard and the timeline page.
import { h } from './dom.js';
import { fmtConfidence, fmtClock, speakerLabel } from './format.js';

const money = new Intl.NumberFormat(undefined, { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });
const miles = new Intl.NumberFormat(undefined);

/** One-line summary of an inventory vehicle or a decoded VIN. */
export function vehicleSummary(vehicle, decoded) {
  if (vehicle && typeof vehicle === 'object') {
    const name = [vehicle.year, vehicle.make, vehicle.model, vehicle.trim].filter(Boolean).join(' ');
    const bits = [name || 'Vehicle'];
    if (vehicle.color) bits.push(vehicle.color);
    if (Number.isFinite(vehicle.price)) bits.push(money.format(vehicle.price));
    if (Number.isFinite(vehicle.mileage)) bits.push(`${miles.format(vehicle.mileage)} mi`);
    if (vehicle.condition) bits.push(vehicle.condition);
    if (vehicle.status) bits.push(vehicle.status);
    return bits.join(' · ');
  }
  if (decoded && typeof decoded === 'object') {
    const name = [decoded.model_year, decoded.make || decoded.manufacturer].filter(Boolean).join(' ');
    const bits = [name || 'Decoded VIN'];
    if (decoded.country) bits.push(decoded.country);
    if (decoded.plant) bits.push(`plant ${decoded.plant}`);
    return bits.join(' · ');
  }
  return '';
}

/** Card for a vehicle lookup payload {vin_as_said, vin, check_digit_valid, found, vehicle, decoded}. */
export function lookupCard(d, at, testid = 'feed-lookup') {
  const ok = !!d.found;
  const validity = d.check_digit_valid === false ? 'check digit invalid' : (d.check_digit_valid ? 'check digit OK' : '');
  return h('div', { class: ['feed-item', 'feed-lookup', ok ? 'found' : 'not-found'], testid },
    h('div', { class: 'feed-meta' },
      h('span', { class: 'feed-kind' }, 'Vehicle lookup'),
      at ? h('time', { datetime: at }, fmtClock(at)) : null),
    h('div', { class: 'lookup-vin' },
      h('code', {}, d.vin || '—'),
      d.vin_as_said && d.vin_as_said !== d.vin ? h('span', { class: 'muted' }, ` (heard “${d.vin_as_said}”)`) : null),
    h('div', { class: 'lookup-result' },
      h('span', { class: `pill pill-${ok ? 'good' : 'bad'}` }, ok ? 'In inventory' : 'Not found'),
      validity ? h('span', { class: 'muted' }, ` ${validity}`) : null),
    vehicleSummary(d.vehicle, d.decoded) ? h('div', { class: 'lookup-vehicle' }, vehicleSummary(d.vehicle, d.decoded)) : null);
}

function compactJson(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Card for a tool call payload {name, arguments, result, error}. */
export function toolCard(d, at, testid = 'feed-tool') {
  return h('div', { class: ['feed-item', 'feed-tool', d.error ? 'has-error' : null], testid },
    h('div', { class: 'feed-meta' },
      h('span', { class: 'feed-kind' }, 'Tool call'),
      h('code', {}, d.name || '?'),
      at ? h('time', { datetime: at }, fmtClock(at)) : null),
    d.arguments !== undefined ? h('div', { class: 'tool-args' }, h('span', { class: 'muted' }, 'args '), h('code', {}, compactJson(d.arguments))) : null,
    d.error
      ? h('div', { class: 'tool-error' }, `Error: ${compactJson(d.error)}`)
      : (d.result !== undefined && d.result !== null ? h('div', { class: 'tool-result' }, h('span', { class: 'muted' }, 'result '), compactJson(d.result)) : null));
}

/**
 * A transcript line (final or agent reply).
 * line: {speaker, kind, text, confidence, occurred_at, interrupted, position}
 */
export function transcriptLine(line, testid = 'transcript-line') {
  const speaker = ['customer', 'supervisor'].includes(line.speaker) ? line.speaker : 'assistant';
  const conf = fmtConfidence(line.confidence);
  return h('div', {
    class: ['feed-item', 'line', `speaker-${speaker}`, line.kind === 'reply' ? 'line-reply' : 'line-final'],
    testid,
    dataset: { speaker, kind: line.kind || 'final', position: line.position ?? undefined },
  },
  h('div', { class: 'feed-meta' },
    h('span', { class: 'speaker' }, speakerLabel(speaker)),
    line.kind === 'reply' ? h('span', { class: 'tag' }, 'reply') : null,
    line.occurred_at ? h('time', { datetime: line.occurred_at }, fmtClock(line.occurred_at)) : null,
    conf ? h('span', { class: 'confidence', title: 'Speech recognition confidence' }, conf) : null,
    line.interrupted ? h('span', { class: 'tag tag-warn' }, 'interrupted') : null,
    line.language && line.language !== 'en' && !String(line.language).startsWith('en') ? h('span', { class: 'tag' }, line.language) : null),
  h('div', { class: 'text' }, line.text || ''));
}

/** An interim (not yet final) line. */
export function interimLine(interim, testid = 'interim-line') {
  const speaker = ['customer', 'supervisor'].includes(interim.speaker) ? interim.speaker : 'assistant';
  const conf = fmtConfidence(interim.confidence);
  return h('div', { class: ['feed-item', 'line', 'line-interim', `speaker-${speaker}`], testid, dataset: { speaker } },
    h('div', { class: 'feed-meta' },
      h('span', { class: 'speaker' }, speakerLabel(speaker)),
      h('span', { class: 'tag' }, 'speaking…'),
      conf ? h('span', { class: 'confidence' }, conf) : null),
    h('div', { class: 'text' }, interim.text || ''));
}

/** Participants map → list items. */
export function participantList(participants, { presentOnly = false } = {}) {
  const entries = Object.entries(participants || {})
    .filter(([, p]) => !presentOnly || (p && p.present));
  if (!entries.length) return [h('li', { class: 'muted' }, presentOnly ? 'Nobody present' : 'No participants')];
  return entries.map(([identity, p]) => h('li', { class: ['participant', `kind-${p.kind || 'other'}`, p.present ? 'present' : 'gone'], dataset: { identity } },
    h('span', { class: 'participant-name' }, p.name || identity),
    ' ',
    h('span', { class: 'tag' }, p.kind || 'other'),
    p.hidden ? h('span', { class: 'tag' }, 'hidden') : null,
    p.aborted ? h('span', { class: 'tag tag-warn' }, 'aborted') : null,
    !p.present && p.left_at ? h('span', { class: 'muted' }, ` left ${fmtClock(p.left_at)}`) : null));
}
