import { randomBytes } from 'node:crypto';
import { foldText, TRPC_PREFIX } from '@api-users/contract';
import { nameForSearch } from '@api-users/db';
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { databaseReader, describeEachDatabase } from './support/databases.js';
import { call, type Reply, restClient } from './support/http.js';
import { type OperationClient, operationClient, transports } from './support/operations.js';
import { startIsolatedServer, uniqueLogin, useIsolatedServer } from './support/server.js';

const PASSWORD = 'a fine long password';

describeEachDatabase('listing users with filters', (dialect) => {
  const server = useIsolatedServer(dialect);
  let adminToken: string;
  beforeAll(async () => {
    adminToken = (await restClient(server.url).signUp(uniqueLogin('lister'), PASSWORD, 1)).tokens.access_token;
  });

  describe.each(transports)('over %s', (transport) => {
    let send: OperationClient;
    // A word of their own at the start of every name and login, so the searches here see only this run's accounts.
    const mark = `m${randomBytes(3).toString('hex')}`;
    const ids: Record<string, number> = {};
    beforeAll(async () => {
      send = operationClient(server.url, transport);
      const names = {
        adne: `${mark} Ådne Ørsted`,
        asa: `${mark} ÅSA BERG`,
        zoe: `${mark} Zoë Ünal`,
        percent: `${mark} 100% sure_`,
        admin: `${mark} Ada Admin`,
      };
      for (const [key, user_name] of Object.entries(names)) {
        const login = uniqueLogin(`${mark}.${key}`);
        const reply = await send(
          'register',
          { user_name, login, password: PASSWORD, ...(key === 'admin' ? { user_role: 1 as const } : {}) },
          { token: adminToken },
        );
        ids[key] = reply.body.id_user;
      }
      await send('updateUser', { id: ids.zoe as number, disabled: true }, { token: adminToken });
    });

    const list = async (input: Record<string, unknown>) => {
      const reply = await send('listUsers', { limit: 100, ...input }, { token: adminToken });
      expect(reply.status).toBe(200);
      return (reply.body.items as { id_user: number }[]).map((user) => user.id_user);
    };
    const idsOf = (...keys: string[]) => keys.map((key) => ids[key]);

    it('finds the names and logins that start with the text, whatever the case, on every database alike', async () => {
      expect(await list({ q: mark.toUpperCase() })).toEqual(idsOf('adne', 'asa', 'zoe', 'percent', 'admin'));
      expect(await list({ q: `${mark} åsa berg` })).toEqual(idsOf('asa'));
      expect(await list({ q: `${mark} ÅDNE ØR` })).toEqual(idsOf('adne'));
      expect(await list({ q: `${mark} ZOË ÜNAL` })).toEqual(idsOf('zoe'));
      // Fullwidth letters fold as logins do.
      expect(await list({ q: `${mark} ｚｏë ünal` })).toEqual(idsOf('zoe'));
      // The start of a login (stored folded).
      expect(await list({ q: `${mark}.PERCENT` })).toEqual(idsOf('percent'));
      // A prefix, not any part: the middle of a name or a login finds nothing.
      expect(await list({ q: 'Ørsted' })).not.toContain(ids.adne);
      expect(await list({ q: mark.slice(1) })).toEqual([]);
      // No wildcards: % and _ are only themselves.
      expect(await list({ q: `${mark} 100% sure_` })).toEqual(idsOf('percent'));
      expect(await list({ q: `${mark} 100_` })).toEqual([]);
      expect(await list({ q: `${mark.slice(0, -1)}%` })).toEqual([]);
    });

    it('narrows by role and by disabled, alone or together, and pages through the result', async () => {
      expect(await list({ q: mark, role: 1 })).toEqual(idsOf('admin'));
      expect(await list({ q: mark, role: 2 })).toEqual(idsOf('adne', 'asa', 'zoe', 'percent'));
      expect(await list({ q: mark, disabled: true })).toEqual(idsOf('zoe'));
      expect(await list({ q: mark, disabled: false, role: 2 })).toEqual(idsOf('adne', 'asa', 'percent'));
      const disabledEverywhere = await list({ disabled: true });
      expect(disabledEverywhere).toContain(ids.zoe);
      const admins = await list({ role: 1 });
      expect(admins).toContain(ids.admin);
      expect(admins).not.toContain(ids.asa);

      const paged: number[] = [];
      let cursor: string | null = null;
      do {
        const page: Reply = await send(
          'listUsers',
          { limit: 2, q: mark, role: 2, ...(cursor ? { cursor } : {}) },
          { token: adminToken },
        );
        expect(page.body.items.length).toBeLessThanOrEqual(2);
        paged.push(...page.body.items.map((user: { id_user: number }) => user.id_user));
        cursor = page.body.next_cursor;
      } while (cursor !== null);
      expect(paged).toEqual(idsOf('adne', 'asa', 'zoe', 'percent'));
    });

    it('refuses filters that are not valid', async () => {
      for (const input of [{ q: '' }, { q: '   ' }, { q: 'x'.repeat(101) }, { role: 3 }, { disabled: 'maybe' }]) {
        const reply = await send('listUsers', input as never, { token: adminToken });
        expect({ input, status: reply.status, code: reply.body.code }).toEqual({
          input,
          status: 400,
          code: 'VALIDATION_FAILED',
        });
      }
    });
  });
});

