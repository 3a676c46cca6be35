// Dashboard: acting on the selected live call: coach the AI, barge in, take over, hand
// back, end it. Each act is recorded by the server before it takes effect.
import { apiPost } from '../lib/api.js';
import { handleAuthError } from '../lib/auth.js';
import { byTestId, setError } from '../lib/dom.js';
import { SpeakingSession } from '../lib/speaking.js';

const actPath = (id, act) => `/api/admin/conversations/${encodeURIComponent(id)}/${act}`;

export class SupervisePanel {
  /**
   * @param {{errorBox: HTMLElement, audioSink: HTMLElement}} o
   */
  constructor({ errorBox, audioSink }) {
    this.ui = {
      bar: byTestId('supervise-bar'),
      form: byTestId('coach-form'),
      text: byTestId('coach-text'),
      barge: byTestId('barge-button'),
      takeover: byTestId('takeover-button'),
      handback: byTestId('handback-button'),
      end: byTestId('end-call-button'),
      status: byTestId('supervise-status'),
    };
    this.errorBox = errorBox;
    this.id = null;
    this.speaking = new SpeakingSession({
      audioSink,
      onState: (state, detail) => this.showState(state, detail),
    });
    this.ui.form.addEventListener('submit', (ev) => { ev.preventDefault(); this.coach(); });
    this.ui.barge.addEventListener('click', () => this.speak('barge'));
    this.ui.takeover.addEventListener('click', () => this.speak('takeover'));
    this.ui.handback.addEventListener('click', () => this.handBack());
    this.ui.end.addEventListener('click', () => this.end());
    window.addEventListener('pagehide', () => { this.speaking.stop(); });
  }

  async select(id) {
    if (id === this.id) return;
    if (this.speaking.active) await this.speaking.stop();
    this.id = id;
    this.showState('idle');
  }

  /** Shown for a live call only. */
  show(conv) {
    const live = conv && (conv.status === 'active' || conv.status === 'requested');
    this.ui.bar.hidden = !live;
  }

  /** Accepting an escalation: the grant comes from the queue's Accept. */
  async joinWith(grant) {
    await this.speaking.start(grant);
  }

  async run(what, fn) {
    setError(this.errorBox, '');
    try {
      return await fn();
    } catch (err) {
      if (!handleAuthError(err)) setError(this.errorBox, `Could not ${what}: ${err.message || err}`);
      return null;
    }
  }

  async coach() {
    const text = this.ui.text.value.trim();
    if (!text || !this.id) return;
    const res = await this.run('coach the AI', () => apiPost(actPath(this.id, 'coach'), { text }));
    if (res) {
      this.ui.text.value = '';
      this.ui.status.textContent = 'Coaching sent: the AI follows it in its next reply.';
    }
  }

  async speak(act) {
    if (!this.id) return;
    const grant = await this.run(act === 'barge' ? 'barge in' : 'take over',
      () => apiPost(actPath(this.id, act)));
    if (grant) {
      this.mode = act;
      await this.run('open the microphone', () => this.speaking.start(grant));
    }
  }

  async handBack() {
    if (!this.id) return;
    const res = await this.run('hand back', () => apiPost(actPath(this.id, 'handback')));
    if (res) {
      await this.speaking.stop();
      this.showState('idle', 'Handed back to the AI.');
    }
  }

  async end() {
    if (!this.id || !window.confirm('End this call for the caller?')) return;
    const res = await this.run('end the call', () => apiPost(actPath(this.id, 'end')));
    if (res) {
      await this.speaking.stop();
      this.showState('idle', 'Ending the call…');
    }
  }

  showState(state, detail) {
    const speaking = state === 'speaking';
    this.ui.handback.hidden = !speaking;
    this.ui.barge.hidden = speaking;
    this.ui.takeover.hidden = speaking;
    this.ui.bar.dataset.state = state;
    this.ui.status.textContent = speaking
      ? (this.mode === 'barge' ? 'You are in the call with the AI (microphone on).'
        : 'You have the call: the AI is silent (microphone on).')
      : detail || '';
  }
}
