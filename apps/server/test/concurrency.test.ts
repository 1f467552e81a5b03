import { connect } from '@api-users/db';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, rowCounts, useTestDatabase } from './support/databases.js';
import { restClient } from './support/http.js';
import { startServer, type TestServer, uniqueLogin, useIsolatedServer } from './support/server.js';

describeEachDatabase('concurrency', (dialect) => {
  const server = useIsolatedServer(dialect);
  let api: ReturnType<typeof restClient>;
  beforeAll(async () => {
    api = restClient(server.url);
  });

  it('turns 200 concurrent registrations of one login into one user and 199 clean 409s', async () => {
    const login = uniqueLogin('race');
    const before = await rowCounts(server.database.url);
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        api.register({ user_name: `Racer ${i}`, login, password: 'racing password' }),
      ),
    );
    const statuses = replies.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(199);
    expect(new Set(replies.filter((r) => r.status === 409).map((r) => r.body.code))).toEqual(new Set(['LOGIN_TAKEN']));
    expect((await rowCounts(server.database.url)).users).toBe((before.users ?? 0) + 1);
  });

  it('lets exactly one of many concurrent refreshes with one token win', async () => {
    const { tokens } = await api.signUp(uniqueLogin('refresh.race'));
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => api.call('POST', '/refresh', { token: tokens.refresh_token })),
    );
    expect(replies.filter((r) => r.status === 200)).toHaveLength(1);
    expect(replies.filter((r) => r.status === 401 && r.body.code === 'TOKEN_REVOKED')).toHaveLength(19);
  });
});

describeEachDatabase('concurrent demotions', (dialect) => {
  const database = useTestDatabase(dialect);
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    [a, b] = await Promise.all([startServer(database.url), startServer(database.url)]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
  });

  it('leaves exactly one enabled admin after 50 concurrent demotions of the last two, on two instances', async () => {
    const [apiA, apiB] = [restClient(a.url), restClient(b.url)];
    const first = await apiA.signUp(uniqueLogin('first.admin'), 'a fine long password', 1);
    const second = await apiA.signUp(uniqueLogin('second.admin'), 'a fine long password', 1, first.tokens.access_token);
    const admins = [first, second];
    // Each admin demotes the other and itself, through both instances, all at once.
    const replies = await Promise.all(
      Array.from({ length: 50 }, (_, i) => {
        const caller = admins[i % 2] as (typeof admins)[number];
        const target = admins[Math.floor(i / 2) % 2] as (typeof admins)[number];
        return (i % 4 < 2 ? apiA : apiB).call('PATCH', `/users/${target.user.id_user}`, {
          json: { user_role: 2 },
          token: caller.tokens.access_token,
        });
      }),
    );
    const outcomes = new Set(replies.map((r) => `${r.status} ${r.body.code ?? ''}`.trim()));
    expect(
      [...outcomes].every((o) => ['200', '409 LAST_ADMIN', '401 TOKEN_REVOKED', '403 FORBIDDEN'].includes(o)),
    ).toBe(true);
    expect(replies.filter((r) => r.status === 200).length).toBeGreaterThan(0);
    const { db } = connect(database.url);
    try {
      const enabledAdmins = await db
        .selectFrom('users')
        .select('id_user')
        .where('user_role', '=', 1)
        .where('disabled', '=', 0)
        .execute();
      expect(enabledAdmins).toHaveLength(1);
    } finally {
      await db.destroy();
    }
  });
});
