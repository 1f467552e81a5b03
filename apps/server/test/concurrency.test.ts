import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, rowCounts } from './support/databases.js';
import { restClient } from './support/http.js';
import { uniqueLogin, useIsolatedServer } from './support/server.js';

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
