// Pieces the settings editors (variables, limits, outbound hosts) share: an inline status area and the way a
// refusal is shown. Each editor re-reads the app after a save, so what it shows is what the API stored.
import { h, announce } from '../dom.js';

/**
 * A status area under an editor's form: success lines are polite announcements; a refusal is an alert quoting the
 * API's problem detail (the same words a script would get).
 */
export function statusArea(prefix) {
  const element = h('div', { class: 'editor-status', 'aria-live': 'polite', testid: `${prefix}-status` });
  return {
    element,
    clear() {
      element.replaceChildren();
    },
    success(message) {
      element.replaceChildren(h('p', { class: 'notice notice-success', testid: `${prefix}-message` }, message));
      announce(message);
    },
    refused(what, failure) {
      const detail = failure?.detail ?? failure?.message ?? String(failure);
      element.replaceChildren(h('div', { class: 'notice notice-error', role: 'alert', testid: `${prefix}-error` },
        h('strong', null, `${what}: `),
        h('span', { testid: `${prefix}-error-detail` }, detail)));
    },
  };
}

/** Marks inputs invalid (or valid again) and ties them to the status area that explains why. */
export function markInvalid(inputs, invalid) {
  for (const input of inputs) {
    if (invalid) {
      input.setAttribute('aria-invalid', 'true');
    } else {
      input.removeAttribute('aria-invalid');
    }
  }
}

/** Disables a form's controls while a change is on its way, so a double submit cannot send it twice. */
export async function whileBusy(form, work) {
  const controls = [...form.querySelectorAll('button, input, textarea, select')];
  const wasDisabled = controls.map((c) => c.disabled);
  controls.forEach((c) => {
    c.disabled = true;
  });
  form.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    controls.forEach((c, i) => {
      c.disabled = wasDisabled[i];
    });
    form.removeAttribute('aria-busy');
  }
}
