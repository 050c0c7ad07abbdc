// Dashboard entry: session, client-side routes (/ and /apps/{name}; the control plane falls back to index.html), header.
import { Api } from './api.js';
import { announce, h } from './dom.js';
import { clearKey, getKey, setKey } from './session.js';
import { renderSignIn } from './views/signin.js';
import { renderApps } from './views/apps.js';
import { renderApp } from './views/app.js';
import { renderKeys } from './views/keys.js';

const main = document.getElementById('main');
const sessionBox = document.querySelector('[data-testid="session"]');
const navApps = document.querySelector('[data-testid="nav-apps"]');
const navKeys = document.querySelector('[data-testid="nav-keys"]');
const TITLE = 'Wasm Platform';

let current = null;
let flashMessage = null;
let signInMessage = null;

const ctx = {
  api: null,
  // The admin's tenant switcher choice (null: all tenants), shared by the app list and the keys screen.
  tenant: null,
  navigate,
  flash(message) {
    flashMessage = message;
  },
  takeFlash() {
    const message = flashMessage;
    flashMessage = null;
    return message;
  },
};

function signOut(message) {
  clearKey();
  ctx.api = null;
  ctx.tenant = null;
  signInMessage = message;
  render({ focus: true });
}

function connect(key) {
  ctx.api = new Api(key, {
    // A key revoked while the dashboard is open: forget it rather than fail every call.
    onUnauthorized: () => signOut('Your key is no longer accepted. Sign in again.'),
  });
}

function navigate(path, { replace = false } = {}) {
  if (path !== location.pathname) {
    history[replace ? 'replaceState' : 'pushState'](null, '', path);
  }
  render({ focus: true });
}

function route(pathname) {
  const match = /^\/apps\/([^/]+)\/?$/.exec(pathname);
  if (match) {
    return { view: 'app', name: decodeURIComponent(match[1]) };
  }
  if (pathname === '/keys' || pathname === '/keys/') {
    return { view: 'keys' };
  }
  if (pathname === '/' || pathname === '/apps' || pathname === '/apps/' || pathname === '/index.html') {
    return { view: 'apps' };
  }
  return { view: 'not-found' };
}

function renderNotFound(container) {
  container.replaceChildren(
    h('h1', { tabindex: '-1' }, 'Page not found'),
    h('p', null, `Nothing lives at ${location.pathname}. `, h('a', { href: '/', 'data-nav': true }, 'Go to your apps')));
  return {};
}

function render({ focus = false } = {}) {
  current?.dispose?.();
  current = null;
  const signedIn = ctx.api !== null;
  sessionBox.hidden = !signedIn;
  navApps.hidden = !signedIn;
  navKeys.hidden = !signedIn;
  navKeys.removeAttribute('aria-current');

  if (!signedIn) {
    const message = signInMessage;
    signInMessage = null;
    document.title = `Sign in · ${TITLE}`;
    current = renderSignIn(main, {
      message,
      onSignedIn: (key) => {
        setKey(key);
        connect(key);
        announce('Signed in.');
        render({ focus: true });
      },
    });
  } else {
    const target = route(location.pathname);
    if (target.view === 'apps') {
      navApps.setAttribute('aria-current', 'page');
      document.title = `Apps · ${TITLE}`;
      current = renderApps(main, ctx);
    } else if (target.view === 'keys') {
      navApps.removeAttribute('aria-current');
      navKeys.setAttribute('aria-current', 'page');
      document.title = `API keys · ${TITLE}`;
      current = renderKeys(main, ctx);
    } else if (target.view === 'app') {
      navApps.removeAttribute('aria-current');
      document.title = `${target.name} · ${TITLE}`;
      current = renderApp(main, ctx, target.name);
    } else {
      navApps.removeAttribute('aria-current');
      document.title = `Not found · ${TITLE}`;
      current = renderNotFound(main);
    }
  }

  if (focus) {
    // After a route change, start keyboard and screen-reader users at the new page's heading.
    (current?.focusTarget ?? main.querySelector('h1') ?? main).focus();
  }
}

// Links marked data-nav change the route without a page load; modified clicks keep their usual meaning.
document.addEventListener('click', (event) => {
  const link = event.target.closest?.('a[data-nav]');
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
    return;
  }
  event.preventDefault();
  navigate(new URL(link.href).pathname);
});

window.addEventListener('popstate', () => render({ focus: true }));

// A file dropped outside the upload box would make the browser open it and leave the dashboard.
for (const type of ['dragover', 'drop']) {
  window.addEventListener(type, (event) => {
    if (!event.target.closest?.('[data-testid="dropzone"]')) {
      event.preventDefault();
    }
  });
}

document.querySelector('[data-testid="sign-out"]').addEventListener('click', () => signOut('Signed out. The key was removed from this tab.'));

const storedKey = getKey();
if (storedKey) {
  connect(storedKey);
}
render();
