import { h, fill, timeElement, announce } from '../dom.js';
import { validateAppName } from '../names.js';
import { tenantSwitcher } from './tenants.js';

export function statusBadge(status) {
  const label = status === 'running' ? 'Running' : status === 'no-version' ? 'No version yet' : status;
  return h('span', { class: `badge badge-${status}`, testid: 'app-status' }, label);
}

function appRow(app) {
  return h('tr', { testid: 'app-row', 'data-app': app.name },
    h('td', { 'data-label': 'Name' }, h('a', { class: 'app-link', href: `/apps/${encodeURIComponent(app.name)}`, 'data-nav': true }, app.name)),
    h('td', { 'data-label': 'URL' },
      h('a', { href: app.url, target: '_blank', rel: 'noopener noreferrer', class: 'mono' }, app.url.replace(/^https?:\/\//, '').replace(/\/$/, ''))),
    h('td', { 'data-label': 'Active version', testid: 'app-active-version' }, app.activeVersion ? `v${app.activeVersion}` : h('span', { class: 'muted' }, 'none')),
    h('td', { 'data-label': 'Last deploy' }, timeElement(app.lastDeployedAt)),
    h('td', { 'data-label': 'Status' }, statusBadge(app.status)),
    h('td', { 'data-label': 'Tenant', testid: 'app-tenant' }, app.tenant));
}

/** Apps list with the create form. */
export function renderApps(container, ctx) {
  const input = h('input', {
    id: 'new-app-name',
    type: 'text',
    name: 'name',
    autocomplete: 'off',
    autocapitalize: 'none',
    spellcheck: 'false',
    'aria-describedby': 'new-app-hint new-app-error',
    testid: 'new-app-name',
  });
  const error = h('p', { id: 'new-app-error', class: 'field-error', role: 'alert', testid: 'create-app-error', hidden: true });
  const button = h('button', { type: 'submit', class: 'button', testid: 'create-app' }, 'Create app');
  const form = h('form', { class: 'inline-form', novalidate: true, testid: 'create-app-form' },
    h('div', { class: 'field' },
      h('label', { for: 'new-app-name' }, 'New app name'),
      input,
      h('p', { id: 'new-app-hint', class: 'hint' }, '3-63 characters: lower-case letters, digits and "-", starting and ending with a letter or digit. It becomes the app\'s host name.')),
    button);

  const showError = (text) => {
    error.textContent = text;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  };
  input.addEventListener('input', () => {
    error.hidden = true;
    input.removeAttribute('aria-invalid');
  });

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const name = input.value.trim();
    const problem = validateAppName(name);
    if (problem) {
      showError(problem);
      return;
    }
    button.disabled = true;
    try {
      const created = await ctx.api.createApp(name, ctx.tenant);
      ctx.flash(`App ${created.name} created. Upload a module to deploy it.`);
      ctx.navigate(`/apps/${encodeURIComponent(created.name)}`);
    } catch (failure) {
      // The API's own words (name taken, invalid, ...) shown right under the field.
      showError(failure.detail ?? failure.message);
    } finally {
      button.disabled = false;
    }
  });

  const list = h('div', { class: 'table-wrap', 'aria-busy': 'true' }, h('p', { class: 'empty' }, 'Loading apps…'));
  const controller = new AbortController();
  const flash = ctx.takeFlash();

  fill(container,
    flash ? h('p', { class: 'notice notice-success flash', role: 'status', testid: 'flash' }, flash) : null,
    h('div', { class: 'page-head' }, h('h1', { tabindex: '-1' }, 'Apps')),
    h('div', { class: 'stack' },
      h('section', { class: 'panel', 'aria-labelledby': 'create-heading' },
        h('h2', { id: 'create-heading' }, 'Create an app'),
        form,
        error),
      h('section', { class: 'panel', 'aria-labelledby': 'apps-heading' },
        h('div', { class: 'panel-head' },
          h('h2', { id: 'apps-heading' }, 'Your apps'),
          tenantSwitcher(ctx, () => load(), { signal: controller.signal }),
          h('button', { type: 'button', class: 'button button-quiet button-small', onClick: () => load() }, 'Refresh')),
        list)));

  async function load() {
    list.setAttribute('aria-busy', 'true');
    try {
      const apps = await ctx.api.listApps({ signal: controller.signal, tenant: ctx.tenant });
      list.replaceChildren(apps.length === 0
        ? h('p', { class: 'empty', testid: 'apps-empty' }, 'No apps yet. Create one above, then upload a module.')
        : h('table', { class: 'responsive', testid: 'apps-table' },
          h('caption', { class: 'visually-hidden' }, 'Apps, their URLs, active versions and status'),
          h('thead', null, h('tr', null, ['Name', 'URL', 'Active version', 'Last deploy', 'Status', 'Tenant'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', null, apps.map(appRow))));
      announce(`${apps.length} ${apps.length === 1 ? 'app' : 'apps'} loaded.`);
    } catch (failure) {
      if (failure.name === 'AbortError') {
        return;
      }
      list.replaceChildren(h('p', { class: 'notice notice-error', role: 'alert' }, `The apps could not be loaded: ${failure.message}`));
    } finally {
      list.removeAttribute('aria-busy');
    }
  }
  load();
  return { dispose: () => controller.abort() };
}
