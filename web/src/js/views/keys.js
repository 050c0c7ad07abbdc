// API keys: list with tenant and scope, create (the secret is shown once), revoke. Admins see every tenant's keys
// (or the switcher's tenant); a tenant key sees and makes keys of its own tenant no wider than itself.
import { h, fill, timeElement, announce } from '../dom.js';
import { confirmDialog } from '../dialog.js';
import { loadTenants } from './tenants.js';

const ACCESS = [
  ['full', 'Full: deploy, settings, delete, keys'],
  ['deploy-only', 'Deploy only: upload and roll back, read'],
  ['read-only', 'Read only'],
];

function scopeText(key) {
  return key.apps ? key.apps.join(', ') : 'all apps';
}

export function renderKeys(container, ctx) {
  const controller = new AbortController();
  const nameInput = h('input', { id: 'key-name', type: 'text', autocomplete: 'off', spellcheck: 'false', testid: 'key-name', required: true });
  const tenantSelect = h('select', { id: 'key-tenant', testid: 'key-tenant' });
  const tenantField = h('div', { class: 'field', hidden: true }, h('label', { for: 'key-tenant' }, 'Tenant'), tenantSelect);
  const accessSelect = h('select', { id: 'key-access', testid: 'key-access' }, ACCESS.map(([value, label]) => h('option', { value }, label)));
  const appsInput = h('input', {
    id: 'key-apps', type: 'text', autocomplete: 'off', spellcheck: 'false', testid: 'key-apps', 'aria-describedby': 'key-apps-hint',
  });
  const error = h('p', { class: 'field-error', role: 'alert', testid: 'create-key-error', hidden: true });
  const secretBox = h('div', { testid: 'new-key', hidden: true });
  const button = h('button', { type: 'submit', class: 'button', testid: 'create-key' }, 'Create key');
  const form = h('form', { class: 'stack', novalidate: true, testid: 'create-key-form' },
    h('div', { class: 'field' }, h('label', { for: 'key-name' }, 'Key name'), nameInput),
    tenantField,
    h('div', { class: 'field' }, h('label', { for: 'key-access' }, 'Access'), accessSelect),
    h('div', { class: 'field' },
      h('label', { for: 'key-apps' }, 'Only these apps (optional)'),
      appsInput,
      h('p', { id: 'key-apps-hint', class: 'hint' }, 'App names separated by commas; leave empty for every app of the tenant.')),
    h('div', { class: 'form-actions' }, button));

  const list = h('div', { class: 'table-wrap', 'aria-busy': 'true' }, h('p', { class: 'empty' }, 'Loading keys…'));

  fill(container,
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'API keys')),
    h('div', { class: 'stack' },
      h('section', { class: 'panel', 'aria-labelledby': 'new-key-heading' },
        h('h2', { id: 'new-key-heading' }, 'Create a key'),
        form, error, secretBox),
      h('section', { class: 'panel', 'aria-labelledby': 'keys-heading' },
        h('div', { class: 'panel-head' },
          h('h2', { id: 'keys-heading' }, ctx.tenant ? `Keys of tenant ${ctx.tenant}` : 'Keys'),
          h('button', { type: 'button', class: 'button button-quiet button-small', onClick: () => load() }, 'Refresh')),
        list)));

  // Admins pick the tenant (or an admin key); a tenant key's keys are always its own tenant's.
  loadTenants(ctx.api, { signal: controller.signal }).then((tenants) => {
    ctx.isAdmin = tenants !== null;
    if (tenants === null) {
      return;
    }
    fill(tenantSelect,
      tenants.map((t) => h('option', { value: t.name }, t.name)),
      h('option', { value: '*admin' }, 'Admin key (every tenant)'));
    tenantSelect.value = ctx.tenant ?? 'default';
    tenantField.hidden = false;
  }).catch(() => {});

  const showError = (text) => {
    error.textContent = text;
    error.hidden = false;
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.hidden = true;
    const name = nameInput.value.trim();
    if (!name) {
      showError('A key name is required.');
      nameInput.focus();
      return;
    }
    const apps = appsInput.value.split(',').map((a) => a.trim()).filter((a) => a.length > 0);
    const body = { name, access: accessSelect.value };
    if (!tenantField.hidden && tenantSelect.value === '*admin') {
      body.admin = true;
      delete body.access;
    } else if (!tenantField.hidden) {
      body.tenant = tenantSelect.value;
    }
    if (apps.length > 0) {
      body.apps = apps;
    }
    button.disabled = true;
    try {
      const created = await ctx.api.createKey(body);
      const secret = h('code', { class: 'mono', testid: 'new-key-secret' }, created.key);
      fill(secretBox,
        h('div', { class: 'notice notice-success', role: 'status' },
          h('p', null, `Key ${created.name} created (${created.admin ? 'admin' : `tenant ${created.tenant}, ${created.access}, ${scopeText(created)}`}). `,
            'Copy it now: it is shown only this once and cannot be read again.'),
          h('p', null, secret),
          h('button', {
            type: 'button', class: 'button button-quiet button-small', testid: 'hide-key',
            onClick: () => { secretBox.hidden = true; secretBox.replaceChildren(); },
          }, 'I have copied it')));
      secretBox.hidden = false;
      nameInput.value = '';
      appsInput.value = '';
      announce(`Key ${created.name} created.`);
      load();
    } catch (failure) {
      showError(failure.detail ?? failure.message);
    } finally {
      button.disabled = false;
    }
  });

  async function revoke(key) {
    const confirmed = await confirmDialog({
      title: `Revoke ${key.name}?`,
      message: `Every request made with key ${key.name} (${key.prefix}…) is refused from now on. This cannot be undone.`,
      confirmLabel: `Revoke ${key.name}`,
      danger: true,
    });
    if (!confirmed) {
      return;
    }
    try {
      await ctx.api.revokeKey(key.name);
      announce(`Key ${key.name} revoked.`);
      load();
    } catch (failure) {
      list.prepend(h('p', { class: 'notice notice-error', role: 'alert' }, `Key ${key.name} could not be revoked: ${failure.message}`));
    }
  }

  function row(key) {
    return h('tr', { testid: 'key-row', 'data-key': key.name },
      h('td', { 'data-label': 'Name' }, key.name),
      h('td', { 'data-label': 'Prefix', class: 'mono' }, `${key.prefix}…`),
      h('td', { 'data-label': 'Tenant', testid: 'key-tenant-cell' }, key.admin ? h('span', { class: 'badge badge-active' }, 'admin') : key.tenant),
      h('td', { 'data-label': 'Access', testid: 'key-access-cell' }, key.admin ? 'everything' : key.access),
      h('td', { 'data-label': 'Apps', testid: 'key-apps-cell' }, key.admin ? 'all tenants' : scopeText(key)),
      h('td', { 'data-label': 'Last used' }, key.lastUsedAt ? timeElement(key.lastUsedAt) : h('span', { class: 'muted' }, 'never')),
      h('td', { 'data-label': 'Actions' },
        h('button', { type: 'button', class: 'button button-danger button-small', onClick: () => revoke(key) }, `Revoke ${key.name}`)));
  }

  async function load() {
    list.setAttribute('aria-busy', 'true');
    try {
      const keys = await ctx.api.listKeys(ctx.tenant, { signal: controller.signal });
      list.replaceChildren(keys.length === 0
        ? h('p', { class: 'empty', testid: 'keys-empty' }, 'No keys yet.')
        : h('table', { class: 'responsive', testid: 'keys-table' },
          h('caption', { class: 'visually-hidden' }, 'API keys with their tenant and scope'),
          h('thead', null, h('tr', null, ['Name', 'Prefix', 'Tenant', 'Access', 'Apps', 'Last used', 'Actions'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', null, keys.map(row))));
    } catch (failure) {
      if (failure.name === 'AbortError') {
        return;
      }
      list.replaceChildren(h('p', { class: 'notice notice-error', role: 'alert' }, `The keys could not be loaded: ${failure.message}`));
    } finally {
      list.removeAttribute('aria-busy');
    }
  }
  load();
  return { dispose: () => controller.abort() };
}