describe('USERS_READABLE_BY=admins', () => {
  it('lets users read only their own account, and admins every one', async () => {
    const server = await startIsolatedServer('sqlite', { USERS_READABLE_BY: 'admins' });
    onTestFinished(() => server.close());
    const api = restClient(server.url);
    const admin = await api.signUp(uniqueLogin('reader.admin'), PASSWORD, 1);
    const user = await api.signUp(uniqueLogin('reader.user'), PASSWORD);
    const asUser = { token: user.tokens.access_token };
    expect((await api.call('GET', '/users', asUser)).body.code).toBe('FORBIDDEN');
    expect((await api.call('GET', `/users/${admin.user.id_user}`, asUser)).body.code).toBe('FORBIDDEN');
    expect((await api.call('GET', `/users/${user.user.id_user}`, asUser)).status).toBe(200);
    expect((await api.call('GET', '/me', asUser)).status).toBe(200);
    const asAdmin = { token: admin.tokens.access_token };
    expect((await api.call('GET', '/users', asAdmin)).body.items).toHaveLength(2);
    expect((await api.call('GET', `/users/${user.user.id_user}`, asAdmin)).status).toBe(200);
  });
});

describeEachDatabase('REGISTRATION=admins', (dialect) => {
  const server = useIsolatedServer(dialect, { REGISTRATION: 'admins' });
  const closed = { code: 'FORBIDDEN', msg: 'Registration is closed here: an admin creates accounts' };
  const reader = databaseReader(() => server.database.url);

  it('lets the first admin in, then only admins create accounts; a refusal creates nothing', async () => {
    const api = restClient(server.url);
    const newcomer = { user_name: 'Newcomer', login: uniqueLogin('closed.newcomer'), password: PASSWORD };
    // Before there is an admin, a plain account is refused too: the first account must be the admin.
    expect((await api.register(newcomer)).body).toEqual(closed);
    const admin = await api.signUp(uniqueLogin('closed.admin'), PASSWORD, 1);
    expect((await api.register(newcomer)).body).toEqual(closed);
    const before = await reader.rowCounts();
    const created = await api.register(newcomer, admin.tokens.access_token);
    expect(created.status).toBe(201);
    expect((await reader.rowCounts()).users).toBe(before.users + 1);
    // A signed-in user who is no admin cannot open it either, nor over tRPC.
    const user = (await api.login(newcomer.login, PASSWORD)).body;
    const another = { user_name: 'Another', login: uniqueLogin('closed.another'), password: PASSWORD };
    expect((await api.register(another, user.access_token)).body).toEqual(closed);
    const trpc = await call(server.url, 'POST', `${TRPC_PREFIX}/auth.register`, { json: another });
    expect(trpc.status).toBe(403);
    expect((await reader.rowCounts()).users).toBe(before.users + 1);
  });
});

