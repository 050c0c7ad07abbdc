import { h, fill, timeElement, announce } from '../dom.js';
import { confirmDialog } from '../dialog.js';
import { describe, mountChart } from '../chart.js';
import { statusBadge } from './apps.js';
import { uploadPanel } from './upload.js';
import { versionsPanel } from './versions.js';
import { tryPanel } from './tryit.js';
import { logsPanel } from './logs.js';
import { variablesEditor } from './variables.js';
import { limitsEditor } from './limits.js';
import { hostsEditor } from './hosts.js';
import { secretsPanel } from './secrets.js';

const STATS_MINUTES = 60;
const STATS_REFRESH_MS = 15000;

function fact(label, value, testid) {
  return h('div', null, h('dt', null, label), h('dd', { testid }, value));
}

/** One app: facts, upload, versions, try it, traffic chart, log, variables, limits, outbound hosts, delete. */
export function renderApp(container, ctx, name) {
  const controller = new AbortController();
  const timers = new Set();
  const later = (fn, ms) => {
    const id = window.setTimeout(() => {
      timers.delete(id);
      fn();
    }, ms);
    timers.add(id);
  };

  const heading = h('h1', { tabindex: '-1', testid: 'app-name' }, name);
  const headFacts = h('dl', { class: 'facts', testid: 'app-facts' });
  // The heading stays in place when the app loads (re-inserting it would drop the focus a route change put there).
  const badgeSlot = h('span');
  const titleRow = h('div', { class: 'title-row' }, heading, badgeSlot);
  const flashText = ctx.takeFlash();
  const flash = flashText ? h('p', { class: 'notice notice-success flash', role: 'status', testid: 'flash' }, flashText) : null;

  const versions = versionsPanel({ api: ctx.api, app: name, onActivated: () => refresh() });
  const upload = uploadPanel({
    api: ctx.api,
    app: name,
    onUploaded: () => {
      // "App created, upload a module" is stale once one is uploaded.
      flash?.remove();
      return refresh();
    },
  });
  // The router reports figures about once a second; look again shortly after a request was sent.
  const tryIt = tryPanel({ api: ctx.api, app: name, onSent: () => later(loadStats, 2500) });

  const chartBox = h('div', { class: 'chart', testid: 'stats-chart' });
  const chart = mountChart(chartBox);
  const summary = h('p', { class: 'stats-summary', testid: 'stats-summary' }, 'Loading figures…');
  const statsError = h('div', { 'aria-live': 'polite' });
  const stats = h('section', { class: 'panel span-2', 'aria-labelledby': 'traffic-heading', testid: 'traffic-panel' },
    h('div', { class: 'panel-head' },
      h('h2', { id: 'traffic-heading' }, 'Traffic, last hour'),
      h('button', { type: 'button', class: 'button button-quiet button-small', testid: 'refresh-stats', onClick: () => loadStats() }, 'Refresh figures')),
    summary,
    chartBox,
    h('ul', { class: 'legend', 'aria-hidden': 'true' },
      h('li', null, h('span', { class: 'swatch swatch-requests' }), 'Requests'),
      h('li', null, h('span', { class: 'swatch swatch-errors' }), 'Errors'),
      h('li', null, h('span', { class: 'swatch swatch-p50' }), 'p50 latency'),
      h('li', null, h('span', { class: 'swatch swatch-p99' }), 'p99 latency')),
    statsError);

  const logs = logsPanel({ api: ctx.api, app: name });
  const secrets = secretsPanel({ api: ctx.api, app: name });
  secrets.element.classList.add('span-2');

  // Settings editors: each re-reads the app after a save; the page's facts follow what was saved.
  const editors = [variablesEditor, limitsEditor, hostsEditor].map((make) => make({ api: ctx.api, app: name, onSaved: (app) => showApp(app) }));

  const deleteButton = h('button', { type: 'button', class: 'button button-danger', testid: 'delete-app' }, 'Delete app…');
  const deleteError = h('div', { 'aria-live': 'polite' });
  deleteButton.addEventListener('click', async () => {
    const confirmed = await confirmDialog({
      title: `Delete ${name}?`,
      message: `Its URL stops answering at once and its versions are no longer listed. This cannot be undone.`,
      confirmLabel: `Delete ${name}`,
      danger: true,
    });
    if (!confirmed) {
      return;
    }
    deleteButton.disabled = true;
    try {
      await ctx.api.deleteApp(name);
      ctx.flash(`App ${name} deleted.`);
      ctx.navigate('/');
    } catch (failure) {
      deleteButton.disabled = false;
      deleteError.replaceChildren(h('p', { class: 'notice notice-error', role: 'alert' }, `${name} could not be deleted: ${failure.message}`));
    }
  });

  versions.element.classList.add('span-2');
  const page = h('div', { class: 'grid' },
    upload,
    tryIt,
    versions.element,
    secrets.element,
    stats,
    logs.element,
    ...editors.map((e) => e.element),
    h('section', { class: 'panel danger-zone span-2', 'aria-labelledby': 'delete-heading' },
      h('h2', { id: 'delete-heading' }, 'Delete app'),
      h('p', null, 'Removes the app and stops its URL at once. Uploaded modules stay in the registry until it is cleaned up.'),
      deleteButton,
      deleteError));
  page.hidden = true;

  const loading = h('p', { class: 'empty' }, 'Loading app…');
  fill(container,
    h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
      h('ol', null,
        h('li', null, h('a', { href: '/', 'data-nav': true }, 'Apps')),
        h('li', null, h('span', { 'aria-current': 'page' }, name)))),
    flash,
    h('div', { class: 'page-head' }, h('div', null, titleRow, headFacts)),
    loading,
    page);

  function showApp(app) {
    badgeSlot.replaceChildren(statusBadge(app.status));
    headFacts.replaceChildren(
      fact('URL', h('a', { href: app.url, target: '_blank', rel: 'noopener noreferrer', testid: 'app-url' }, app.url)),
      fact('Active version', app.activeVersion ? `v${app.activeVersion}` : 'none', 'active-version'),
      fact('Last deploy', timeElement(app.lastDeployedAt)),
      fact('Limits', `${app.memoryLimitMb} MiB, ${app.timeoutSeconds} s, ${app.cpuTimeLimitMs} ms CPU`, 'limits-fact'),
      fact('Outbound hosts', outboundHosts(app.allowedOutboundHosts), 'outbound-hosts'));
    editors.forEach((e) => e.show(app));
  }

  // The list as saved; the outbound hosts editor below changes it. An empty list allows no outbound HTTP at all.
  function outboundHosts(hosts) {
    if (!hosts || hosts.length === 0) {
      return 'none allowed';
    }
    return h('ul', { class: 'outbound-hosts' }, ...hosts.map((host) => h('li', null, h('code', null, host))));
  }

  async function refresh() {
    try {
      const [app, list] = await Promise.all([
        ctx.api.getApp(name, { signal: controller.signal }),
        ctx.api.listVersions(name, { signal: controller.signal }),
        secrets.reload({ signal: controller.signal }),
      ]);
      showApp(app);
      versions.show(list, app.activeVersion ?? null);
      loading.remove();
      page.hidden = false;
    } catch (failure) {
      if (failure.name === 'AbortError') {
        return;
      }
      if (failure.status === 404) {
        heading.textContent = 'App not found';
        loading.replaceChildren(h('span', { role: 'alert', testid: 'app-not-found' }, `${failure.detail} `),
          h('a', { href: '/', 'data-nav': true }, 'Back to apps'));
        page.hidden = true;
        return;
      }
      versions.showError(failure);
      loading.textContent = `The app could not be loaded: ${failure.message}`;
    }
  }

  async function loadStats() {
    try {
      const data = await ctx.api.stats(name, STATS_MINUTES, { signal: controller.signal });
      summary.textContent = describe(data);
      chart.update(data);
      statsError.replaceChildren();
    } catch (failure) {
      if (failure.name === 'AbortError' || failure.status === 404) {
        return;
      }
      statsError.replaceChildren(h('p', { class: 'notice notice-error' }, `Figures could not be loaded: ${failure.message}`));
    }
  }

  refresh().then(() => loadStats());
  const interval = window.setInterval(() => {
    if (document.visibilityState === 'visible') {
      loadStats();
    }
  }, STATS_REFRESH_MS);
  announce(`App ${name}.`);

  return {
    focusTarget: heading,
    dispose() {
      controller.abort();
      window.clearInterval(interval);
      timers.forEach((id) => window.clearTimeout(id));
      chart.dispose();
      logs.dispose();
    },
  };
}
