import { isMfaRequired, type MfaRequired, signInWithPasskey, type User, type UserRole } from '@api-users/sdk';
import { api } from './api.js';
import { h } from './dom.js';
import {
  describeError,
  field,
  formatDate,
  formError,
  onSubmit,
  roleBadge,
  roleName,
  statusBadge,
  text,
} from './forms.js';
import { pagedList } from './paged-list.js';

const PAGE_SIZE = 20;

const loginField = () =>
  field('Login', h('input', { name: 'login', autocomplete: 'off' }), 'a-z 0-9 . _ @ + -, 3 to 64 characters');
/** The account's password, asked again before a change of its sign-in credentials. */
export const currentPasswordField = () =>
  field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password' }));
export const newPasswordField = (name = 'password', label = 'Password') =>
  field(label, h('input', { name, type: 'password', autocomplete: 'new-password' }), '8 to 128 characters');

export function signInView(notice: string | undefined, onSignedIn: () => void): HTMLElement {
  // novalidate: the API's own validation messages are shown, next to their fields, as for every other form.
  const form = h(
    'form',
    { class: 'card', novalidate: true },
    h('p', { class: 'muted' }, 'Api users · dashboard'),
    h('h1', {}, 'Sign in'),
    notice !== undefined && h('p', { class: 'notice', role: 'status' }, notice),
    field('Login', h('input', { name: 'login', autocomplete: 'username', autofocus: true })),
    currentPasswordField(),
    formError(),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  const forgot = h('p', { class: 'muted' }, h('a', { href: '#/forgot' }, 'Forgot your password?'));
  const main = h('main', { class: 'center' }, form, forgot, passkeyButton('Sign in with a passkey', {}, onSignedIn));
  onSubmit(form, async (data) => {
    const signIn = await api.auth.login({ login: text(data, 'login'), password: text(data, 'password') });
    if (isMfaRequired(signIn)) main.replaceChildren(codeStep(signIn, onSignedIn));
    else onSignedIn();
  });
  return main;
}

/**
 * A button that signs in with a passkey the browser offers (any of this site's, or, with an mfa_token, one of
 * that sign-in's account), saying why when it cannot.
 */
function passkeyButton(label: string, options: { mfa_token?: string }, onSignedIn: () => void): HTMLElement {
  const button = h('button', { type: 'button', class: 'secondary passkey' }, label);
  const error = h('p', { class: 'error', role: 'alert' });
  button.addEventListener('click', async () => {
    button.disabled = true;
    error.textContent = '';
    try {
      await signInWithPasskey(api, options);
      onSignedIn();
    } catch (err) {
      error.textContent = describeError(err);
    } finally {
      button.disabled = false;
    }
  });
  return h('div', { class: 'card passkey-sign-in' }, button, error);
}

/** What the code fields take, said once. */
export const CODE_HINT = 'Six digits from your authenticator app, or one of your recovery codes';

/** A code field: what an authenticator app or a recovery code gives, never filled in by the browser. */
export const codeField = (label = 'Code', hint = CODE_HINT) =>
  field(
    label,
    h('input', { name: 'code', autocomplete: 'one-time-code', inputmode: 'text', spellcheck: 'false' }),
    hint,
  );

/**
 * The second step of a sign-in to an account with a second factor, with the challenge of the first: a code,
 * when it has an authenticator app, and a passkey, when it has one.
 */
function codeStep(challenge: MfaRequired, onSignedIn: () => void): HTMLElement {
  const { mfa_token, methods } = challenge;
  const form = h(
    'form',
    { class: 'card', novalidate: true },
    codeField(),
    formError(),
    h('button', { type: 'submit' }, 'Verify'),
  );
  onSubmit(form, async (data) => {
    await api.auth.loginMfa({ mfa_token, code: text(data, 'code') });
    onSignedIn();
  });
  return h(
    'div',
    { class: 'steps' },
    h('p', { class: 'muted' }, 'Api users · dashboard'),
    h('h1', {}, 'Second factor'),
    methods.includes('totp') && form,
    methods.includes('passkey') && passkeyButton('Use a passkey', { mfa_token }, onSignedIn),
  );
}

/**
 * Shown while the database has no account: the first one registered may make itself admin (the server
 * allows exactly one such registration), and is then signed in.
 */
export function firstRunView(onSignedIn: () => void): HTMLElement {
  const form = h(
    'form',
    { class: 'card first-run', novalidate: true },
    h('p', { class: 'muted' }, 'Api users · dashboard'),
    h('h1', {}, 'Create the first admin'),
    h('p', { class: 'notice' }, 'There is no account yet. The first one is an admin, who can then create the others.'),
    field('Name', h('input', { name: 'user_name', autocomplete: 'name', autofocus: true })),
    loginField(),
    newPasswordField(),
    formError(),
    h('button', { type: 'submit' }, 'Create and sign in'),
  );
  onSubmit(form, async (data) => {
    const user = { user_name: text(data, 'user_name'), login: text(data, 'login'), password: text(data, 'password') };
    await api.auth.register({ ...user, user_role: 1 });
    // A new account has no second factor: the sign-in answers the pair.
    await api.auth.login({ login: user.login, password: user.password });
    onSignedIn();
  });
  return h('main', { class: 'center' }, form);
}

/** All users in id order, a page at a time; the search box and the two filters start the list again. */
export function usersView(): HTMLElement {
  const count = h('span', { class: 'muted' });
  const filters = h(
    'form',
    { class: 'filters', role: 'search' },
    h('input', { name: 'q', type: 'search', placeholder: 'Login or name starts with…', 'aria-label': 'Search' }),
    h(
      'select',
      { name: 'role', 'aria-label': 'Role' },
      h('option', { value: '' }, 'any role'),
      h('option', { value: '1' }, 'admins'),
      h('option', { value: '2' }, 'users'),
    ),
    h(
      'select',
      { name: 'disabled', 'aria-label': 'Status' },
      h('option', { value: '' }, 'any status'),
      h('option', { value: 'false' }, 'enabled'),
      h('option', { value: 'true' }, 'disabled'),
    ),
    h('button', { type: 'submit', class: 'secondary' }, 'Search'),
  );
  const { rows, failure, more } = pagedList({
    filters,
    queryOf: (data): { q?: string; role?: UserRole; disabled?: boolean } => {
      const q = text(data, 'q').trim();
      const role = text(data, 'role');
      const disabled = text(data, 'disabled');
      return {
        ...(q ? { q } : {}),
        ...(role ? { role: role === '1' ? 1 : 2 } : {}),
        ...(disabled ? { disabled: disabled === 'true' } : {}),
      };
    },
    fetchPage: (query, cursor) => api.users.list({ limit: PAGE_SIZE, cursor, ...query }),
    row: userRow,
    onLoaded: (shown) => {
      count.textContent = `${shown} shown`;
    },
  });
  return h(
    'section',
    {},
    h('h1', {}, 'Users ', count),
    filters,
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h('tr', {}, ...['ID', 'Name', 'Login', 'Role', 'Status', 'Created'].map((title) => h('th', {}, title))),
      ),
      rows,
    ),
    failure,
    more,
  );
}

