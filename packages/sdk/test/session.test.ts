import { operations, REST_PREFIX, TRPC_PREFIX } from '@api-users/contract';
import { describe, expect, it, vi } from 'vitest';
import { pairOf } from '../../../test-support/sign-in.js';
import { ApiError, type ClientOptions, memoryTokenStore, type TokenStore, type Tokens } from '../src/index.js';
import {
  accessStatus,
  apiUrl,
  countingFetch,
  PASSWORD,
  revokeAccessToken,
  spendRefreshToken,
  uniqueLogin,
} from './support/helpers.js';
import { type Calls, transportNames, transports } from './support/transports.js';

/** Where each transport's refresh requests go, to count them. */
const { path, router, procedure } = operations.refresh;
const refreshPath = { rest: REST_PREFIX + path, trpc: `${TRPC_PREFIX}/${router}.${procedure}` } as const;

/** A store that answers later, as IndexedDB or secure storage would, to show the single flight holds then too. */
function slowStore(): TokenStore {
  let tokens: Tokens | null = null;
  const later = () => new Promise((resolve) => setTimeout(resolve, 2));
  return {
    get: async () => {
      await later();
      return tokens;
    },
    set: async (next) => {
      await later();
      tokens = next;
    },
    clear: async () => {
      await later();
      tokens = null;
    },
  };
}

async function signedIn(api: Calls) {
  const login = uniqueLogin('Session');
  const user = await api.register({ user_name: 'Session Tester', login, password: PASSWORD });
  const pair = pairOf(await api.login({ login, password: PASSWORD }));
  return { user, pair };
}

