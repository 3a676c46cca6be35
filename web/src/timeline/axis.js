// The horizontal time axis: one lane per event family, a marker per entry positioned by
// offset_s (set from JS through the CSSOM, which the CSP allows), ticks and a cursor.
import { h, setChildren } from '../lib/dom.js';
import { fmtDuration, fmtOffset } from '../lib/format.js';
import { FAMILIES, OTHER, entrySummary, familyOf, typeLabel } from './families.js';

const TICK_STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200];

export function pct(offset, duration) {
  if (!(duration > 0)) return 0;
  return Math.min(100, Math.max(0, (offset / duration) * 100));
}

export class TimelineAxis {
  /**
   * @param {HTMLElement} root    container (data-testid="timeline-axis")
   * @param {HTMLElement} legend  legend container
   * @param {(entry: object) => void} onPick  a marker was clicked
   */
  constructor(root, legend, onPick) {
    this.root = root;
    this.legend = legend;
    this.onPick = onPick;
    this.cursor = null;
    this.duration = 1;
  }

  render(entries, duration) {
    this.duration = duration;
    const families = [...FAMILIES];
    if (entries.some((e) => familyOf(e.type) === OTHER)) families.push(OTHER);

    const lanes = new Map();
    const laneEls = families.map((f) => {
      const track = h('div', { class: 'lane-track' });
      lanes.set(f.id, track);
      return h('div', { class: ['lane', `family-${f.id}`], dataset: { family: f.id } },
        h('div', { class: 'lane-label' }, f.label),
        track);
    });

    for (const e of entries) {
      const fam = familyOf(e.type);
      const offset = Number(e.offset_s) || 0;
      const summary = entrySummary(e);
      const marker = h('button', {
        type: 'button',
        class: ['marker', `family-${fam.id}`, e.type === 'InterimTranscriptRecorded' ? 'marker-minor' : null],
        testid: 'timeline-marker',
        dataset: { type: e.type, family: fam.id, position: e.position ?? '' },
        title: `${fmtOffset(offset)} · ${typeLabel(e.type)}${summary ? ` · ${summary}` : ''}`,
        'aria-label': `${typeLabel(e.type)} at ${fmtOffset(offset)}`,
        onclick: () => this.onPick(e),
      });
      marker.style.left = `${pct(offset, duration)}%`;
      lanes.get(fam.id).append(marker);
    }

    const ticks = h('div', { class: 'ticks', 'aria-hidden': 'true' });
    const step = TICK_STEPS.find((s) => duration / s <= 10) || TICK_STEPS[TICK_STEPS.length - 1];
    for (let t = 0; t <= duration + 1e-6; t += step) {
      const tick = h('span', { class: 'tick' }, fmtDuration(t));
      tick.style.left = `${pct(t, duration)}%`;
      ticks.append(tick);
    }

    this.cursor = h('div', { class: 'cursor', testid: 'timeline-cursor', 'aria-hidden': 'true' });
    const plot = h('div', { class: 'plot' }, laneEls, h('div', { class: 'lane lane-ticks' }, h('div', { class: 'lane-label' }), ticks), this.cursor);
    setChildren(this.root, plot);

    setChildren(this.legend, families.map((f) => h('li', { class: ['legend-item', `family-${f.id}`] },
      h('span', { class: 'swatch', 'aria-hidden': 'true' }), f.label)));
  }

  setCursor(offset) {
    if (!this.cursor) return;
    // The cursor lives in the lane-track coordinate space (after the label column).
    this.cursor.style.setProperty('--cursor', String(pct(offset, this.duration) / 100));
    this.cursor.dataset.offset = String(offset);
  }
}
