import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { operationNames, REST_PREFIX } from '@api-users/contract';
import createClient from 'openapi-fetch';
import { expect, it } from 'vitest';
import { OPENAPI_PATH } from '../src/http/adapters/openapi.js';
import type { paths } from './clients/openapi-schema.gen.js';
import { describeEachDatabase } from './support/databases.js';
import { uniqueLogin, useIsolatedServer } from './support/server.js';

const PYTHON_CLIENT = fileURLToPath(new URL('./clients/openapi_client.py', import.meta.url));

/** Users of other tools: clients that know nothing of this project but the served OpenAPI document. */
describeEachDatabase('clients generated from the OpenAPI document', (dialect) => {
  const server = useIsolatedServer(dialect);

  it('registers, signs in, lists and reads users in Python (stdlib only, built at run time)', async () => {
    const login = uniqueLogin('python');
    const { stdout } = await promisify(execFile)('python3', [PYTHON_CLIENT, server.url + OPENAPI_PATH, login]);
    const out = JSON.parse(stdout);
    // The client built a method for every operation of the table, from the document alone.
    // The table's operations, and the service endpoints at the root.
    expect(out.operations).toEqual([...operationNames, 'health', 'jwks', 'metrics', 'readiness'].sort());
    expect(out.register).toEqual([
      201,
      expect.objectContaining({ login, user_name: 'Py Thon', user_role: 2, disabled: false }),
    ]);
    expect(out.login).toEqual([200, ['access_token', 'device_token', 'expires_in', 'refresh_token', 'token_type']]);
    expect(out.listUsers).toBe(200);
    expect(out.userById).toEqual([200, out.register[1]]);
    expect(out.missing).toEqual([404, { code: 'NOT_FOUND', msg: expect.any(String) }]);
  });

  it('runs the whole flow through openapi-typescript types and openapi-fetch', async () => {
    // test/clients/openapi-schema.gen.ts is openapi-typescript's output for the committed document
    // (`pnpm --filter @api-users/server run openapi`); this file's type check runs against it.
    const api = createClient<paths>({ baseUrl: server.url + REST_PREFIX });
    const password = 'generated clients welcome';
    const logins = [uniqueLogin('fetch'), uniqueLogin('fetch')];
    const users = [];
    for (const login of logins) {
      const { data, response } = await api.POST('/register', { body: { user_name: 'Open Fetch', login, password } });
      expect(response.status).toBe(201);
      users.push(data);
    }
    const taken = await api.POST('/register', { body: { user_name: 'Again', login: logins[0] as string, password } });
    expect(taken.response.status).toBe(409);
    expect(taken.error?.code).toBe('LOGIN_TAKEN');

    const signIn = await api.POST('/login', { body: { login: logins[0] as string, password } });
    const pair = signIn.data;
    // An account with a second factor would answer the challenge instead (mfa_required): not this one.
    if (!pair || 'mfa_required' in pair) throw new Error(`login answered ${signIn.response.status}`);
    const access = { headers: { Authorization: `Bearer ${pair.access_token}` } };

    // Every page's next_cursor goes back in as it came; null (the first page's) included.
    const listPage = (cursor: string | null) =>
      api.GET('/users', { params: { query: { limit: 1, cursor } }, ...access });
    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await listPage(cursor);
      if (!page.data) throw new Error(`list answered ${page.response.status}`);
      seen.push(...page.data.items.map((user) => user.id_user));
      cursor = page.data.next_cursor;
    } while (cursor !== null);
    expect(seen).toEqual(expect.arrayContaining(users.map((user) => user?.id_user)));

    const one = await api.GET('/users/{id}', { params: { path: { id: users[1]?.id_user as number } }, ...access });
    expect(one.data).toEqual(users[1]);
    const missing = await api.GET('/users/{id}', { params: { path: { id: 2_147_483_647 } }, ...access });
    expect([missing.response.status, missing.error?.code]).toEqual([404, 'NOT_FOUND']);

    // The refresh token goes where the document's refreshToken scheme says, and nowhere else.
    const renewed = await api.POST('/refresh', { headers: { Authorization: `Bearer ${pair.refresh_token}` } });
    expect(renewed.response.status).toBe(200);
    const withAccess = await api.POST('/refresh', access);
    expect([withAccess.response.status, withAccess.error?.code]).toEqual([401, 'WRONG_TOKEN_TYPE']);
    const next = renewed.data;
    if (!next) throw new Error('refresh gave no pair');
    const out = await api.DELETE('/logout', { headers: { Authorization: `Bearer ${next.access_token}` } });
    expect(out.data).toEqual({ msg: 'Access token revoked' });
    const ended = await api.DELETE('/logout2', { headers: { Authorization: `Bearer ${next.refresh_token}` } });
    expect(ended.data).toEqual({ msg: 'Refresh token revoked' });
    const after = await api.POST('/refresh', { headers: { Authorization: `Bearer ${next.refresh_token}` } });
    expect([after.response.status, after.error?.code]).toEqual([401, 'TOKEN_REVOKED']);
  });
});