describe.each(transportNames)('token handling over %s', (transport) => {
  const make = (options: Omit<ClientOptions, 'baseUrl'>) => transports[transport]({ baseUrl: apiUrl(), ...options });

  it('renews a revoked access token once and retries, transparently', async () => {
    const store = memoryTokenStore();
    const counter = countingFetch(refreshPath[transport]);
    const api = make({ tokenStore: store, fetch: counter.fetch });
    const { user, pair } = await signedIn(api);

    await revokeAccessToken(pair.access_token);
    expect(await api.userById({ id: user.id_user })).toEqual(user);

    expect(counter.count()).toBe(1);
    const renewed = store.get() as Tokens;
    expect(renewed.access_token).not.toBe(pair.access_token);
    expect(renewed.refresh_token).not.toBe(pair.refresh_token);
    expect(await accessStatus(renewed.access_token)).toBe(200);
  });

  it.each([
    ['a store in memory', memoryTokenStore],
    ['a store that answers later', slowStore],
  ])('collapses ten calls failing together into one refresh (%s)', async (_, makeStore) => {
    const store = makeStore();
    const counter = countingFetch(refreshPath[transport]);
    const api = make({ tokenStore: store, fetch: counter.fetch });
    const { user, pair } = await signedIn(api);

    await revokeAccessToken(pair.access_token);
    const [byId, pages] = await Promise.all([
      Promise.all(Array.from({ length: 5 }, () => api.userById({ id: user.id_user }))),
      Promise.all(Array.from({ length: 5 }, () => api.listUsers({ limit: 1 }))),
    ]);
    expect(byId).toEqual(Array(5).fill(user));
    expect(new Set(pages.map((page) => JSON.stringify(page))).size).toBe(1);
    expect(pages[0]?.items).toHaveLength(1);
    expect(counter.count()).toBe(1);

    // Two refreshes with one token would have been taken for theft and ended the session; it lives on.
    const rotated = await api.refresh();
    expect(counter.count()).toBe(2);
    expect(await api.userById({ id: user.id_user })).toEqual(user);
    expect(await accessStatus(rotated.access_token)).toBe(200);
  });

  it('lets an explicit refresh join the automatic one', async () => {
    const counter = countingFetch(refreshPath[transport]);
    const api = make({ fetch: counter.fetch });
    const { user, pair } = await signedIn(api);

    await revokeAccessToken(pair.access_token);
    const [listed, refreshed, again] = await Promise.all([
      api.listUsers({ limit: 1 }),
      api.refresh(),
      api.userById({ id: user.id_user }),
    ]);
    expect(listed.items).toHaveLength(1);
    expect(refreshed.token_type).toBe('Bearer');
    expect(again).toEqual(user);
    expect(counter.count()).toBe(1);
  });

  it('keeps the session after revokeAccessToken (the next call renews the pair), clears it on logoutRefresh', async () => {
    const store = memoryTokenStore();
    const expired = vi.fn();
    const counter = countingFetch(refreshPath[transport]);
    const api = make({ tokenStore: store, fetch: counter.fetch, onSessionExpired: expired });
    const { pair } = await signedIn(api);

    // DELETE /logout revokes that access token only: no sign-out, so the client renews and goes on.
    await api.logout();
    expect(await accessStatus(pair.access_token)).toBe(401);
    expect((await api.listUsers({})).items.length).toBeGreaterThan(0);
    expect(counter.count()).toBe(1);
    expect((store.get() as Tokens).access_token).not.toBe(pair.access_token);

    // Ending the session is the sign-out: the store is cleared, and later calls do not try to refresh.
    await api.logoutRefresh();
    expect(store.get()).toBeNull();
    await expect(api.listUsers({})).rejects.toMatchObject({ status: 401, code: 'AUTH_REQUIRED' });
    // With no session, there is nothing to expire: the refusal is thrown, the callback stays quiet.
    await expect(api.refresh()).rejects.toMatchObject({ status: 401, code: 'AUTH_REQUIRED' });
    expect(expired).not.toHaveBeenCalled();
    // The one renewal, and the refresh asked for above (sent without a token): no attempt of the client's own.
    expect(counter.count()).toBe(2);
  });

  it('surfaces a refused refresh: store cleared, onSessionExpired called once, the calls reject', async () => {
    const store = memoryTokenStore();
    const expired = vi.fn();
    const counter = countingFetch(refreshPath[transport]);
    const api = make({ tokenStore: store, fetch: counter.fetch, onSessionExpired: expired });
    await signedIn(api);
    const stolen = store.get() as Tokens;

    // Someone else spends the refresh token first; the client's own refresh is then a replay.
    await spendRefreshToken(stolen.refresh_token);
    await revokeAccessToken(stolen.access_token);
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => api.listUsers({})));

    for (const result of results) {
      expect(result.status).toBe('rejected');
      const reason = (result as PromiseRejectedResult).reason;
      expect(reason).toBeInstanceOf(ApiError);
      expect(reason).toMatchObject({ status: 401, code: 'TOKEN_REVOKED' });
    }
    expect(counter.count()).toBe(1);
    expect(store.get()).toBeNull();
    expect(expired).toHaveBeenCalledTimes(1);
    const [error] = expired.mock.calls[0] as [ApiError];
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 401, code: 'TOKEN_REVOKED', msg: expect.stringContaining('already used') });
    expect(results.map((r) => (r as PromiseRejectedResult).reason)).toContain(error);
  });
});

describe('clients sharing a token store', () => {
  it('share one session and one refresh across REST and tRPC', async () => {
    const store = memoryTokenStore();
    const counter = countingFetch('refresh');
    const rest = transports.rest({ baseUrl: apiUrl(), tokenStore: store, fetch: counter.fetch });
    const trpc = transports.trpc({ baseUrl: apiUrl(), tokenStore: store, fetch: counter.fetch });
    const { user, pair } = await signedIn(rest);

    await revokeAccessToken(pair.access_token);
    const [restPage, trpcPage, ...byId] = await Promise.all([
      rest.listUsers({ limit: 1 }),
      trpc.listUsers({ limit: 1 }),
      rest.userById({ id: user.id_user }),
      trpc.userById({ id: user.id_user }),
    ]);
    expect(trpcPage).toEqual(restPage);
    expect(restPage.items).toHaveLength(1);
    expect(byId).toEqual([user, user]);
    expect(counter.count()).toBe(1);
    expect(await trpc.userById({ id: user.id_user })).toEqual(user);
  });
});
