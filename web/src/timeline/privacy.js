// The timeline's "Personal data" card: what the page shows is redacted ([phone], [name] …)
// until the signed-in auditor or admin reveals this call, with a reason, for a while (an
// audited event); an admin may also erase the call for good.
import { ApiError, apiGet, apiPost, convPath } from '../lib/api.js';
import { h, setChildren } from '../lib/dom.js';
import { fmtDateTime } from '../lib/format.js';

/**
 * The timeline as this person may see it: the call as said while a reveal of theirs is
 * live (`revealed_until` set), else redacted. `suffix` is '' or `?at=…`.
 */
export async function loadTimeline(id, staff, suffix = '', opts = {}) {
  if ((staff.can || []).includes('reveal_pii')) {
    try {
      return await apiGet(convPath(id, `/revealed${suffix}`), opts);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 403) throw err;
    }
  }
  return apiGet(convPath(id, `/timeline${suffix}`), opts);
}

function reasonForm(testid, label, button, kind, onSubmit) {
  const input = h('input', { type: 'text', maxlength: '500', placeholder: 'Reason (recorded)', testid: `${testid}-reason`, 'aria-label': `Reason to ${label}` });
  const status = h('p', { class: 'muted small', role: 'status', testid: `${testid}-status` });
  const form = h('form', { class: 'inline-form', testid: `${testid}-form` }, input, h('button', { type: 'submit', class: `btn ${kind}`, testid: `${testid}-button` }, button), status);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const reason = input.value.trim();
    if (!reason) {
      status.textContent = 'Say why: the reason is recorded.';
      return;
    }
    form.querySelector('button').disabled = true;
    try {
      await onSubmit(reason, status);
    } catch (err) {
      status.textContent = err.message;
    } finally {
      form.querySelector('button').disabled = false;
    }
  });
  return form;
}

/** Fill the card for this person and this call (`tl` as loaded). */
export function renderPrivacy(container, id, staff, tl) {
  const can = staff.can || [];
  const parts = [];
  if (tl.revealed_until) {
    parts.push(h('p', { class: 'notice', testid: 'revealed-banner' }, `Personal data revealed to you until ${fmtDateTime(tl.revealed_until)}. This reveal is recorded.`));
  } else {
    parts.push(h('p', { class: 'muted small', testid: 'redacted-note' }, 'Personal data is redacted: [name], [phone], [email], [card], [address].'));
    if (can.includes('reveal_pii')) {
      parts.push(reasonForm('reveal', 'reveal', 'Reveal personal data', 'btn-warn', async (reason) => {
        await apiPost(`/api/admin/conversations/${encodeURIComponent(id)}/reveal`, { reason });
        window.location.reload();
      }));
    }
  }
  if (can.includes('erase_calls')) {
    parts.push(reasonForm('erase', 'erase', 'Erase this call for good', 'btn-danger', async (reason, status) => {
      if (!window.confirm('Erase this call’s personal data and recordings for good? This cannot be undone.')) return;
      const result = await apiPost(`/api/admin/conversations/${encodeURIComponent(id)}/erase`, { reason });
      if (result.status === 'erased') {
        window.location.reload();
        return;
      }
      status.textContent = 'Erasing… the page reloads when it is done.';
      setTimeout(() => window.location.reload(), 5000);
    }));
  }
  setChildren(container, parts);
}
