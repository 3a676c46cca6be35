// Tiny DOM helpers. Never uses innerHTML: all server data goes in as text.

/**
 * Create an element.
 * h('span', {class: 'pill', testid: 'x', dataset: {a: 1}, title: 't', onclick: fn}, 'text', child)
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === 'class') el.className = Array.isArray(value) ? value.filter(Boolean).join(' ') : value;
    else if (key === 'testid') el.dataset.testid = value;
    else if (key === 'dataset') Object.entries(value).forEach(([k, v]) => { if (v !== null && v !== undefined) el.dataset[k] = v; });
    else if (key === 'text') el.textContent = value;
    else if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace all children of `el`. */
export function setChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** document.querySelector by data-testid; throws if the page markup is missing it. */
export function byTestId(id, root = document) {
  const el = root.querySelector(`[data-testid="${id}"]`);
  if (!el) throw new Error(`missing element [data-testid="${id}"]`);
  return el;
}

export function show(el, visible = true) {
  el.hidden = !visible;
}

/** Show a message in an error box (role="alert"); empty message hides it. */
export function setError(el, message) {
  el.textContent = message || '';
  el.hidden = !message;
}

/** A status pill: <span class="pill pill-<kind>">text</span>. */
export function pill(text, kind, testid) {
  return h('span', { class: `pill pill-${kind || 'neutral'}`, testid }, text);
}

/** Update an existing pill element in place. */
export function setPill(el, text, kind) {
  el.textContent = text;
  el.className = `pill pill-${kind || 'neutral'}`;
}

/** Map a status/state string to a pill colour class. */
export function pillKind(value) {
  switch (value) {
    case 'active': case 'connected': case 'recording': case 'completed': case 'speaking': case 'live':
      return 'good';
    case 'requested': case 'connecting': case 'reconnecting': case 'thinking': case 'initializing': case 'opened':
      return 'warn';
    case 'failed': case 'error': case 'silence': case 'closed': case 'aborted':
      return 'bad';
    case 'listening':
      return 'info';
    default:
      return 'neutral';
  }
}

export function debounce(fn, ms) {
  let timer = null;
  const wrapped = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  wrapped.cancel = () => clearTimeout(timer);
  return wrapped;
}

/** Keep a scroll container pinned to the bottom unless the user scrolled up. */
export class AutoScroller {
  constructor(container, onDetach) {
    this.container = container;
    this.pinned = true;
    this.onDetach = onDetach || (() => {});
    container.addEventListener('scroll', () => {
      const wasPinned = this.pinned;
      this.pinned = this.atBottom();
      if (wasPinned !== this.pinned) this.onDetach(!this.pinned);
    }, { passive: true });
  }

  atBottom() {
    const c = this.container;
    return c.scrollHeight - c.scrollTop - c.clientHeight < 48;
  }

  /** Call after content changed. */
  update() {
    if (this.pinned) this.container.scrollTop = this.container.scrollHeight;
  }

  jump() {
    this.pinned = true;
    this.container.scrollTop = this.container.scrollHeight;
    this.onDetach(false);
  }
}
