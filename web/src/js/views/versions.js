import { h, formatBytes, shortDigest, timeElement, copyText, announce } from '../dom.js';
import { confirmDialog } from '../dialog.js';

/**
 * Versions table: digest (short, copyable), size, time, which one is live, and activate/roll back with confirmation.
 * @returns {{ element: HTMLElement, show: (versions: object[], activeVersion: number|null) => void }}
 */
export function versionsPanel({ api, app, onActivated }) {
  const body = h('div', { class: 'table-wrap' }, h('p', { class: 'empty' }, 'Loading versions…'));
  const status = h('div', { 'aria-live': 'polite' });
  const heading = h('h2', { id: 'versions-heading', tabindex: '-1' }, 'Versions');
  const element = h('section', { class: 'panel', 'aria-labelledby': 'versions-heading', testid: 'versions-panel' },
    h('div', { class: 'panel-head' }, heading),
    body,
    status);

  function copyButton(version) {
    const button = h('button', {
      type: 'button',
      class: 'button button-quiet button-small',
      'aria-label': `Copy digest of version ${version.number}`,
      title: version.digest,
      testid: 'copy-digest',
    }, 'Copy');
    button.addEventListener('click', async () => {
      const copied = await copyText(version.digest);
      button.textContent = copied ? 'Copied' : 'Copy failed';
      announce(copied ? `Digest of version ${version.number} copied.` : 'The digest could not be copied; select it in the tooltip instead.');
      window.setTimeout(() => {
        button.textContent = 'Copy';
      }, 2000);
    });
    return button;
  }

  function actionCell(version, activeVersion) {
    if (version.active) {
      return h('span', { class: 'badge badge-active', testid: 'active-badge' }, 'Active');
    }
    const rollback = activeVersion !== null && version.number < activeVersion;
    const label = rollback ? `Roll back to v${version.number}` : `Activate v${version.number}`;
    const button = h('button', {
      type: 'button',
      class: 'button button-quiet button-small',
      testid: 'activate-version',
    }, label);
    button.addEventListener('click', async () => {
      const confirmed = await confirmDialog({
        title: rollback ? `Roll back to version ${version.number}?` : `Activate version ${version.number}?`,
        message: activeVersion === null
          ? `${app} will start serving version ${version.number} (${shortDigest(version.digest)}).`
          : `${app} will serve version ${version.number} (${shortDigest(version.digest)}) instead of version ${activeVersion}. Routers switch within about a second.`,
        confirmLabel: label,
      });
      if (!confirmed) {
        return;
      }
      button.disabled = true;
      try {
        await api.activateVersion(app, version.number);
        const message = `Version ${version.number} is now live.`;
        status.replaceChildren(h('p', { class: 'notice notice-success', testid: 'versions-message' }, message));
        announce(message);
        await onActivated(version.number);
        heading.focus();
      } catch (failure) {
        button.disabled = false;
        status.replaceChildren(h('p', { class: 'notice notice-error', role: 'alert', testid: 'versions-error' },
          `Version ${version.number} could not be activated: ${failure.message}`));
      }
    });
    return button;
  }

  function detailsButton(version, row) {
    const button = h('button', {
      type: 'button',
      class: 'button button-quiet button-small',
      'aria-expanded': 'false',
      'aria-label': `Routes and components of version ${version.number}`,
      testid: 'version-details-toggle',
    }, 'Details');
    let details = null;
    button.addEventListener('click', async () => {
      if (details) {
        details.remove();
        details = null;
        button.setAttribute('aria-expanded', 'false');
        return;
      }
      button.disabled = true;
      try {
        const full = await api.version(app, version.number);
        details = h('tr', { class: 'version-details', testid: 'version-details' },
          h('td', { colspan: '5' }, detailsView(full)));
        row.after(details);
        button.setAttribute('aria-expanded', 'true');
      } catch (failure) {
        status.replaceChildren(h('p', { class: 'notice notice-error', role: 'alert', testid: 'versions-error' },
          `The details of version ${version.number} could not be loaded: ${failure.message}`));
      } finally {
        button.disabled = false;
      }
    });
    return button;
  }

  function detailsView(v) {
    const title = v.kind === 'bundle'
      ? `${v.applicationName ?? 'bundle'}${v.applicationVersion ? ` ${v.applicationVersion}` : ''}: ${v.components.length} component(s), ${v.routes.length} route(s)`
      : 'A single module on every path';
    return h('div', { class: 'details' },
      h('p', null, h('strong', null, title), v.manifestUrl ? h('span', { class: 'muted' }, ' (spin.toml stored)') : null),
      h('table', { class: 'responsive', testid: 'routes-table' },
        h('caption', null, 'Routes'),
        h('thead', null, h('tr', null, ['Route', 'Component'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, v.routes.map((r) => h('tr', { testid: 'route-row' },
          h('td', { 'data-label': 'Route' }, h('code', null, r.route)),
          h('td', { 'data-label': 'Component' }, r.component))))),
      h('table', { class: 'responsive', testid: 'components-table' },
        h('caption', null, 'Components'),
        h('thead', null, h('tr', null, ['Component', 'Kind', 'Module', 'Entrypoint', 'Environment', 'Outbound hosts', 'Files'].map((c) => h('th', { scope: 'col' }, c)))),
        h('tbody', null, v.components.map((c) => h('tr', { testid: 'component-row', 'data-component': c.id },
          h('td', { 'data-label': 'Component' }, h('strong', null, c.id), c.source ? h('span', { class: 'muted' }, ` ${c.source}`) : null),
          h('td', { 'data-label': 'Kind', testid: 'component-kind' }, kindLabel(c.kind)),
          h('td', { 'data-label': 'Module' }, h('code', { title: c.digest, testid: 'component-digest' }, shortDigest(c.digest)), ` ${formatBytes(c.size)}`),
          // wasi:http components have no entrypoint: the host calls their incoming-handler export.
          h('td', { 'data-label': 'Entrypoint' }, c.kind === 'http' ? '—' : (c.entrypoint ?? '_start')),
          h('td', { 'data-label': 'Environment' }, c.environmentNames.length ? c.environmentNames.join(', ') : '—'),
          h('td', { 'data-label': 'Outbound hosts' }, c.allowedOutboundHosts.length ? c.allowedOutboundHosts.join(', ') : 'none'),
          h('td', { 'data-label': 'Files' }, filesCell(c)))))));
  }

  function kindLabel(kind) {
    return kind === 'http' ? 'wasi:http component' : kind === 'wagi' ? 'WAGI module' : kind;
  }

  function filesCell(c) {
    if (!c.fileCount) {
      return '—';
    }
    return [
      `${c.fileCount} (${formatBytes(c.fileBytes)})`,
      h('ul', { class: 'file-list', 'aria-label': `Files of ${c.id}` }, (c.files ?? []).map((f) => h('li', { testid: 'file-row', 'data-path': f.path },
        h('code', null, f.path), ` ${formatBytes(f.size)} `, h('code', { class: 'muted', title: f.digest, testid: 'file-digest' }, shortDigest(f.digest))))),
    ];
  }

  function show(versions, activeVersion) {
    if (versions.length === 0) {
      body.replaceChildren(h('p', { class: 'empty', testid: 'versions-empty' }, 'No versions yet. Upload a module to deploy the first one.'));
      return;
    }
    body.replaceChildren(h('table', { class: 'responsive', testid: 'versions-table' },
      h('caption', { class: 'visually-hidden' }, `Versions of ${app}, newest first`),
      h('thead', null, h('tr', null, ['Version', 'Digest', 'Size', 'Uploaded', 'Status'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', null, versions.map((v) => {
        const row = h('tr', { class: v.active ? 'is-active' : null, testid: 'version-row', 'data-version': String(v.number) });
        row.append(
          h('td', { 'data-label': 'Version' }, h('strong', null, `v${v.number}`), ' ', detailsButton(v, row)),
          h('td', { 'data-label': 'Digest' }, h('span', { class: 'digest' }, h('code', { title: v.digest, testid: 'digest' }, shortDigest(v.digest)), copyButton(v))),
          h('td', { 'data-label': 'Size' }, formatBytes(v.size)),
          h('td', { 'data-label': 'Uploaded' }, timeElement(v.createdAt), v.createdBy ? h('span', { class: 'muted' }, ` by ${v.createdBy}`) : null),
          h('td', { 'data-label': 'Status' }, actionCell(v, activeVersion)));
        return row;
      }))));
  }

  function showError(failure) {
    body.replaceChildren(h('p', { class: 'notice notice-error', role: 'alert' }, `The versions could not be loaded: ${failure.message}`));
  }

  return { element, show, showError };
}
