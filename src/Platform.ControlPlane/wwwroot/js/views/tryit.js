import { h, announce } from '../dom.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** Parses "Name: value" lines; returns { headers } or { error } quoting the first bad line. */
export function parseHeaderLines(text) {
  const headers = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) {
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) {
      return { error: `Header line ${i + 1} ('${line}') is not 'Name: value'.` };
    }
    const name = line.slice(0, colon).trim();
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
      return { error: `Header line ${i + 1} has an invalid name '${name}'.` };
    }
    headers[name] = line.slice(colon + 1).trim();
  }
  return { headers };
}

function statusText(code) {
  const known = {
    200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found', 304: 'Not Modified',
    400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 413: 'Content Too Large',
    429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
  };
  return known[code] ?? '';
}

/** "Try it": sends a request to the app (through the control plane's /try endpoint) and shows status, headers and body. */
export function tryPanel({ api, app, onSent }) {
  const method = h('select', { id: 'try-method', testid: 'try-method' }, METHODS.map((m) => h('option', { value: m }, m)));
  const path = h('input', { id: 'try-path', type: 'text', value: '/', autocomplete: 'off', spellcheck: 'false', testid: 'try-path', 'aria-describedby': 'try-path-hint' });
  const headers = h('textarea', { id: 'try-headers', rows: '3', spellcheck: 'false', placeholder: 'X-Example: value', testid: 'try-headers' });
  const body = h('textarea', { id: 'try-body', rows: '4', spellcheck: 'false', testid: 'try-body-input' });
  const send = h('button', { type: 'submit', class: 'button', testid: 'try-send' }, 'Send');
  const output = h('div', { 'aria-live': 'polite', testid: 'try-output' });

  const form = h('form', { novalidate: true, testid: 'try-form' },
    h('div', { class: 'try-grid' },
      h('div', { class: 'field' }, h('label', { for: 'try-method' }, 'Method'), method),
      h('div', { class: 'field' },
        h('label', { for: 'try-path' }, 'Path'),
        path,
        h('p', { id: 'try-path-hint', class: 'hint' }, 'Starts with "/"; may include a query string.'))),
    h('div', { class: 'field' }, h('label', { for: 'try-body' }, 'Body (optional)'), body),
    h('details', null,
      h('summary', null, 'Request headers'),
      h('div', { class: 'field' }, h('label', { for: 'try-headers' }, 'One "Name: value" per line'), headers)),
    h('div', { class: 'form-actions' }, send));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const pathValue = path.value.trim() || '/';
    if (!pathValue.startsWith('/')) {
      showError(`The path '${pathValue}' must start with '/'.`);
      path.focus();
      return;
    }
    const parsed = parseHeaderLines(headers.value);
    if (parsed.error) {
      showError(parsed.error);
      headers.closest('details').open = true;
      headers.focus();
      return;
    }
    send.disabled = true;
    send.textContent = 'Sending…';
    output.setAttribute('aria-busy', 'true');
    try {
      const answer = await api.tryApp(app, {
        method: method.value,
        path: pathValue,
        body: body.value === '' ? undefined : body.value,
        headers: Object.keys(parsed.headers).length > 0 ? parsed.headers : undefined,
      });
      showAnswer(answer);
      announce(`The app answered ${answer.status}.`);
      onSent?.();
    } catch (failure) {
      showError(`${failure.title ?? 'Request failed'}: ${failure.detail ?? failure.message}`);
    } finally {
      send.disabled = false;
      send.textContent = 'Send';
      output.removeAttribute('aria-busy');
    }
  });

  function showError(text) {
    output.replaceChildren(h('p', { class: 'notice notice-error', role: 'alert', testid: 'try-error' }, text));
  }

  function showAnswer(answer) {
    const names = Object.keys(answer.headers ?? {}).sort((a, b) => a.localeCompare(b));
    output.replaceChildren(h('div', { class: 'try-result', testid: 'try-result' },
      h('p', { class: 'status-line' },
        h('span', { class: `status-code${answer.status >= 400 ? ' is-error' : ''}`, testid: 'try-status' }, String(answer.status)),
        ` ${statusText(answer.status)}`,
        h('span', { class: 'muted' }, ` · ${answer.durationMs.toFixed(1)} ms`)),
      h('h3', null, 'Headers'),
      names.length === 0
        ? h('p', { class: 'muted' }, 'No headers.')
        : h('dl', { class: 'header-list', testid: 'try-headers-out' },
          names.flatMap((name) => answer.headers[name].map((value) => [h('dt', null, name), h('dd', null, value)]))),
      h('h3', null, 'Body'),
      answer.body === ''
        ? h('p', { class: 'muted', testid: 'try-body' }, 'Empty body.')
        : h('pre', { class: 'response-body', testid: 'try-body', tabindex: '0' }, answer.body),
      answer.truncated ? h('p', { class: 'hint', testid: 'try-truncated' }, 'The body is longer than 64 KiB; only its start is shown.') : null));
  }

  return h('section', { class: 'panel', 'aria-labelledby': 'try-heading', testid: 'try-panel' },
    h('h2', { id: 'try-heading' }, 'Try it'),
    form,
    output);
}
