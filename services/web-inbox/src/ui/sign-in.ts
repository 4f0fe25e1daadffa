/// <reference lib="dom" />
// Who the inbox acts for, and signing in and out. The key is pasted once and sent to POST /api/session,
// which answers with an HttpOnly cookie; the key itself is never stored in the browser (no localStorage,
// no sessionStorage), and the page cannot read the cookie. Signing in or out reloads the page, so
// nothing of one account's inbox stays on screen for another.
import { type ApiClient, Problem, type SignedIn } from '../api.ts';
import { h, replaceChildren } from './dom.ts';

/**
 * `signed-in`: a session; `local`: no session, and the server lets keyless requests act as the local
 * account (local mode); `signed-out`: no session and the server needs one (production).
 */
export type Viewer = { kind: 'signed-in'; account: SignedIn } | { kind: 'local' } | { kind: 'signed-out' };

export async function whoIsViewing(api: ApiClient): Promise<Viewer> {
  try {
    return { kind: 'signed-in', account: await api.session() };
  } catch (error) {
    if (!(error instanceof Problem && error.status === 401)) throw error;
  }
  try {
    await api.listConversations({ limit: 1 });
    return { kind: 'local' };
  } catch (error) {
    if (error instanceof Problem && error.status === 401) return { kind: 'signed-out' };
    throw error;
  }
}

const reloadHome = () => {
  location.hash = '#/';
  location.reload();
};

/** The account pill and sign-in / sign-out button in the header. */
export function renderAccountBar(target: HTMLElement, api: ApiClient, viewer: Viewer) {
  if (viewer.kind === 'signed-in') {
    const signOut = h('button', { type: 'button', class: 'link', id: 'sign-out' }, 'Sign out');
    signOut.addEventListener('click', async () => {
      signOut.disabled = true;
      await api.signOut().catch(() => {});
      reloadHome();
    });
    replaceChildren(
      target,
      h('span', { id: 'signed-in-as', 'data-account-id': viewer.account.accountId }, viewer.account.name),
      signOut,
    );
    return;
  }
  replaceChildren(
    target,
    viewer.kind === 'local' ? h('span', { id: 'signed-in-as', 'data-account-id': 'local' }, 'Local account') : null,
    h('a', { href: '#/sign-in', id: 'sign-in-link' }, 'Sign in'),
  );
}

/** The sign-in form: one field for the API key. */
export function renderSignIn(target: HTMLElement, api: ApiClient, viewer: Viewer) {
  const keyInput = h('input', {
    type: 'password',
    id: 'sign-in-key',
    name: 'apiKey',
    autocomplete: 'off',
    required: true,
    spellcheck: 'false',
  });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'sign-in-error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h(
    'form',
    { class: 'sign-in', 'aria-label': 'Sign in' },
    h('h2', { id: 'sign-in-heading', tabindex: '-1' }, 'Sign in'),
    h(
      'p',
      { class: 'hint' },
      viewer.kind === 'local'
        ? 'You are viewing the local account. Paste an API key to view its account instead.'
        : 'Paste an API key (from bin/hatch accounts create, or keys issue). It is exchanged for a session and not kept in this browser.',
    ),
    h('div', { class: 'field' }, h('label', { for: 'sign-in-key' }, 'API key'), keyInput),
    error,
    submit,
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    try {
      await api.signIn(keyInput.value.trim());
      keyInput.value = '';
      reloadHome();
    } catch (failure) {
      keyInput.value = '';
      keyInput.setAttribute('aria-invalid', 'true');
      error.textContent =
        failure instanceof Problem && failure.status === 401
          ? 'That key is unknown or revoked.'
          : `Could not sign in: ${failure instanceof Error ? failure.message : String(failure)}`;
      submit.disabled = false;
      keyInput.focus();
    }
  });
  replaceChildren(target, form);
  keyInput.focus();
}

/** A stream or request refused for a session that ended (signed out elsewhere, key revoked): start over. */
export async function recheckSession(api: ApiClient, viewer: Viewer) {
  if (viewer.kind !== 'signed-in') return;
  try {
    await api.session();
  } catch (error) {
    if (error instanceof Problem && error.status === 401) reloadHome();
  }
}
