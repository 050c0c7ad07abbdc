// Editor for an app's outbound allow-list (Spin's allowed_outbound_hosts syntax). An empty list allows no outbound
// HTTP at all. Each change starts from a fresh read, because the API replaces the whole list.
import { h } from '../dom.js';
import { statusArea, markInvalid, whileBusy } from './editor.js';

/** @returns {{ element: HTMLElement, show: (app: object) => void }} */
export function hostsEditor({ api, app, onSaved }) {
  const status = statusArea('hosts');
  status.element.id = 'hosts-status';
  const list = h('div', { testid: 'hosts-list' });
  const input = h('input', {
    id: 'hosts-new', type: 'text', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false',
    placeholder: 'https://api.example.com', 'aria-describedby': 'hosts-hint hosts-status', testid: 'hosts-new',
  });
  input.addEventListener('input', () => markInvalid([input], false));
  const add = h('button', { type: 'submit', class: 'button', testid: 'hosts-add' }, 'Allow host');
  const form = h('form', { class: 'inline-form editor-form', novalidate: true, testid: 'hosts-form', 'aria-label': 'Allow an outbound host' },
    h('div', { class: 'field' },
      h('label', { for: 'hosts-new' }, 'Allowed outbound host'),
      input,
      h('p', { id: 'hosts-hint', class: 'hint' },
        'Scheme, host and optional port: ', h('code', null, 'https://api.example.com'), ', ', h('code', null, 'http://localhost:3000'), ', ',
        h('code', null, '*://*.example.com:*'), '.')),
    add);

  function show(appData) {
    const hosts = appData.allowedOutboundHosts ?? [];
    if (hosts.length === 0) {
      list.replaceChildren(h('p', { class: 'empty', testid: 'hosts-empty' }, 'None allowed: the app cannot make outbound HTTP requests.'));
      return;
    }
    list.replaceChildren(h('ul', { class: 'editor-list', 'aria-label': `Outbound hosts ${app} may call` },
      hosts.map((host) => h('li', { testid: 'host-row', 'data-host': host },
        h('code', { testid: 'host-value' }, host),
        h('button', {
          type: 'button', class: 'button button-quiet button-small', 'aria-label': `Remove ${host}`, testid: 'host-remove',
          onClick: (event) => remove(host, event.currentTarget),
        }, 'Remove')))));
  }

  async function change(apply) {
    const current = await api.getApp(app);
    const hosts = apply([...(current.allowedOutboundHosts ?? [])]);
    await api.updateApp(app, { allowedOutboundHosts: hosts });
    const fresh = await api.getApp(app);
    show(fresh);
    onSaved?.(fresh);
    return fresh;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const host = input.value.trim();
    if (host === '') {
      status.refused('Not added', { detail: 'Type a host such as https://api.example.com.' });
      markInvalid([input], true);
      input.focus();
      return;
    }
    await whileBusy(form, async () => {
      try {
        let already = false;
        await change((hosts) => {
          already = hosts.includes(host);
          return already ? hosts : [...hosts, host];
        });
        status.success(already ? `${host} was already allowed.` : `${host} allowed. Routers apply it within about a second.`);
        input.value = '';
      } catch (failure) {
        status.refused(`${host} was not added`, failure);
        markInvalid([input], true);
      }
    });
    input.focus();
  });

  async function remove(host, button) {
    button.disabled = true;
    try {
      await change((hosts) => hosts.filter((h2) => h2 !== host));
      status.success(`${host} removed from the allow-list.`);
      input.focus();
    } catch (failure) {
      button.disabled = false;
      status.refused(`${host} was not removed`, failure);
    }
  }

  const element = h('section', { class: 'panel', 'aria-labelledby': 'hosts-heading', testid: 'hosts-panel' },
    h('h2', { id: 'hosts-heading' }, 'Outbound hosts'),
    h('p', { class: 'hint' }, 'Hosts the app may call over HTTP, checked on the address actually connected. Bundles list their own per component.'),
    list,
    form,
    status.element);
  return { element, show };
}
