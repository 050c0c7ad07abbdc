// The tenant switcher admins see above the app list. Whether the key is an admin's is learnt from GET /tenants
// itself (403 for a tenant key), so the dashboard needs no endpoint of its own.
import { h, fill } from '../dom.js';

/** Tenants for an admin key; null for a tenant key (which sees its own tenant only). */
export async function loadTenants(api, options) {
  try {
    return await api.listTenants(options);
  } catch (failure) {
    if (failure.status === 403) {
      return null;
    }
    throw failure;
  }
}

/**
 * A labelled select of "All tenants" plus each tenant; the choice is kept in ctx.tenant for this tab, so the app
 * list and the keys screen show the same tenant. Returns the element, empty (hidden) until the tenants are loaded.
 */
export function tenantSwitcher(ctx, onChange, { signal } = {}) {
  const select = h('select', { id: 'tenant-switcher', testid: 'tenant-switcher' });
  const box = h('div', { class: 'field tenant-switcher', hidden: true },
    h('label', { for: 'tenant-switcher' }, 'Tenant'),
    select);
  select.addEventListener('change', () => {
    ctx.tenant = select.value || null;
    onChange(ctx.tenant);
  });
  loadTenants(ctx.api, { signal }).then((tenants) => {
    ctx.isAdmin = tenants !== null;
    if (tenants === null) {
      return;
    }
    // A tenant chosen earlier that has since been deleted falls back to all.
    if (ctx.tenant && !tenants.some((t) => t.name === ctx.tenant)) {
      ctx.tenant = null;
      onChange(null);
    }
    fill(select,
      h('option', { value: '' }, 'All tenants'),
      tenants.map((t) => h('option', { value: t.name }, `${t.name} (${t.usage.apps} ${t.usage.apps === 1 ? 'app' : 'apps'})`)));
    select.value = ctx.tenant ?? '';
    box.hidden = false;
  }).catch(() => {
    // The switcher is a convenience: without it the list still shows every app the key sees.
  });
  return box;
}
