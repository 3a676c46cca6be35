// The live transcript feed of one call: lines, replies and inline events ordered by
// event-log position, the current interim line per speaker, and auto-scroll.
import { AutoScroller, h, setChildren } from '../lib/dom.js';
import { fmtClock, fmtSeconds, label } from '../lib/format.js';
import { interimLine, lookupCard, toolCard, transcriptLine } from '../lib/render.js';

export class TranscriptFeed {
  /**
   * @param {object} o
   * @param {HTMLElement} o.scroller  scrolling container
   * @param {HTMLElement} o.items     ordered feed items
   * @param {HTMLElement} o.interims  interim lines (one per speaker)
   * @param {HTMLElement} o.jump      "jump to latest" button
   */
  constructor({ scroller, items, interims, jump }) {
    this.items = items;
    this.interimsEl = interims;
    this.jump = jump;
    this.seen = new Set();
    this.interims = new Map(); // speaker → element
    this.presence = new Map(); // identity → its latest participant line
    this.scroll = new AutoScroller(scroller, (detached) => { this.jump.hidden = !detached; });
    this.jump.addEventListener('click', () => this.scroll.jump());
  }

  clear() {
    this.seen.clear();
    this.presence.clear();
    this.interims.clear();
    setChildren(this.items);
    setChildren(this.interimsEl);
    this.scroll.jump();
  }

  /** Insert an element ordered by position; skips positions already shown. */
  insert(el, position) {
    const pos = Number.isFinite(position) ? position : null;
    if (pos !== null) {
      if (this.seen.has(pos)) return false;
      this.seen.add(pos);
      el.dataset.position = String(pos);
      let before = null;
      for (let node = this.items.lastElementChild; node; node = node.previousElementSibling) {
        const p = Number(node.dataset.position);
        if (!Number.isFinite(p) || p <= pos) break;
        before = node;
      }
      this.items.insertBefore(el, before);
    } else {
      this.items.append(el);
    }
    this.scroll.update();
    return true;
  }

  line(line) {
    this.insert(transcriptLine(line), Number(line.position));
    if (line.kind !== 'reply') this.clearInterim(line.speaker);
  }

  interim(interim) {
    const speaker = ['customer', 'supervisor'].includes(interim.speaker) ? interim.speaker : 'assistant';
    const el = interimLine(interim);
    const old = this.interims.get(speaker);
    if (old) old.replaceWith(el);
    else this.interimsEl.append(el);
    this.interims.set(speaker, el);
    this.scroll.update();
  }

  clearInterim(speaker) {
    const key = speaker === 'customer' ? 'customer' : 'assistant';
    const el = this.interims.get(key);
    if (el) el.remove();
    this.interims.delete(key);
  }

  state(d, at, position) {
    const who = d.who === 'user' ? 'Customer' : 'Agent';
    this.insert(h('div', { class: ['feed-item', 'feed-state', `state-${d.who}`], testid: 'feed-state' },
      h('span', { class: 'feed-kind' }, `${who} state`),
      ` ${label(d.old_state)} → `,
      h('strong', {}, label(d.new_state)),
      at ? h('time', { datetime: at }, fmtClock(at)) : null), position);
  }

  silence(d, at, position) {
    const text = d.active
      ? `Silence detected: nobody has spoken for ${fmtSeconds(d.silent_for_s)}`
      : `Silence ended after ${fmtSeconds(d.silent_for_s)}`;
    this.insert(h('div', { class: ['feed-item', 'feed-silence', d.active ? 'active' : 'ended'], testid: 'feed-silence', role: d.active ? 'alert' : null },
      h('span', { class: 'feed-kind' }, d.active ? '⚠ Silence' : 'Silence ended'),
      ` ${text}`,
      at ? h('time', { datetime: at }, fmtClock(at)) : null), position);
  }

