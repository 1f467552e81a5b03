import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase, useTestDatabase } from './support/databases.js';
import { restClient } from './support/http.js';
import { startServer, type TestServer, uniqueLogin } from './support/server.js';

describeEachDatabase('two instances on one database', (dialect) => {
  const database = useTestDatabase(dialect);
  let a: TestServer;
  let b: TestServer;
  let root: { access_token: string };
  beforeAll(async () => {
    // Both run migrations at start, at the same time: the migration lock lets exactly one apply them.
    [a, b] = await Promise.all([startServer(database.url), startServer(database.url)]);
    // The first account of the empty database makes itself admin.
    root = (await restClient(a.url).signUp(uniqueLogin('root'), 'a fine long password', 1)).tokens;
  });
  afterAll(async () => {
    await Promise.all([a.close(), b.close()]);
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

  it('refuses at once, on the other instance, the admin rights of an admin demoted through one', async () => {
    const apiA = restClient(a.url);
    const apiB = restClient(b.url);
    const admin = await apiA.signUp(uniqueLogin('admin'), 'a fine long password', 1, root.access_token);
    expect((await apiB.call('GET', '/audit?limit=1', { token: admin.tokens.access_token })).status).toBe(200);

    const demoted = await apiA.call('PATCH', `/users/${admin.user.id_user}`, {
      json: { user_role: 2 },
      token: root.access_token,
    });
    expect(demoted.body.user_role).toBe(2);
    // The token still claims role 1; the demotion ended its session, on every instance.
    const refused = await apiB.call('GET', '/audit?limit=1', { token: admin.tokens.access_token });
    expect([refused.status, refused.body.code]).toEqual([401, 'TOKEN_REVOKED']);
    expect((await apiB.call('POST', '/refresh', { token: admin.tokens.refresh_token })).body.code).toBe(
      'TOKEN_REVOKED',
    );
    // Signed in again, it holds a user's rights only.
    const again = (await apiB.login(admin.user.login, 'a fine long password')).body;
    expect((await apiB.call('GET', '/audit', { token: again.access_token })).body.code).toBe('FORBIDDEN');
  });

  it('stops a disabled user’s tokens at once on the other instance', async () => {
    const apiA = restClient(a.url);
    const apiB = restClient(b.url);
    const { user, tokens } = await apiA.signUp(uniqueLogin('disabled'));
    expect((await apiB.call('GET', '/me', { token: tokens.access_token })).status).toBe(200);
    await apiA.call('PATCH', `/users/${user.id_user}`, { json: { disabled: true }, token: root.access_token });
    expect((await apiB.call('GET', '/me', { token: tokens.access_token })).body.code).toBe('TOKEN_REVOKED');
    expect((await apiB.call('POST', '/refresh', { token: tokens.refresh_token })).body.code).toBe('TOKEN_REVOKED');
    expect((await apiB.login(user.login, 'a fine long password')).body.code).toBe('ACCOUNT_DISABLED');
  });
});
