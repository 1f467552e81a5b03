import { api } from './api.js';
import { h } from './dom.js';
import { codeOf, describeError, field, formError, onSubmit, text } from './forms.js';
import { codeField, currentPasswordField, newPasswordField } from './views.js';

/** The token a mailed link carries in the page's hash: `#/reset?token=…` (a fragment: no server ever sees it). */
const tokenOfHash = (): string => new URLSearchParams(location.hash.split('?')[1] ?? '').get('token') ?? '';

const card = (title: string, ...children: (Node | string)[]) =>
  h(
    'main',
    { class: 'center' },
    h('div', { class: 'card' }, h('p', { class: 'muted' }, 'Api users · dashboard'), h('h1', {}, title), ...children),
  );

const signInLink = () => h('p', {}, h('a', { href: '#/' }, 'Sign in'));

/** Asks for a reset link; the answer is the same whatever the address (the server says no more). */
export function forgotPasswordView(): HTMLElement {
  const said = h('p', { class: 'success', role: 'status' });
  const form = h(
    'form',
    { novalidate: true },
    field('Email address', h('input', { name: 'email', type: 'email', autocomplete: 'email', autofocus: true })),
    formError(),
    h('button', { type: 'submit' }, 'Mail me a link'),
  );
  onSubmit(form, async (data) => {
    said.textContent = (await api.auth.forgotPassword({ email: text(data, 'email') })).msg;
    form.reset();
  });
  return card('Forgot your password?', form, said, signInLink());
}

/** Sets a new password with the token of a mailed link. */
export function resetPasswordView(): HTMLElement {
  const done = h('div', {});
  const form = h(
    'form',
    { novalidate: true },
    newPasswordField('new_password', 'New password'),
    formError(),
    h('button', { type: 'submit' }, 'Set the password'),
  );
  onSubmit(form, async (data) => {
    const { msg } = await api.auth.resetPassword({ token: tokenOfHash(), new_password: text(data, 'new_password') });
    form.remove();
    done.replaceChildren(h('p', { class: 'success', role: 'status' }, msg), signInLink());
  });
  return card('Set a new password', form, done);
}

/** Confirms an address with the token of a mailed link, as soon as the page opens. */
export function verifyEmailView(): HTMLElement {
  const said = h('p', { role: 'status' }, 'Confirming…');
  api.auth.verifyEmail({ token: tokenOfHash() }).then(
    ({ msg }) => {
      said.className = 'success';
      said.textContent = msg;
    },
    (err: unknown) => {
      said.className = 'error';
      said.setAttribute('role', 'alert');
      said.textContent = describeError(err);
    },
  );
  return card('Confirm your email address', said, h('p', {}, h('a', { href: '#/users' }, 'Go to the dashboard')));
}

/** The signed-in account's address: the confirmed one, one waiting, and a form to set or change it. */
export function emailSection(): HTMLElement {
  const status = h('p', {});
  const said = h('p', { class: 'success', role: 'status' });
  const show = async () => {
    try {
      const { email, pending } = await api.me.email();
      status.textContent =
        (email === null ? 'No confirmed address.' : `Confirmed: ${email}.`) +
        (pending === null ? '' : ` Waiting for its link to be followed: ${pending}.`);
    } catch (err) {
      status.textContent = describeError(err);
    }
  };
  const form = h(
    'form',
    { class: 'card', novalidate: true },
    field('New address', h('input', { name: 'email', type: 'email', autocomplete: 'email' })),
    currentPasswordField(),
    codeField('Code', 'With an authenticator app on'),
    formError(),
    h('button', { type: 'submit' }, 'Mail a confirmation link'),
  );
  onSubmit(form, async (data) => {
    const { msg } = await api.me.changeEmail({
      email: text(data, 'email'),
      password: text(data, 'password'),
      ...codeOf(data),
    });
    form.reset();
    said.textContent = msg;
    await show();
  });
  void show();
  return h('div', {}, status, form, said);
}