describeEachDatabase('searching by prefix at scale', (dialect) => {
  const server = useIsolatedServer(dialect);
  const reader = databaseReader(() => server.database.url);
  let token: string;
  type Row = { id_user: number; login: string; user_name_search: string; user_role: number; disabled: number };
  let rows: Row[];

  beforeAll(async () => {
    token = (await restClient(server.url).signUp(uniqueLogin('searcher'), PASSWORD, 1)).tokens.access_token;
    // 1,200 accounts whose login and name both start with "alpha" (a page's worth in the first window), 1,000
    // others, then 200 whose names mix scripts, astral characters and the code point before the surrogates,
    // among which "alpha" comes back 1 in 8: more than the search's first window of ids away from the cursor.
    const tail = ['Émile', 'émilie', 'Zoë', '😀 Smile', '\uD7FF edge', 'Alpha late', 'ｚｚ wide', 'Ω'];
    const name = (i: number) =>
      i < 1200 ? `Alpha Team ${i}` : i < 2200 ? `Common ${i}` : `${tail[i % tail.length]} ${i}`;
    const login = (i: number) => (i < 1200 ? `alpha.${i}` : i < 2200 ? `beta.${i}` : `gamma.${i}`);
    await reader.read(async (db) => {
      for (let from = 0; from < 2400; from += 400) {
        await db
          .insertInto('users')
          .values(
            Array.from({ length: 400 }, (_, k) => from + k).map((i) => ({
              user_name: name(i),
              user_name_search: nameForSearch(name(i)),
              login: login(i),
              password_hash: 'not a hash: these accounts never sign in',
              user_role: i % 50 === 0 ? 1 : 2,
              disabled: i % 3 === 0 ? 1 : 0,
              created_at: Date.now(),
            })),
          )
          .execute();
      }
      rows = (await db
        .selectFrom('users')
        .select(['id_user', 'login', 'user_name_search', 'user_role', 'disabled'])
        .orderBy('id_user')
        .execute()) as Row[];
    });
  });

  /** Every page of a search, following the cursors. */
  const search = async (input: Record<string, unknown>, limit: number) => {
    const send = operationClient(server.url, 'rest');
    const found: number[] = [];
    let cursor: string | null = null;
    do {
      const page: Reply = await send('listUsers', { ...input, limit, ...(cursor ? { cursor } : {}) } as never, {
        token,
      });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(limit);
      found.push(...page.body.items.map((user: { id_user: number }) => user.id_user));
      cursor = page.body.next_cursor;
    } while (cursor !== null);
    return found;
  };

  /** What the search must answer: the rows whose login or folded name starts with the folded text, by id. */
  const expected = (q: string, filter: (row: Row) => boolean = () => true) => {
    const prefix = foldText(q.trim());
    return rows
      .filter((row) => row.login.startsWith(prefix) || row.user_name_search.startsWith(prefix))
      .filter(filter)
      .map((row) => row.id_user);
  };

  it.each([
    ['alpha', 100],
    ['ALPHA', 37],
    ['alpha.1', 100],
    ['alpha team 11', 100],
    ['common 1', 100],
    ['gamma', 100],
    ['É', 7],
    ['émil', 100],
    ['😀', 100],
    ['\uD7FF', 100],
    ['ｚｚ', 100],
    ['zz', 100],
    ['ω', 100],
    // The highest code point has nothing after it: the range has no upper end.
    ['\u{10FFFF}', 100],
    ['alpha\u{10FFFF}', 100],
    ['no such prefix', 100],
  ])('answers %j exactly as the rows say, page by page (limit %i)', async (q, limit) => {
    const want = expected(q);
    expect(await search({ q }, limit)).toEqual(want);
  });

  it('narrows a search by role and disabled on either way of searching', async () => {
    expect(await search({ q: 'alpha', role: 1 }, 10)).toEqual(expected('alpha', (row) => row.user_role === 1));
    expect(await search({ q: 'alpha', disabled: true }, 100)).toEqual(expected('alpha', (row) => row.disabled === 1));
    expect(await search({ q: 'gamma', disabled: false, role: 2 }, 30)).toEqual(
      expected('gamma', (row) => row.disabled === 0 && row.user_role === 2),
    );
  });
});