const userRow = (user: User): HTMLTableRowElement =>
  h(
    'tr',
    {},
    h('td', { class: 'num' }, user.id_user),
    h('td', {}, h('a', { href: `#/users/${user.id_user}` }, user.user_name)),
    h('td', {}, h('code', {}, user.login)),
    h('td', {}, roleBadge(user.user_role)),
    h('td', {}, statusBadge(user.disabled)),
    h('td', {}, formatDate(user.created_at)),
  );

/** An account's fields, as a definition list. */
export const userDetails = (user: User): HTMLElement =>
  h(
    'dl',
    { class: 'card' },
    ...(
      [
        ['ID', user.id_user],
        ['Name', user.user_name],
        ['Login', h('code', {}, user.login)],
        ['Role', roleBadge(user.user_role)],
        ['Status', statusBadge(user.disabled)],
        ['Created', formatDate(user.created_at)],
      ] as const
    ).flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
  );

/**
 * Creates an account with the signed-in user's token (the SDK sends it with register): the server lets only
 * an admin create an admin. Plain users get the same form, so the server's 403 is what they see.
 */
export function newUserView(role: UserRole): HTMLElement {
  const created = h('p', { class: 'success', role: 'status' });
  const form = h(
    'form',
    { class: 'card', novalidate: true },
    field('Name', h('input', { name: 'user_name', autocomplete: 'off' })),
    loginField(),
    newPasswordField(),
    field(
      'Role',
      h('select', { name: 'user_role' }, h('option', { value: '2' }, 'user'), h('option', { value: '1' }, 'admin')),
      role === 1 ? undefined : 'Only an admin can create an admin',
    ),
    formError(),
    h('button', { type: 'submit' }, 'Create user'),
  );
  onSubmit(form, async (data) => {
    created.replaceChildren();
    const user = await api.auth.register({
      user_name: text(data, 'user_name'),
      login: text(data, 'login'),
      password: text(data, 'password'),
      user_role: text(data, 'user_role') === '1' ? 1 : 2,
    });
    form.reset();
    created.append(
      'Created ',
      h('a', { href: `#/users/${user.id_user}` }, user.user_name),
      ` (${user.login}, ${roleName(user.user_role)}).`,
    );
  });
  return h('section', {}, h('h1', {}, 'New user'), form, created);
}
