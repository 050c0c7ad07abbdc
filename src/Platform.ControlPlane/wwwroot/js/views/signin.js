import { Api } from '../api.js';
import { h } from '../dom.js';

/**
 * The sign-in form. The key is checked against the API (GET /apps) before it is kept, so a wrong key never
 * leaves the user "signed in" with a dashboard that cannot load.
 */
export function renderSignIn(container, { message, onSignedIn }) {
  const input = h('input', {
    id: 'api-key',
    type: 'password',
    name: 'api-key',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'api-key-hint',
    testid: 'api-key',
  });
  const error = h('p', { class: 'notice notice-error', role: 'alert', testid: 'signin-error', hidden: true });
  const button = h('button', { type: 'submit', class: 'button', testid: 'sign-in' }, 'Sign in');
  const notice = message ? h('p', { class: 'notice notice-success', role: 'status', testid: 'signin-message' }, message) : null;

  const form = h('form', { novalidate: true, 'aria-labelledby': 'signin-title' },
    h('div', { class: 'field' },
      h('label', { for: 'api-key' }, 'API key'),
      input,
      h('p', { id: 'api-key-hint', class: 'hint' },
        'Kept only in this tab\'s session storage; closing the tab forgets it.')),
    button,
    error);

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const key = input.value.trim();
    if (!key) {
      showError('Enter an API key.');
      return;
    }
    button.disabled = true;
    button.textContent = 'Signing in…';
    error.hidden = true;
    try {
      await new Api(key).listApps();
      onSignedIn(key);
    } catch (failure) {
      const refused = failure.status === 401 || failure.status === 403;
      showError(refused ? `The key was refused. ${failure.detail}` : `Could not sign in: ${failure.message}`);
    } finally {
      button.disabled = false;
      button.textContent = 'Sign in';
    }
  });

  function showError(text) {
    error.textContent = text;
    error.hidden = false;
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }

  input.addEventListener('input', () => input.removeAttribute('aria-invalid'));

  container.replaceChildren(h('section', { class: 'signin panel' },
    h('h1', { id: 'signin-title', tabindex: '-1' }, 'Sign in'),
    h('p', { class: 'muted' }, 'Use an API key of this platform. The admin key is printed by ',
      h('code', null, './deploy/platform.sh up'), '.'),
    notice,
    form));
  return { focusTarget: input };
}
