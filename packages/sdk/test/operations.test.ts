import { operations, REST_PREFIX, TRPC_PREFIX } from '@api-users/contract';
import { describe, expect, it } from 'vitest';
import { pairOf } from '../../../test-support/sign-in.js';
import { createClient, type Fetch, memoryTokenStore, type OperationName, type Tokens } from '../src/index.js';
import { accessStatus, apiUrl, PASSWORD, uniqueLogin } from './support/helpers.js';
import { transportNames, transports } from './support/transports.js';

type TokenKind = 'access' | 'refresh' | 'none';

interface Recorded {
  /** `METHOD /path token-kind` */
  line: string;
  search: string;
}

/** The real fetch, noting each request's method, path, query and the kind of token it carried. */
function recordingFetch(): { fetch: Fetch; requests: Recorded[] } {
  const requests: Recorded[] = [];
  return {
    requests,
    fetch: (input, init) => {
      const url = new URL(String(input));
      const bearer = new Headers(init?.headers).get('authorization')?.replace(/^Bearer /, '');
      // An access token is a JWT whose `type` claim says so; a refresh token is opaque (`<session id>.<secret>`).
      const kind: TokenKind =
        bearer === undefined
          ? 'none'
          : bearer.split('.').length === 3
            ? JSON.parse(atob(bearer.split('.')[1] ?? '')).type
            : 'refresh';
      requests.push({ line: `${init?.method ?? 'GET'} ${url.pathname} ${kind}`, search: url.search });
      return fetch(input, init);
    },
  };
}

describe.each(transportNames)('every operation over %s', (transport) => {
  it('register → login → list → byId → refresh → logout → logoutRefresh, keeping the token store in step', async () => {
    const store = memoryTokenStore();
    const recorder = recordingFetch();
    const api = transports[transport]({ baseUrl: apiUrl(), tokenStore: store, fetch: recorder.fetch });
    const login = uniqueLogin(`Ops.${transport}`);

    const user = await api.register({ user_name: 'Ada Lovelace', login, password: PASSWORD });
    expect(user).toEqual({
      id_user: expect.any(Number),
      user_name: 'Ada Lovelace',
      login: login.toLowerCase(),
      user_role: 2,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      disabled: false,
      email_verified: false,
    });
    expect(store.get()).toBeNull();
    // A second account, so the list has a second page even on a fresh database.
    const other = await api.register({ user_name: 'Charles Babbage', login: `${login}.b`, password: PASSWORD });

    const pair = pairOf(await api.login({ login, password: PASSWORD }));
    expect(pair).toMatchObject({ token_type: 'Bearer', expires_in: 60 });
    expect(store.get()).toEqual({ access_token: pair.access_token, refresh_token: pair.refresh_token });

    const firstPage = await api.listUsers({ limit: 1 });
    expect(firstPage.items).toHaveLength(1);
    const everyone = [...firstPage.items];
    const cursors: string[] = [];
    for (let cursor = firstPage.next_cursor; cursor !== null; ) {
      cursors.push(cursor);
      const page = await api.listUsers({ limit: 100, cursor });
      everyone.push(...page.items);
      cursor = page.next_cursor;
    }
    expect(cursors.length).toBeGreaterThan(0);
    expect(everyone).toEqual(expect.arrayContaining([user, other]));
    const ids = everyone.map((u) => u.id_user);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    expect(await api.userById({ id: user.id_user })).toEqual(user);
    expect(await api.getMe()).toEqual(user);

    const rotated = await api.refresh();
    expect(rotated.refresh_token).not.toBe(pair.refresh_token);
    expect(store.get()).toEqual({ access_token: rotated.access_token, refresh_token: rotated.refresh_token });
    expect(await api.userById({ id: user.id_user })).toEqual(user);

    // Revoking the access token is no sign-out: the store keeps the session (session.test.ts: the next call
    // renews the pair).
    expect(await api.logout()).toEqual({ msg: 'Access token revoked' });
    expect(await accessStatus(rotated.access_token)).toBe(401);
    expect((store.get() as Tokens).refresh_token).toBe(rotated.refresh_token);

    const second = pairOf(await api.login({ login, password: PASSWORD }));
    expect(await api.logoutRefresh()).toEqual({ msg: 'Refresh token revoked' });
    expect(store.get()).toBeNull();
    // Ending the session also ends its access tokens.
    expect(await accessStatus(second.access_token)).toBe(401);

    const steps: [OperationName, TokenKind][] = [
      ['register', 'none'],
      ['register', 'none'],
      ['login', 'none'],
      ...Array.from({ length: cursors.length + 1 }, (): [OperationName, TokenKind] => ['listUsers', 'access']),
      ['userById', 'access'],
      ['getMe', 'access'],
      ['refresh', 'refresh'],
      ['userById', 'access'],
      ['logout', 'access'],
      ['login', 'none'],
      ['logoutRefresh', 'refresh'],
    ];
    const expectedLine = ([name, kind]: [OperationName, TokenKind]) => {
      const op = operations[name];
      return transport === 'rest'
        ? `${op.method} ${REST_PREFIX}${op.path.replace(':id', String(user.id_user))} ${kind}`
        : `${op.method === 'GET' ? 'GET' : 'POST'} ${TRPC_PREFIX}/${op.router}.${op.procedure} ${kind}`;
    };
    expect(recorder.requests.map((r) => r.line)).toEqual(steps.map(expectedLine));

    const listSearches = recorder.requests.filter((_, i) => steps[i]?.[0] === 'listUsers').map((r) => r.search);
    if (transport === 'rest') {
      expect(listSearches).toEqual(['?limit=1', ...cursors.map((cursor) => `?limit=100&cursor=${cursor}`)]);
    } else {
      const inputs = listSearches.map((search) => JSON.parse(new URLSearchParams(search).get('input') ?? ''));
      expect(inputs).toEqual([{ limit: 1 }, ...cursors.map((cursor) => ({ limit: 100, cursor }))]);
    }
  });

  it('lists with no input at all', async () => {
    const api = transports[transport]({ baseUrl: apiUrl() });
    const login = uniqueLogin();
    await api.register({ user_name: 'No Input', login, password: PASSWORD });
    await api.login({ login, password: PASSWORD });
    const page = await api.listUsers({});
    expect(page.items.length).toBeGreaterThan(0);
  });
});

describe('REST client methods', () => {
  it('take no argument where the input has no required field', async () => {
    const client = createClient({ baseUrl: `${apiUrl()}/` });
    const login = uniqueLogin();
    await client.auth.register({ user_name: 'Bare', login, password: PASSWORD });
    await client.auth.login({ login, password: PASSWORD });
    expect((await client.users.list()).items.length).toBeGreaterThan(0);
    expect(await client.auth.refresh()).toMatchObject({ token_type: 'Bearer' });
    expect(await client.auth.logoutRefresh()).toEqual({ msg: 'Refresh token revoked' });
  });
});
