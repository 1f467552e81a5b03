import type { User } from '@api-users/sdk';
import { confirmedButton, outcome } from './actions.js';
import { api } from './api.js';
import { h } from './dom.js';
import { emailSection } from './email-pages.js';
import { codeOf, describeError, field, formError, onSubmit, text } from './forms.js';
import { mfaSection } from './mfa-section.js';
import { passkeysSection } from './passkeys-section.js';
import { sessionsTable } from './sessions.js';
import { codeField, currentPasswordField, newPasswordField, userDetails } from './views.js';

/**
 * The signed-in account: its details, its name, a password change, its email address, its authenticator app, its
 * passkeys, its sessions (end one, or all but this tab's), and its deletion (then `onDeleted`).
 */
export function accountView(me: User, onDeleted: () => void): HTMLElement {
  const details = h('div', {}, userDetails(me));
  const renamed = h('p', { class: 'success', role: 'status' });
  const renameForm = h(
    'form',
    { class: 'card', novalidate: true },
    field('Name', h('input', { name: 'user_name', autocomplete: 'name', value: me.user_name })),
    formError(),
    h('button', { type: 'submit' }, 'Rename'),
  );
  onSubmit(renameForm, async (data) => {
    renamed.textContent = '';
    const now = await api.me.update({ user_name: text(data, 'user_name') });
    details.replaceChildren(userDetails(now));
    renamed.textContent = `Your name is now ${now.user_name}.`;
  });
  const changed = h('p', { class: 'success', role: 'status' });
  const form = h(
    'form',
    { class: 'card', novalidate: true },
    field(
      'Current password',
      h('input', { name: 'current_password', type: 'password', autocomplete: 'current-password' }),
    ),
    newPasswordField('new_password', 'New password'),
    codeField('Code', 'With an authenticator app on: six digits from it, or a recovery code'),
    formError(),
    h('button', { type: 'submit' }, 'Change password'),
  );
  const sessionsResult = outcome();
  const sessionsPart = h('div', {});
  const showSessions = async (): Promise<void> => {
    try {
      const { items } = await api.me.sessions({ limit: 100 });
      sessionsPart.replaceChildren(
        sessionsTable(items, sessionsResult, async (session) => {
          await api.me.endSession({ sid: session.id });
          await showSessions();
          return 'Session ended.';
        }),
        items.length > 1
          ? confirmedButton(
              'Sign out everywhere else',
              'End every other session of your account? Those devices are signed out at once.',
              sessionsResult,
              async () => {
                const { ended } = await api.me.endOtherSessions();
                await showSessions();
                return `${ended} other session${ended === 1 ? '' : 's'} ended.`;
              },
            )
          : '',
      );
    } catch (err) {
      sessionsPart.replaceChildren(h('p', { class: 'error', role: 'alert' }, describeError(err)));
    }
  };
  onSubmit(form, async (data) => {
    changed.textContent = '';
    // The SDK keeps the pair of the new session the server answers with; every earlier session has ended.
    await api.me.changePassword({
      current_password: text(data, 'current_password'),
      new_password: text(data, 'new_password'),
      ...codeOf(data),
    });
    form.reset();
    changed.textContent = 'Password changed; your other sessions have ended.';
    await showSessions();
  });
  const deleteForm = h(
    'form',
    { class: 'card', novalidate: true },
    h(
      'p',
      {},
      'Your account, its sessions, passkeys and authenticator app are removed at once. This cannot be undone.',
    ),
    currentPasswordField(),
    codeField('Code', 'With an authenticator app on: six digits from it, or a recovery code'),
    formError(),
    h('button', { type: 'submit', class: 'danger' }, 'Delete my account'),
  );
  onSubmit(deleteForm, async (data) => {
    // The SDK forgets the tokens: the account's sessions ended with it.
    await api.me.deleteAccount({ password: text(data, 'password'), ...codeOf(data) });
    onDeleted();
  });
  void showSessions();
  return h(
    'section',
    {},
    h('h1', {}, 'My account'),
    details,
    h('h2', {}, 'Name'),
    renameForm,
    renamed,
    h('h2', {}, 'Change password'),
    form,
    changed,
    h('h2', {}, 'Email address'),
    emailSection(),
    h('h2', {}, 'Authenticator app'),
    mfaSection(),
    h('h2', {}, 'Passkeys'),
    passkeysSection(),
    h('h2', {}, 'My sessions'),
    sessionsPart,
    sessionsResult.element,
    h('h2', {}, 'Delete my account'),
    deleteForm,
  );
}
