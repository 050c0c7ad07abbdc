// Editor for an app's variables (the environment its modules see first; the request's own CGI variables win).
// The API replaces the whole set on PATCH, so every change starts from a fresh read: a change made elsewhere
// meanwhile is kept, not overwritten by a stale copy.
import { h } from '../dom.js';
import { confirmDialog } from '../dialog.js';
import { statusArea, markInvalid, whileBusy } from './editor.js';

/** @returns {{ element: HTMLElement, show: (app: object) => void }} */
export function variablesEditor({ api, app, onSaved }) {
  const status = statusArea('vars');
  const list = h('div', { class: 'table-wrap', testid: 'vars-list' });
  const nameInput = h('input', {
    id: 'vars-name', type: 'text', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false',
    'aria-describedby': 'vars-name-hint vars-status', testid: 'vars-name',
  });
  const valueInput = h('input', {
    id: 'vars-value', type: 'text', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': 'vars-value-hint vars-status', testid: 'vars-value',
  });
  const save = h('button', { type: 'submit', class: 'button', testid: 'vars-save' }, 'Save variable');
  const form = h('form', { class: 'inline-form editor-form', novalidate: true, testid: 'vars-form', 'aria-label': 'Add or change a variable' },
    h('div', { class: 'field' },
      h('label', { for: 'vars-name' }, 'Variable name'),
      nameInput,
      h('p', { id: 'vars-name-hint', class: 'hint' }, 'Letters, digits and "_", not starting with a digit. An existing name gets the new value.')),
    h('div', { class: 'field' },
      h('label', { for: 'vars-value' }, 'Value'),
      valueInput,
      h('p', { id: 'vars-value-hint', class: 'hint' }, 'Any text up to 4096 characters. Requests see it from about a second after saving.')),
    save);
  status.element.id = 'vars-status';

  for (const input of [nameInput, valueInput]) {
    input.addEventListener('input', () => markInvalid([nameInput, valueInput], false));
  }

  function show(appData) {
    const entries = Object.entries(appData.variables ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) {
      list.replaceChildren(h('p', { class: 'empty', testid: 'vars-empty' }, 'No variables. Add one below.'));
      return;
    }
    list.replaceChildren(h('table', { class: 'responsive', testid: 'vars-table' },
      h('caption', { class: 'visually-hidden' }, `Variables of ${app}`),
      h('thead', null, h('tr', null, ['Name', 'Value', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, entries.map(([name, value]) => h('tr', { testid: 'var-row', 'data-name': name },
        h('td', { 'data-label': 'Name' }, h('code', { testid: 'var-name' }, name)),
        h('td', { 'data-label': 'Value' }, h('code', { class: 'var-value', testid: 'var-value' }, value)),
        h('td', { 'data-label': 'Actions' },
          h('div', { class: 'row-actions' },
            h('button', {
              type: 'button', class: 'button button-quiet button-small', 'aria-label': `Edit ${name}`, testid: 'var-edit',
              onClick: () => {
                nameInput.value = name;
                valueInput.value = value;
                valueInput.focus();
                valueInput.select();
              },
            }, 'Edit'),
            h('button', {
              type: 'button', class: 'button button-quiet button-small', 'aria-label': `Remove ${name}`, testid: 'var-remove',
              onClick: (event) => remove(name, event.currentTarget),
            }, 'Remove'))))))));
  }

  /** Reads the saved set, applies one change, saves the whole set and shows what the API then returns. */
  async function change(apply) {
    const current = await api.getApp(app);
    const variables = { ...(current.variables ?? {}) };
    apply(variables);
    await api.updateApp(app, { variables });
    const saved = await api.getApp(app);
    show(saved);
    onSaved?.(saved);
    return saved;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = nameInput.value.trim();
    const value = valueInput.value;
    if (name === '') {
      status.refused('Not saved', { detail: 'Give the variable a name.' });
      markInvalid([nameInput], true);
      nameInput.focus();
      return;
    }
    await whileBusy(form, async () => {
      try {
        const saved = await change((variables) => {
          variables[name] = value;
        });
        status.success(saved.variables?.[name] === value
          ? `Variable ${name} saved. Routers use it within about a second.`
          : `Variable ${name} was sent, but the app now shows a different value.`);
        nameInput.value = '';
        valueInput.value = '';
      } catch (failure) {
        // The API's own words; the saved list above is unchanged and the draft stays for fixing.
        status.refused(`${name} was not saved`, failure);
        // The API names what it refused: the name ("Variable name '...' is invalid") or the value.
        markInvalid(/\bname\b/i.test(failure?.detail ?? '') ? [nameInput] : [valueInput], true);
      }
    });
    nameInput.focus();
  });

  async function remove(name, button) {
    const confirmed = await confirmDialog({
      title: `Remove ${name}?`,
      message: `${app}'s modules no longer see ${name} from their next request on.`,
      confirmLabel: `Remove ${name}`,
      danger: true,
    });
    if (!confirmed) {
      return;
    }
    button.disabled = true;
    try {
      await change((variables) => {
        delete variables[name];
      });
      status.success(`Variable ${name} removed.`);
      nameInput.focus();
    } catch (failure) {
      button.disabled = false;
      status.refused(`${name} was not removed`, failure);
    }
  }

  const element = h('section', { class: 'panel span-2', 'aria-labelledby': 'vars-heading', testid: 'vars-panel' },
    h('h2', { id: 'vars-heading' }, 'Variables'),
    h('p', { class: 'hint' }, 'Environment variables every request of this app sees. Values are stored as given and shown to anyone who can see the app: keep secrets elsewhere.'),
    list,
    form,
    status.element);
  return { element, show };
}
