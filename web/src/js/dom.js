// Small DOM helpers. Text from the API is always inserted as text nodes, never parsed as HTML.
const SVG_NS = 'http://www.w3.org/2000/svg';

function applyProps(el, props) {
  for (const [name, value] of Object.entries(props ?? {})) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (name === 'class') {
      el.setAttribute('class', value);
    } else if (name === 'testid') {
      el.setAttribute('data-testid', value);
    } else if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'value' && 'value' in el && el.tagName !== 'BUTTON' && el.tagName !== 'OPTION') {
      el.value = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
}

function appendChildren(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Creates an HTML element: h('button', { type: 'button', onClick }, 'Save'). */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  applyProps(el, props);
  appendChildren(el, children);
  return el;
}

/** Creates an SVG element with attributes. */
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyProps(el, attrs);
  appendChildren(el, children);
  return el;
}

/** Replaces an element's children, skipping null/false ones (replaceChildren would print them as text). */
export function fill(el, ...children) {
  el.replaceChildren();
  appendChildren(el, children);
}

const UNITS = ['bytes', 'KiB', 'MiB', 'GiB'];

export function formatBytes(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes)) {
    return '–';
  }
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(value < 10 ? 1 : 0)} ${UNITS[unit]}`;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const clock = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export function formatRelative(date, now = Date.now()) {
  const seconds = Math.round((date.getTime() - now) / 1000);
  const abs = Math.abs(seconds);
  if (abs < 45) {
    return 'just now';
  }
  if (abs < 45 * 60) {
    return relative.format(Math.round(seconds / 60), 'minute');
  }
  if (abs < 22 * 3600) {
    return relative.format(Math.round(seconds / 3600), 'hour');
  }
  return relative.format(Math.round(seconds / 86400), 'day');
}

export function formatClock(date) {
  return clock.format(date);
}

/** A <time> element showing a relative time, with the exact time as its tooltip. */
export function timeElement(iso) {
  if (!iso) {
    return h('span', { class: 'muted' }, 'never');
  }
  const date = new Date(iso);
  return h('time', { datetime: date.toISOString(), title: absolute.format(date) }, formatRelative(date));
}

/** "sha256:0123456789ab…" keeps enough of a digest to tell versions apart. */
export function shortDigest(digest) {
  if (typeof digest !== 'string') {
    return '';
  }
  const [algorithm, hex] = digest.includes(':') ? digest.split(':', 2) : ['', digest];
  const short = hex.length > 12 ? `${hex.slice(0, 12)}…` : hex;
  return algorithm ? `${algorithm}:${short}` : short;
}

/** Copies text; falls back to a hidden text area where the async clipboard API is unavailable (plain-HTTP hosts). */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Permission refused: try the fallback below.
    }
  }
  const area = h('textarea', { class: 'visually-hidden', readonly: true, 'aria-hidden': 'true' }, text);
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

/** Says something to screen-reader users without moving focus. */
export function announce(message) {
  const region = document.getElementById('announcer');
  if (region) {
    // Clearing first makes a repeated message be read again.
    region.textContent = '';
    window.setTimeout(() => {
      region.textContent = message;
    }, 50);
  }
}
