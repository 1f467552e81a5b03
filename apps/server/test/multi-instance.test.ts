import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from './support/databases.js';
import { restClient } from './support/http.js';
import { startServer, type TestServer, uniqueLogin } from './support/server.js';

describeEachDatabase('two instances on one database', (dialect) => {
  let database: TestDatabase;
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    // Both run migrations at start, at the same time: the migration lock lets exactly one apply them.
    [a, b] = await Promise.all([startServer(database.url), startServer(database.url)]);
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
    await database.drop();
  });

  it('refuses at once, on the other instance, a token revoked through one', async () => {
    const apiA = restClient(a.url);
    const apiB = restClient(b.url);
    const { user, tokens } = await apiA.signUp(uniqueLogin('multi'));
    expect((await apiB.call('GET', `/users/${user.id_user}`, { token: tokens.access_token })).status).toBe(200);

    expect((await apiA.call('DELETE', '/logout', { token: tokens.access_token })).status).toBe(200);
    const refused = await apiB.call('GET', `/users/${user.id_user}`, { token: tokens.access_token });
    expect(refused.status).toBe(401);
    expect(refused.body.code).toBe('TOKEN_REVOKED');

    // Rotation on B makes the old refresh token a replay on A, which ends the session everywhere.
    const rotated = await apiB.call('POST', '/refresh', { token: tokens.refresh_token });
    expect(rotated.status).toBe(200);
    expect((await apiA.call('POST', '/refresh', { token: tokens.refresh_token })).body.code).toBe('TOKEN_REVOKED');
    expect((await apiB.call('GET', '/users', { token: rotated.body.access_token })).body.code).toBe('TOKEN_REVOKED');

    // logout2 through B ends a session A issued.
    const pair = (await apiA.login(user.login, 'a fine long password')).body;
    expect((await apiB.call('DELETE', '/logout2', { token: pair.refresh_token })).status).toBe(200);
    expect((await apiA.call('GET', '/users', { token: pair.access_token })).body.code).toBe('TOKEN_REVOKED');
  });
});
