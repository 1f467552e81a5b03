import { ApiError, type AuditEvent, type AuditEventType, auditEventTypes, type User } from '@api-users/sdk';
import { api } from './api.js';
import { h } from './dom.js';
import { formatDate, text } from './forms.js';
import { pagedList } from './paged-list.js';
import { deviceName } from './sessions.js';

const PAGE_SIZE = 50;

/** Each account's "name (login)" by id, asked once per page of the log; a deleted one says so. */
function accountNames(): (id: number) => Promise<string> {
  const known = new Map<number, Promise<string>>();
  return (id) => {
    let name = known.get(id);
    if (!name) {
      name = api.users.byId({ id }).then(
        (user) => `${user.user_name} (${user.login})`,
        (err: unknown) => (err instanceof ApiError && err.code === 'NOT_FOUND' ? `#${id}, deleted` : `#${id}`),
      );
      known.set(id, name);
    }
    return name;
  };
}

/** An event's actor or target: a link to the account, named once its name is known. */
function person(id: number | null, nameOf: (id: number) => Promise<string>): Node | string {
  if (id === null) return '—';
  const link = h('a', { href: `#/users/${id}` }, `#${id}`);
  void nameOf(id).then((name) => {
    link.textContent = name;
  });
  return link;
}

const eventRow =
  (nameOf: (id: number) => Promise<string>) =>
  (event: AuditEvent): HTMLTableRowElement =>
    h(
      'tr',
      {},
      h('td', {}, formatDate(event.at)),
      h('td', {}, h('code', {}, event.type), event.detail ? ` ${event.detail}` : ''),
      h('td', {}, person(event.actor_id, nameOf)),
      h('td', {}, person(event.target_id, nameOf)),
      h('td', {}, event.client_address ?? '—', h('br'), h('small', { class: 'muted' }, deviceName(event.user_agent))),
    );

/** How many pages of search results a login filter reads before giving up (the search also finds substrings). */
const LOGIN_PAGES = 10;

/** The id of the account with exactly this login: the search finds every login starting with it, page by page. */
async function idOfLogin(login: string): Promise<number> {
  // Folded as the server folds logins.
  const folded = login.trim().normalize('NFKC').toLowerCase();
  let cursor: string | null = null;
  for (let page = 0; page < LOGIN_PAGES; page++) {
    const { items, next_cursor }: { items: User[]; next_cursor: string | null } = await api.users.list({
      q: folded,
      limit: 100,
      cursor,
    });
    const found = items.find((user) => user.login === folded);
    if (found) return found.id_user;
    if (next_cursor === null) throw new Error(`No account has the login ${login.trim()}`);
    cursor = next_cursor;
  }
  throw new Error(
    `Over ${LOGIN_PAGES * 100} accounts start with ${login.trim()}: open the account from the users page`,
  );
}

/** The audit log, newest first, a page at a time, filtered by type, and by the actor's and target's logins. */
export function auditView(): HTMLElement {
  const loginInput = (name: string, label: string) =>
    h('input', { name, type: 'search', placeholder: label, 'aria-label': label, autocomplete: 'off' });
  const filters = h(
    'form',
    { class: 'filters' },
    h(
      'select',
      { name: 'type', 'aria-label': 'Type' },
      h('option', { value: '' }, 'every type'),
      ...auditEventTypes.map((type) => h('option', { value: type }, type)),
    ),
    loginInput('actor', 'Actor’s login'),
    loginInput('target', 'Target’s login'),
    h('button', { type: 'submit', class: 'secondary' }, 'Filter'),
  );
  const { rows, failure, more } = pagedList({
    filters,
    queryOf: async (data): Promise<{ type?: AuditEventType; actor_id?: number; target_id?: number }> => {
      const type = auditEventTypes.find((known) => known === text(data, 'type'));
      const actor = text(data, 'actor');
      const target = text(data, 'target');
      return {
        ...(type ? { type } : {}),
        ...(actor ? { actor_id: await idOfLogin(actor) } : {}),
        ...(target ? { target_id: await idOfLogin(target) } : {}),
      };
    },
    fetchPage: (query, cursor) => api.audit.list({ limit: PAGE_SIZE, cursor, ...query }),
    row: eventRow(accountNames()),
  });
  return h(
    'section',
    {},
    h('h1', {}, 'Audit log'),
    filters,
    h(
      'table',
      { class: 'audit' },
      h('thead', {}, h('tr', {}, ...['When', 'Event', 'Actor', 'Target', 'From'].map((title) => h('th', {}, title)))),
      rows,
    ),
    failure,
    more,
  );
}
