import { h, announce, timeElement } from '../dom.js';
import { confirmDialog } from '../dialog.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/**
 * An app's secrets: set one (name and value), list the names, remove one. A value is sent once and never shown
 * again: the API returns names only, and the value field is cleared as soon as the secret is stored.
 */
export function secretsPanel({ api, app, onChanged }) {
  const name = h('input', { id: 'secret-name', type: 'text', autocomplete: 'off', spellcheck: 'false', testid: 'secret-name', 'aria-describedby': 'secret-hint' });
  const value = h('input', { id: 'secret-value', type: 'password', autocomplete: 'new-password', spellcheck: 'false', testid: 'secret-value' });
  const save = h('button', { type: 'submit', class: 'button', testid: 'secret-save' }, 'Set secret');
  const status = h('div', { 'aria-live': 'polite', testid: 'secret-status' });
  const list = h('ul', { class: 'secret-list', testid: 'secret-list' });
  const empty = h('p', { class: 'muted', testid: 'secret-empty' }, 'No secrets.');

  const form = h('form', { novalidate: true, testid: 'secret-form' },
    h('div', { class: 'try-grid' },
      h('div', { class: 'field' }, h('label', { for: 'secret-name' }, 'Secret name'), name),
      h('div', { class: 'field' }, h('label', { for: 'secret-value' }, 'Secret value'), value)),
    h('p', { id: 'secret-hint', class: 'hint' },
      'Modules get it as an environment variable (it wins over a variable of the same name). Stored encrypted; the value is never shown again.'),
    h('div', { class: 'form-actions' }, save));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const secretName = name.value.trim();
    if (!NAME.test(secretName)) {
      show('error', `'${secretName}' is not a valid name: letters, digits and '_', not starting with a digit.`);
      name.focus();
      return;
    }
    save.disabled = true;
    try {
      await api.setSecret(app, secretName, value.value);
      value.value = '';
      name.value = '';
      show('success', `Secret ${secretName} set.`);
      announce(`Secret ${secretName} set.`);
      await reload();
      onChanged?.();
    } catch (failure) {
      // The problem quotes the name, never the value.
      show('error', `${secretName} could not be set: ${failure.detail ?? failure.message}`);
    } finally {
      save.disabled = false;
    }
  });

  function show(kind, text) {
    status.replaceChildren(h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text));
  }

  function render(secrets) {
    list.replaceChildren(...secrets.map((s) => {
      const remove = h('button', { type: 'button', class: 'button button-quiet button-small', testid: `secret-remove-${s.name}` }, `Remove ${s.name}`);
      remove.addEventListener('click', async () => {
        const confirmed = await confirmDialog({
          title: `Remove ${s.name}?`,
          message: `${app} stops getting ${s.name} within a second. The value cannot be recovered.`,
          confirmLabel: `Remove ${s.name}`,
          danger: true,
        });
        if (!confirmed) {
          return;
        }
        remove.disabled = true;
        try {
          await api.deleteSecret(app, s.name);
          show('success', `Secret ${s.name} removed.`);
          await reload();
          onChanged?.();
        } catch (failure) {
          remove.disabled = false;
          show('error', `${s.name} could not be removed: ${failure.detail ?? failure.message}`);
        }
      });
      return h('li', { testid: 'secret-item' }, h('code', null, s.name), ' ', h('span', { class: 'muted' }, 'updated '), timeElement(s.updatedAt), ' ', remove);
    }));
    empty.hidden = secrets.length > 0;
  }

  async function reload(options) {
    const answer = await api.listSecrets(app, options);
    render(answer.secrets ?? []);
  }

  const element = h('section', { class: 'panel', 'aria-labelledby': 'secrets-heading', testid: 'secrets-panel' },
    h('h2', { id: 'secrets-heading' }, 'Secrets'),
    empty,
    list,
    form,
    status);

  return {
    element,
    reload,
  };
}
