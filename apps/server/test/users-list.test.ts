import { randomBytes } from 'node:crypto';
import { TRPC_PREFIX } from '@api-users/contract';
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
    // A word of their own in every name, so the searches here see only this run's accounts.
    const mark = `m${randomBytes(3).toString('hex')}`;
    const ids: Record<string, number> = {};
    beforeAll(async () => {
      send = operationClient(server.url, transport);
      const names = {
        adne: `Ådne Ørsted ${mark}`,
        asa: `ÅSA BERG ${mark}`,
        zoe: `Zoë Ünal ${mark}`,
        percent: `100% sure_${mark}`,
        admin: `Ada Admin ${mark}`,
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

    it('finds names and logins by any part, whatever the case, on MySQL and SQLite alike', async () => {
      expect(await list({ q: mark.toUpperCase() })).toEqual(idsOf('adne', 'asa', 'zoe', 'percent', 'admin'));
      expect(await list({ q: `åsa berg ${mark}` })).toEqual(idsOf('asa'));
      expect(await list({ q: `ØRSTED ${mark}` })).toEqual(idsOf('adne'));
      expect(await list({ q: `ZOË ÜNAL ${mark}` })).toEqual(idsOf('zoe'));
      // Fullwidth letters fold as logins do.
      expect(await list({ q: `ｚｏë ünal ${mark}` })).toEqual(idsOf('zoe'));
      // Part of a login (stored folded).
      expect(await list({ q: `${mark}.PERCENT` })).toEqual(idsOf('percent'));
      // No wildcards: % and _ are only themselves.
      expect(await list({ q: `% sure_${mark}` })).toEqual(idsOf('percent'));
      expect(await list({ q: `%${mark}` })).toEqual([]);
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
