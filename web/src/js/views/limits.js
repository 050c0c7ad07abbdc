// Editor for an app's limits: what PATCH /api/v1/apps/{app} accepts (memory, wall time, CPU time per request and,
// with an admin key, the app's share of a router's concurrent executions). Ranges are the API's to judge: a value
// it refuses is shown with its own detail and nothing is changed.
import { h } from '../dom.js';
import { statusArea, markInvalid, whileBusy } from './editor.js';

const FIELDS = [
  { key: 'memoryLimitMb', label: 'Memory per instance', unit: 'MiB', hint: 'Linear memory one request may grow to.' },
  { key: 'timeoutSeconds', label: 'Wall time per request', unit: 's', hint: 'Longer requests are stopped with a 504.' },
  { key: 'cpuTimeLimitMs', label: 'CPU time per request', unit: 'ms', hint: 'CPU a request may use before it is stopped.' },
  {
    key: 'maxConcurrency', label: 'Concurrency per router', unit: 'requests', optional: true, bare: true,
    hint: 'Requests of this app one router runs at once. Admin keys only; empty: the router\'s default share.',
  },
];

/** @returns {{ element: HTMLElement, show: (app: object) => void }} */
export function limitsEditor({ api, app, onSaved }) {
  const status = statusArea('limits');
  status.element.id = 'limits-status';
  let saved = null;
  const dirty = new Set();

  const inputs = new Map();
  const savedNotes = new Map();
  const fields = FIELDS.map((f) => {
    const id = `limit-${f.key}`;
    const input = h('input', {
      id, type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false',
      'aria-describedby': `${id}-hint limits-status`, testid: id,
    });
    input.addEventListener('input', () => {
      dirty.add(f.key);
      markInvalid([input], false);
    });
    inputs.set(f.key, input);
    const note = h('span', { testid: `${id}-saved` });
    savedNotes.set(f.key, note);
    return h('div', { class: 'field' },
      h('label', { for: id }, f.bare ? f.label : `${f.label} (${f.unit})`),
      input,
      h('p', { id: `${id}-hint`, class: 'hint' }, f.hint, ' ', note));
  });
  const save = h('button', { type: 'submit', class: 'button', testid: 'limits-save' }, 'Save limits');
  const form = h('form', { class: 'editor-form', novalidate: true, testid: 'limits-form', 'aria-label': 'Limits' },
    h('div', { class: 'limits-grid' }, fields),
    h('div', { class: 'form-actions' }, save));

  function show(appData) {
    saved = appData;
    for (const f of FIELDS) {
      const value = appData[f.key];
      savedNotes.get(f.key).textContent = value === null || value === undefined ? 'Saved: router default.' : `Saved: ${value} ${f.unit}.`;
      // A value being typed is left alone when the page reloads the app for another reason (an upload, a rollback).
      if (!dirty.has(f.key)) {
        inputs.get(f.key).value = value === null || value === undefined ? '' : String(value);
      }
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const changes = {};
    for (const f of FIELDS) {
      const input = inputs.get(f.key);
      const text = input.value.trim();
      const before = saved?.[f.key];
      if (text === '' && f.optional) {
        continue; // The API cannot unset it; empty means "leave as it is".
      }
      if (!/^-?\d+$/.test(text)) {
        status.refused('Not saved', { detail: `${f.label} must be a whole number of ${f.unit}; '${text}' is not.` });
        markInvalid([input], true);
        input.focus();
        return;
      }
      const value = Number(text);
      if (value !== before) {
        changes[f.key] = value;
      }
    }
    const names = Object.keys(changes);
    if (names.length === 0) {
      status.success('Nothing changed.');
      return;
    }
    await whileBusy(form, async () => {
      try {
        await api.updateApp(app, changes);
        const fresh = await api.getApp(app);
        names.forEach((n) => dirty.delete(n));
        show(fresh);
        onSaved?.(fresh);
        status.success(`Saved: ${names.map((n) => `${FIELDS.find((f) => f.key === n).label.toLowerCase()} ${fresh[n]}`).join(', ')}. Routers apply it within about a second.`);
      } catch (failure) {
        status.refused('Limits not saved', failure);
        // The field the API names (its details start with the field's JSON name), else every changed one.
        const named = names.filter((n) => (failure?.detail ?? '').includes(n));
        const invalid = (named.length > 0 ? named : names).map((n) => inputs.get(n));
        markInvalid(invalid, true);
        return invalid[0];
      }
      return null;
    }).then((invalid) => invalid?.focus());
  });

  const element = h('section', { class: 'panel', 'aria-labelledby': 'limits-heading', testid: 'limits-panel' },
    h('h2', { id: 'limits-heading' }, 'Limits'),
    h('p', { class: 'hint' }, 'Per request of this app, on every router. Request and response body sizes are the router\'s own settings.'),
    form,
    status.element);
  return { element, show };
}
