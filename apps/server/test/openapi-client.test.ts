import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.js';
import { startIsolatedServer, type TestServer, uniqueLogin } from './support/server.js';

const CLIENT = fileURLToPath(new URL('./clients/openapi_client.py', import.meta.url));

/** A user of another language: a Python client that learns every operation from the served document alone. */
describeEachDatabase('a client generated from the OpenAPI document', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startIsolatedServer(dialect);
  });
  afterAll(() => server.close());

  it('registers, signs in, lists and reads users in Python', async () => {
    const login = uniqueLogin('python');
    const { stdout } = await promisify(execFile)('python3', [CLIENT, server.url, login]);
    const out = JSON.parse(stdout);
    expect(out.operations).toEqual([
      'introspect',
      'listUsers',
      'login',
      'logout',
      'logoutRefresh',
      'refresh',
      'register',
      'userById',
    ]);
    expect(out.register).toEqual([201, expect.objectContaining({ login, user_name: 'Py Thon', user_role: 2 })]);
    expect(out.login).toEqual([200, ['access_token', 'expires_in', 'refresh_token', 'token_type']]);
    expect(out.listUsers).toBe(200);
    expect(out.userById).toEqual([200, out.register[1]]);
    expect(out.missing).toEqual([404, { code: 'NOT_FOUND', msg: expect.any(String) }]);
  });
});
