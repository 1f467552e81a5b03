import type { User } from '@api-users/sdk';
import { accountView } from './account-page.js';
import { api, hasSession, onSessionExpired } from './api.js';
import { auditView } from './audit-page.js';
import { h } from './dom.js';
import { forgotPasswordView, resetPasswordView, verifyEmailView } from './email-pages.js';
import { describeError, roleBadge } from './forms.js';
import { userView } from './user-page.js';
import { firstRunView, newUserView, signInView, usersView } from './views.js';
import { webhooksView } from './webhooks-page.js';

const found = document.querySelector('#app');
if (!found) throw new Error('index.html has no #app element');
const root: Element = found;

/** Said once on the sign-in page: why the user is there (signed out, session ended). */
let notice: string | undefined;

/** Goes to `hash`, rendering even when it is the current one (no hashchange then). */
function navigate(hash: string): void {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

/**
 * Every page shows the account as the server holds it now (GET /me): its role decides what is shown, so a
 * demotion shows at the next page. The server checks the role on every call all the same.
 */
async function render(): Promise<void> {
  const mailed = mailedLinkPage();
  if (mailed) {
    root.replaceChildren(mailed);
    return;
  }
  if (!(await hasSession())) {
    const { first_run } = await api.auth.setup().catch(() => ({ first_run: false }));
    root.replaceChildren(
      first_run ? firstRunView(() => navigate('#/users')) : signInView(notice, () => navigate('#/users')),
    );
    notice = undefined;
    return;
  }
  let me: User;
  try {
    me = await api.me.get();
  } catch (err) {
    // A refused refresh has cleared the session and rendered the sign-in page already (onSessionExpired).
    if (await hasSession())
      root.replaceChildren(h('main', {}, h('p', { class: 'error', role: 'alert' }, describeError(err))));
    return;
  }
  root.replaceChildren(header(me), h('main', {}, page(me)));
}

/** The pages a mailed link or the sign-in page opens: they need no session. */
function mailedLinkPage(): HTMLElement | undefined {
  const route = location.hash.split('?')[0];
  if (route === '#/forgot') return forgotPasswordView();
  if (route === '#/reset') return resetPasswordView();
  if (route === '#/verify') return verifyEmailView();
  return undefined;
}

/** Routes are in the hash, so the server serves one index.html whatever the page. */
function page(me: User): HTMLElement {
  const hash = location.hash || '#/users';
  if (hash === '#/users') return usersView();
  if (hash === '#/users/new') return newUserView(me.user_role);
  if (hash === '#/me') {
    return accountView(me, () => {
      notice = 'Your account has been deleted.';
      navigate('#/');
    });
  }
  if (hash === '#/webhooks') {
    return me.user_role === 1
      ? webhooksView()
      : h('p', { class: 'notice', role: 'status' }, 'Webhooks are for admins.');
  }
  if (hash === '#/audit') {
    return me.user_role === 1
      ? auditView()
      : h('p', { class: 'notice', role: 'status' }, 'The audit log is for admins.');
  }
  const id = /^#\/users\/(\d+)$/.exec(hash)?.[1];
  if (id !== undefined) return userView(Number(id), me);
  return h('p', {}, 'No such page. ', h('a', { href: '#/users' }, 'All users'));
}

function header(me: User): HTMLElement {
  const link = (hash: string, label: string) =>
    h('a', { href: hash, 'aria-current': (location.hash || '#/users') === hash ? 'page' : undefined }, label);
  const signOutButton = h('button', { type: 'button', class: 'secondary' }, 'Sign out');
  signOutButton.addEventListener('click', async () => {
    signOutButton.disabled = true;
    // logout2 on the server, the tokens forgotten here whatever it answers.
    notice = await api.signOut().then(
      () => 'Signed out.',
      (err: unknown) => `Signed out here; the server said: ${describeError(err)}`,
    );
    navigate('#/');
  });
  return h(
    'header',
    {},
    h('strong', {}, 'Api users'),
    h(
      'nav',
      {},
      link('#/users', 'Users'),
      link('#/users/new', 'New user'),
      link('#/me', 'My account'),
      me.user_role === 1 && link('#/audit', 'Audit log'),
      me.user_role === 1 && link('#/webhooks', 'Webhooks'),
    ),
    h('span', { class: 'spacer' }),
    h('span', { class: 'who' }, `${me.user_name} (${me.login})`),
    roleBadge(me.user_role),
    signOutButton,
  );
}

onSessionExpired((error) => {
  // The server's sentence says why ("The session has ended", "The token has expired"): not said twice.
  notice = `${error.msg}. Please sign in again.`;
  void render();
});
window.addEventListener('hashchange', () => void render());
void render();
