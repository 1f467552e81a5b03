import type { User, UserRole } from '@api-users/sdk';
import { api } from './api.js';
import { h } from './dom.js';
import { describeError, field, formError, onSubmit, roleName, text } from './forms.js';

const PAGE_SIZE = 20;

const formatDate = (iso: string): string =>
  new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

const roleBadge = (role: UserRole): HTMLElement => h('span', { class: `badge ${roleName(role)}` }, roleName(role));

export function signInView(notice: string | undefined, onSignedIn: () => void): HTMLElement {
  // novalidate: the API's own validation messages are shown, next to their fields, as for every other form.
  const form = h(
    'form',
    { class: 'card', novalidate: true },
    h('p', { class: 'muted' }, 'Api users · dashboard'),
    h('h1', {}, 'Sign in'),
    notice !== undefined && h('p', { class: 'notice', role: 'status' }, notice),
    field('Login', h('input', { name: 'login', autocomplete: 'username', autofocus: true })),
    field('Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password' })),
    formError(),
    h('button', { type: 'submit' }, 'Sign in'),
  );
  onSubmit(form, async (data) => {
    await api.auth.login({ login: text(data, 'login'), password: text(data, 'password') });
    onSignedIn();
  });
  return h('main', { class: 'center' }, form);
}

/** All users in id order, a page at a time: "Load more" asks for the page after the last cursor. */
export function usersView(): HTMLElement {
  const rows = h('tbody');
  const count = h('span', { class: 'muted' });
  const failure = h('p', { class: 'error', role: 'alert' });
  const more = h('button', { type: 'button', class: 'secondary', hidden: true }, 'Load more');
  let cursor: string | undefined;

  async function load(): Promise<void> {
    more.disabled = true;
    failure.textContent = '';
    try {
      const page = await api.users.list({ limit: PAGE_SIZE, cursor });
      rows.append(...page.items.map(userRow));
      count.textContent = `${rows.rows.length} shown`;
      cursor = page.next_cursor ?? undefined;
      more.hidden = cursor === undefined;
    } catch (err) {
      failure.textContent = describeError(err);
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener('click', () => void load());
  void load();

  return h(
    'section',
    {},
    h('h1', {}, 'Users ', count),
    h(
      'table',
      {},
      h('thead', {}, h('tr', {}, ...['ID', 'Name', 'Login', 'Role', 'Created'].map((title) => h('th', {}, title)))),
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
    h('td', {}, formatDate(user.created_at)),
  );

export function userView(id: number): HTMLElement {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  api.users.byId({ id }).then(
    (user) =>
      body.replaceChildren(
        h(
          'dl',
          { class: 'card' },
          ...(
            [
              ['ID', user.id_user],
              ['Name', user.user_name],
              ['Login', h('code', {}, user.login)],
              ['Role', roleBadge(user.user_role)],
              ['Created', formatDate(user.created_at)],
            ] as const
          ).flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]),
        ),
      ),
    (err: unknown) => body.replaceChildren(h('p', { class: 'error', role: 'alert' }, describeError(err))),
  );
  return h('section', {}, h('p', {}, h('a', { href: '#/users' }, '← All users')), h('h1', {}, `User #${id}`), body);
}

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
    field('Login', h('input', { name: 'login', autocomplete: 'off' }), 'a-z 0-9 . _ @ + -, 3 to 64 characters'),
    field(
      'Password',
      h('input', { name: 'password', type: 'password', autocomplete: 'new-password' }),
      '8 to 128 characters',
    ),
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
