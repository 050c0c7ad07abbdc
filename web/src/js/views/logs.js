import { h, announce } from '../dom.js';

const TAIL = 200;
// The panel keeps the newest lines only; an app that logs a lot must not grow the page without bound.
const MAX_ROWS = 1000;

/** Parses a text/event-stream chunk by chunk; calls onEvent({ id, data }) for each complete event. */
export function sseParser(onEvent) {
  let buffer = '';
  let data = [];
  let id = null;
  return (chunk) => {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      if (line === '') {
        if (data.length > 0) {
          onEvent({ id, data: data.join('\n') });
        }
        data = [];
        id = null;
      } else if (line.startsWith('data:')) {
        data.push(line.slice(line.startsWith('data: ') ? 6 : 5));
      } else if (line.startsWith('id:')) {
        id = line.slice(3).trim();
      }
    }
  };
}

function formatTime(iso) {
  const t = new Date(iso);
  return Number.isNaN(t.getTime()) ? iso : t.toISOString().replace('T', ' ').replace('Z', '');
}

/**
 * The app's log: the last lines, filters by stream and version, and live follow (SSE read through fetch, so the key
 * stays in the Authorization header instead of a URL).
 */
export function logsPanel({ api, app }) {
  const stream = h('select', { id: 'logs-stream', testid: 'logs-stream' },
    h('option', { value: '' }, 'All streams'),
    h('option', { value: 'stderr' }, 'stderr'),
    h('option', { value: 'stdout' }, 'stdout'),
    h('option', { value: 'platform' }, 'platform'));
  const version = h('input', { id: 'logs-version', type: 'number', min: '1', inputmode: 'numeric', placeholder: 'any', testid: 'logs-version' });
  const follow = h('button', { type: 'button', class: 'button button-small', 'aria-pressed': 'false', testid: 'logs-follow' }, 'Follow');
  const reload = h('button', { type: 'button', class: 'button button-quiet button-small', testid: 'logs-reload' }, 'Reload');
  const list = h('ol', { class: 'log-lines', testid: 'log-lines', 'aria-label': `Log of ${app}` });
  const empty = h('p', { class: 'empty', testid: 'logs-empty' }, 'Loading the log…');
  const status = h('div', { 'aria-live': 'polite', testid: 'logs-status' });
  const element = h('section', { class: 'panel span-2', 'aria-labelledby': 'logs-heading', testid: 'logs-panel' },
    h('div', { class: 'panel-head' },
      h('h2', { id: 'logs-heading' }, 'Log'),
      h('div', { class: 'log-controls' },
        h('label', { for: 'logs-stream' }, 'Stream'), stream,
        h('label', { for: 'logs-version' }, 'Version'), version,
        reload, follow)),
    h('p', { class: 'hint' }, 'What the app writes to stderr, and the platform\'s reasons for failed requests (stream "platform").'),
    empty,
    h('div', { class: 'log-wrap' }, list),
    status);

  let following = null;
  let disposed = false;

  function query() {
    const params = new URLSearchParams({ tail: String(TAIL) });
    if (stream.value) {
      params.set('stream', stream.value);
    }
    if (version.value.trim()) {
      params.set('version', version.value.trim());
    }
    return params;
  }

  function row(entry) {
    return h('li', { class: `log-line log-${entry.stream}`, testid: 'log-line', 'data-stream': entry.stream, 'data-version': String(entry.version) },
      h('time', { datetime: entry.time, title: `request ${entry.requestId} on ${entry.router}` }, formatTime(entry.time)),
      h('span', { class: 'log-version' }, `v${entry.version}`),
      h('span', { class: 'log-stream' }, entry.stream),
      h('span', { class: 'log-text' }, entry.line));
  }

  function append(entries) {
    if (entries.length === 0) {
      return;
    }
    const atBottom = list.parentElement.scrollTop + list.parentElement.clientHeight >= list.parentElement.scrollHeight - 4;
    list.append(...entries.map(row));
    while (list.childElementCount > MAX_ROWS) {
      list.firstElementChild.remove();
    }
    empty.hidden = list.childElementCount > 0;
    if (atBottom) {
      list.parentElement.scrollTop = list.parentElement.scrollHeight;
    }
  }

  function showError(failure) {
    status.replaceChildren(h('p', { class: 'notice notice-error', role: 'alert', testid: 'logs-error' }, `The log could not be read: ${failure.message}`));
  }

  async function load() {
    stopFollowing();
    status.replaceChildren();
    try {
      const page = await api.logs(app, query());
      list.replaceChildren();
      append(page.entries);
      empty.hidden = page.entries.length > 0;
      empty.textContent = 'No lines yet. Requests that write to stderr show up here.';
    } catch (failure) {
      if (failure.name !== 'AbortError') {
        showError(failure);
      }
    }
  }

  function stopFollowing() {
    following?.abort();
    following = null;
    follow.setAttribute('aria-pressed', 'false');
    follow.textContent = 'Follow';
  }

  async function startFollowing() {
    const controller = new AbortController();
    following = controller;
    follow.setAttribute('aria-pressed', 'true');
    follow.textContent = 'Stop following';
    status.replaceChildren(h('p', { class: 'hint', testid: 'logs-following' }, 'Following: new lines appear as they are written.'));
    announce('Following the log.');
    const params = query();
    params.set('tail', '1');
    let lastId = null;
    // Only lines newer than those shown: the stream starts with the newest stored line, which is skipped when shown.
    const shown = list.lastElementChild?.querySelector('time')?.getAttribute('datetime') ?? null;
    let first = true;
    const parse = sseParser(({ id, data }) => {
      lastId = id ?? lastId;
      try {
        const entry = JSON.parse(data);
        if (first && shown !== null && entry.time <= shown) {
          first = false;
          return;
        }
        first = false;
        append([entry]);
      } catch {
        // A malformed event is skipped; the next one is independent.
      }
    });
    while (following === controller && !disposed) {
      try {
        await api.followLogs(app, params, { signal: controller.signal, lastEventId: lastId, onChunk: parse });
      } catch (failure) {
        if (failure.name === 'AbortError') {
          return;
        }
        showError(failure);
        stopFollowing();
        return;
      }
      // The server ended the stream (a replica stopping): resume after the last event.
      await new Promise((resolve) => window.setTimeout(resolve, 1000));
    }
  }

  follow.addEventListener('click', () => (following ? stopFollowing() : startFollowing()));
  reload.addEventListener('click', () => load());
  stream.addEventListener('change', () => load());
  version.addEventListener('change', () => load());
  load();

  return {
    element,
    dispose() {
      disposed = true;
      stopFollowing();
    },
  };
}
