import type { User } from '@api-users/sdk';
import { confirmedButton, outcome } from './actions.js';
import { api } from './api.js';
import { h } from './dom.js';
import { describeError, field, formError, onSubmit, roleName, text } from './forms.js';
import { sessionsTable } from './sessions.js';
import { newPasswordField, userDetails } from './views.js';

/**
 * One account. An admin also gets its actions (rename, role, disable or enable, set password, delete) and its
 * sessions (end one, end all), each confirmed first; a plain user sees the details only.
 */
export function userView(id: number, me: User): HTMLElement {
  const body = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const show = async (): Promise<void> => {
    try {
      const user = await api.users.byId({ id });
      body.replaceChildren(userDetails(user), me.user_role === 1 ? await adminPanel(user, show) : '');
    } catch (err) {
      body.replaceChildren(h('p', { class: 'error', role: 'alert' }, describeError(err)));
    }
  };
  void show();
  return h('section', {}, h('p', {}, h('a', { href: '#/users' }, '← All users')), h('h1', {}, `User #${id}`), body);
}

async function adminPanel(user: User, reload: () => Promise<void>): Promise<HTMLElement> {
  const result = outcome();
  const id = user.id_user;
  const who = `${user.user_name} (${user.login})`;
  /** Runs a change, then shows the account as it is now, with what happened. */
  const change = (action: () => Promise<unknown>, said: string) => async () => {
    await action();
    await reload();
    return said;
  };
  const otherRole = user.user_role === 1 ? 2 : 1;
  const password = newPasswordField('new_password', 'New password');
  const passwordInput = password.querySelector('input') as HTMLInputElement;

  const sessionsResult = outcome();
  const sessionsPart = h('div', {});
  const showSessions = async () => {
    try {
      const { items } = await api.users.sessions({ id, limit: 100 });
      sessionsPart.replaceChildren(
        sessionsTable(items, sessionsResult, async (session) => {
          await api.users.endSession({ id, sid: session.id });
          await showSessions();
          return 'Session ended.';
        }),
        items.length > 0
          ? confirmedButton('End all sessions', `Sign ${who} out on every device?`, sessionsResult, async () => {
              const { ended } = await api.users.endSessions({ id });
              await showSessions();
              return `${ended} session${ended === 1 ? '' : 's'} ended.`;
            })
          : '',
      );
    } catch (err) {
      sessionsPart.replaceChildren(h('p', { class: 'error', role: 'alert' }, describeError(err)));
    }
  };
  await showSessions();

  // Wrong passwords from many clients may have blocked sign-ins to the account from clients it does not know.
  const lockout = await api.users.lockout({ id });
  const lockoutPart = lockout.locked
    ? h(
        'div',
        { class: 'lockout' },
        h(
          'p',
          { class: 'error', role: 'status' },
          `Sign-ins from clients this account has not used are blocked for ${Math.ceil((lockout.retry_after ?? 0) / 60)} more minute(s): ` +
            'too many wrong passwords from many places. Its own devices still sign in.',
        ),
        confirmedButton(
          'Lift the block',
          `Let ${who} sign in from anywhere again? Do it once you know the attempts were not an attack, or after a new password.`,
          result,
          change(() => api.users.liftLockout({ id }), 'Block lifted.'),
          'secondary',
        ),
      )
    : h('p', { class: 'muted lockout' }, 'Sign-in is not blocked.');

  const renameForm = h(
    'form',
    { class: 'rename', novalidate: true },
    field('Name', h('input', { name: 'user_name', autocomplete: 'off', value: user.user_name })),
    formError(),
    h('button', { type: 'submit', class: 'secondary' }, 'Rename'),
  );
  // The page shows the account again, renamed: the details say the new name.
  onSubmit(renameForm, async (data) => {
    await api.users.update({ id, user_name: text(data, 'user_name') });
    await reload();
  });

  return h(
    'div',
    { class: 'admin-panel' },
    h('h2', {}, 'Admin actions'),
    renameForm,
    lockoutPart,
    h(
      'div',
      { class: 'actions' },
      confirmedButton(
        user.user_role === 1 ? 'Make user' : 'Make admin',
        `Make ${who} ${otherRole === 1 ? 'an admin' : 'a plain user'}?` +
          (otherRole === 2 ? ' Their sessions end at once.' : ''),
        result,
        change(() => api.users.update({ id, user_role: otherRole }), `Now ${roleName(otherRole)}.`),
        'secondary',
      ),
      confirmedButton(
        user.disabled ? 'Enable' : 'Disable',
        user.disabled ? `Let ${who} sign in again?` : `Disable ${who}? They are signed out at once and cannot sign in.`,
        result,
        change(() => api.users.update({ id, disabled: !user.disabled }), user.disabled ? 'Enabled.' : 'Disabled.'),
        user.disabled ? 'secondary' : 'danger',
      ),
      confirmedButton(
        'Remove second factor',
        `Remove ${who}'s authenticator app and recovery codes? For a user who lost both; their sessions end.`,
        result,
        async () => {
          await api.users.removeMfa({ id });
          await showSessions();
          return 'Second factor removed; their sessions have ended.';
        },
        'secondary',
      ),
      confirmedButton(`Delete`, `Delete ${who} for good? Their audit events stay.`, result, async () => {
        await api.users.remove({ id });
        location.hash = '#/users';
        return undefined;
      }),
    ),
    h(
      'div',
      { class: 'set-password' },
      password,
      confirmedButton(
        'Set password',
        `Set a new password for ${who}? Their sessions end.`,
        result,
        async () => {
          await api.users.setPassword({ id, new_password: passwordInput.value });
          passwordInput.value = '';
          await showSessions();
          return 'Password set; their sessions have ended.';
        },
        'secondary',
      ),
    ),
    result.element,
    h('h2', {}, 'Sessions'),
    sessionsPart,
    sessionsResult.element,
  );
}