  /**
   * A participant joined or left. LiveKit's webhook and the agent each report the same
   * join (and leave): one fact is one line, naming every source that reported it.
   */
  participant(d, at, position) {
    const present = d.action === 'joined';
    const last = this.presence.get(d.identity);
    if (last && last.present === present) {
      if (Number.isFinite(position)) this.seen.add(position);
      if (d.source) last.sources.add(d.source);
      last.el.dataset.sources = [...last.sources].join(' + ');
      last.sourceEl.textContent = ` · reported by ${last.el.dataset.sources}`;
      return;
    }
    const verb = { joined: 'joined', left: 'left', aborted: 'lost connection' }[d.action] || d.action;
    const sources = new Set(d.source ? [d.source] : []);
    const sourceEl = h('span', { class: 'muted small', testid: 'participant-sources' },
      sources.size ? ` · reported by ${[...sources].join(' + ')}` : '');
    const el = h('div', { class: ['feed-item', 'feed-participant'], testid: 'feed-participant', dataset: { sources: [...sources].join(' + ') } },
      h('span', { class: 'feed-kind' }, 'Participant'),
      ` ${d.identity}${d.kind ? ` (${d.kind}${d.hidden ? ', hidden' : ''})` : ''} ${verb}`,
      sourceEl,
      at ? h('time', { datetime: at }, fmtClock(at)) : null);
    if (this.insert(el, position)) this.presence.set(d.identity, { present, el, sourceEl, sources });
  }

  recording(d, at, position) {
    this.insert(h('div', { class: ['feed-item', 'feed-recording'], testid: 'feed-recording' },
      h('span', { class: 'feed-kind' }, 'Recording'),
      ` ${label(d.status)}${d.reason ? `: ${d.reason}` : ''}`,
      at ? h('time', { datetime: at }, fmtClock(at)) : null), position);
  }

  lookup(d, at, position) {
    this.insert(lookupCard(d, at), position);
  }

  /** A supervisor's act, or the caller asking for a person. */
  supervisor(d, at, position) {
    const what = {
      coach: `coached the AI: “${d.text || ''}”`,
      barge: 'barged in',
      takeover: 'took the call over',
      accept: 'accepted the request for a person',
      handback: d.reason === 'supervisor_left' ? 'left; the call went back to the AI' : 'handed the call back to the AI',
      end: 'ended the call',
    }[d.action] || d.action;
    this.insert(h('div', { class: ['feed-item', 'feed-supervisor'], testid: 'feed-supervisor' },
      h('span', { class: 'feed-kind' }, 'Supervisor'),
      ` ${d.supervisor || ''} ${what}`,
      at ? h('time', { datetime: at }, fmtClock(at)) : null), position);
  }

  escalation(d, at, position) {
    this.insert(h('div', { class: ['feed-item', 'feed-escalation'], testid: 'feed-escalation', role: 'alert' },
      h('span', { class: 'feed-kind' }, 'Asked for a person'),
      ` “${d.utterance || ''}”`,
      at ? h('time', { datetime: at }, fmtClock(at)) : null), position);
  }

  tool(d, at, position) {
    this.insert(toolCard(d, at), position);
  }

  /** History from the timeline (entries with class-name types) for items the transcript lacks. */
  entry(e) {
    const d = e.data || {};
    const at = e.occurred_at;
    const pos = Number(e.position);
    switch (e.type) {
      case 'VehicleLookedUp': return this.lookup(d, at, pos);
      case 'ToolCalled': return this.tool(d, at, pos);
      case 'SilenceDetected': return this.silence({ active: true, silent_for_s: d.silent_for_s }, at, pos);
      case 'SilenceEnded': return this.silence({ active: false, silent_for_s: d.silent_for_s }, at, pos);
      case 'AgentStateChanged': return this.state({ who: 'agent', ...d }, at, pos);
      case 'UserStateChanged': return this.state({ who: 'user', ...d }, at, pos);
      case 'ParticipantJoined': return this.participant({ ...d, action: 'joined', source: e.source }, at, pos);
      case 'ParticipantLeft': return this.participant({ ...d, action: 'left', source: e.source }, at, pos);
      case 'ParticipantConnectionAborted': return this.participant({ ...d, action: 'aborted', source: e.source }, at, pos);
      default: return undefined;
    }
  }
}
