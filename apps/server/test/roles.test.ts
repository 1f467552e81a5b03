import { afterEach, beforeEach, expect, it, onTestFinished } from 'vitest';
import { describeEachDatabase, rowCounts } from './support/databases.js';
import { restClient } from './support/http.js';
import { type IsolatedServer, startIsolatedServer, startServer, uniqueLogin } from './support/server.js';
import { claimsOf } from './support/tokens.js';

const password = 'a fine long password';
const newUser = (role?: number) => ({
  user_name: 'Someone',
  login: uniqueLogin('role'),
  password,
  ...(role ? { user_role: role } : {}),
});

describeEachDatabase('roles', (dialect) => {
  let server: IsolatedServer;
  let api: ReturnType<typeof restClient>;
  beforeEach(async () => {
    server = await startIsolatedServer(dialect);
    api = restClient(server.url);
  });
  afterEach(() => server.close());

  it('lets the first account of an empty database be admin, and nobody after it without an admin token', async () => {
    const first = await api.register(newUser(1));
    expect(first.status).toBe(201);
    expect(first.body.user_role).toBe(1);

    const second = await api.register(newUser(1));
    expect(second.status).toBe(403);
    expect(second.body.code).toBe('FORBIDDEN');

    const plain = await api.register(newUser());
    expect(plain.body.user_role).toBe(2);
    const userToken = (await api.login(plain.body.login, password)).body.access_token;
    expect((await api.register(newUser(1), userToken)).status).toBe(403);

    const adminToken = (await api.login(first.body.login, password)).body.access_token;
    const made = await api.register(newUser(1), adminToken);
    expect(made.status).toBe(201);
    expect(made.body.user_role).toBe(1);
    expect((await api.login(made.body.login, password)).status).toBe(200);
  });

  it('reads the role from the database: a role change counts at once, on every instance', async () => {
    const admin = await api.signUp(uniqueLogin('admin'), password, 1);
    const setRole = (user_role: number) =>
      server.app.database.db
        .updateTable('users')
        .set({ user_role })
        .where('id_user', '=', admin.user.id_user)
        .execute();
    const roleIn = (token: string) => claimsOf(token).role as number;
    expect((await api.register(newUser(1), admin.tokens.access_token)).status).toBe(201);

    await setRole(2);
    // The access token still claims role 1; the database says otherwise, and wins.
    expect(roleIn(admin.tokens.access_token)).toBe(1);
    expect((await api.register(newUser(1), admin.tokens.access_token)).status).toBe(403);
    const other = await startServer(server.database.url);
    onTestFinished(() => other.close());
    const demoted = await restClient(other.url).call('POST', '/refresh', { token: admin.tokens.refresh_token });
    expect(demoted.status).toBe(200);
    expect(roleIn(demoted.body.access_token)).toBe(2);

    await setRole(1);
    const promoted = await api.call('POST', '/refresh', { token: demoted.body.refresh_token });
    expect(roleIn(promoted.body.access_token)).toBe(1);
    expect((await restClient(other.url).register(newUser(1), demoted.body.access_token)).status).toBe(201);
  });

  it('lets exactly one of many racing first accounts become admin', async () => {
    const replies = await Promise.all(Array.from({ length: 8 }, () => api.register(newUser(1))));
    expect(replies.filter((r) => r.status === 201)).toHaveLength(1);
    expect(replies.filter((r) => r.status === 403)).toHaveLength(7);
    expect(await rowCounts(server.database.url)).toMatchObject({ users: 1, admin_bootstrap: 1 });
  });
});
