import type { User } from '@api-users/sdk';
import { api, type Claims, onSessionExpired, signedIn, signOut } from './api.js';
import { h } from './dom.js';
import { describeError, roleName } from './forms.js';
import { newUserView, signInView, usersView, userView } from './views.js';

const found = document.querySelector('#app');
if (!found) throw new Error('index.html has no #app element');
const root: Element = found;

/** Said once on the sign-in page: why the user is there (signed out, session ended). */
let notice: string | undefined;
/** The signed-in account, fetched once per sign-in for the header. */
let me: User | undefined;

/** Goes to `hash`, rendering even when it is the current one (no hashchange then). */
function navigate(hash: string): void {
  if (location.hash === hash) void render();
  else location.hash = hash;
}

async function render(): Promise<void> {
  const claims = await signedIn();
  if (!claims) {
    me = undefined;
    root.replaceChildren(signInView(notice, () => navigate('#/users')));
    notice = undefined;
    return;
  }
  root.replaceChildren(header(claims), h('main', {}, page(claims)));
}

/** Routes are in the hash, so the server serves one index.html whatever the page. */
function page(claims: Claims): HTMLElement {
  const hash = location.hash || '#/users';
  if (hash === '#/users') return usersView();
  if (hash === '#/users/new') return newUserView(claims.role);
  const id = /^#\/users\/(\d+)$/.exec(hash)?.[1];
  if (id !== undefined) return userView(Number(id));
  return h('p', {}, 'No such page. ', h('a', { href: '#/users' }, 'All users'));
}

function header(claims: Claims): HTMLElement {
  const who = h('span', { class: 'who' }, me ? `${me.user_name} (${me.login})` : `user #${claims.userId}`);
  if (!me) {
    api.users.byId({ id: claims.userId }).then((user) => {
      me = user;
      who.textContent = `${user.user_name} (${user.login})`;
    }, ignore);
  }
  const link = (hash: string, label: string) =>
    h('a', { href: hash, 'aria-current': (location.hash || '#/users') === hash ? 'page' : undefined }, label);
  const signOutButton = h('button', { type: 'button', class: 'secondary' }, 'Sign out');
  signOutButton.addEventListener('click', async () => {
    signOutButton.disabled = true;
    const failures = await signOut();
    notice =
      failures.length === 0
        ? 'Signed out.'
        : `Signed out here; the server said: ${failures.map(describeError).join('; ')}`;
    navigate('#/');
  });
  return h(
    'header',
    {},
    h('strong', {}, 'Api users'),
    h('nav', {}, link('#/users', 'Users'), link('#/users/new', 'New user')),
    h('span', { class: 'spacer' }),
    who,
    h('span', { class: `badge ${roleName(claims.role)}` }, roleName(claims.role)),
    signOutButton,
  );
}

/** The header's name is a nicety; the page shows any failure of its own. */
const ignore = (): void => {};

onSessionExpired((error) => {
  notice = `Your session has ended (${error.msg}). Please sign in again.`;
  void render();
});
window.addEventListener('hashchange', () => void render());
void render();
