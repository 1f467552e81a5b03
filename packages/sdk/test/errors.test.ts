import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test-support/spawn-server.js';
import { ApiError, type ClientOptions, createTrpcClient, REST_PREFIX, TRPC_PREFIX } from '../src/index.js';
import { apiUrl, PASSWORD, uniqueLogin } from './support/helpers.js';
import { type Calls, transports } from './support/transports.js';

/** Runs the same failing call on both transports and returns the two errors. */
async function failOnBoth(
  options: Omit<ClientOptions, 'baseUrl'> & { baseUrl?: string },
  call: (api: Calls) => Promise<unknown>,
): Promise<[ApiError, ApiError]> {
  const errors = await Promise.all(
    [transports.rest, transports.trpc].map(async (make) => {
      const error = await call(make({ baseUrl: apiUrl(), ...options })).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(ApiError);
      return error as ApiError;
    }),
  );
  return errors as [ApiError, ApiError];
}

const fields = (err: ApiError) => ({
  name: err.name,
  message: err.message,
  status: err.status,
  code: err.code,
  msg: err.msg,
  issues: err.issues,
});

/** Both transports agree, field for field, and the error is the one expected. */
async function expectSameError(
  call: (api: Calls) => Promise<unknown>,
  expected: Partial<ReturnType<typeof fields>>,
  options: Omit<ClientOptions, 'baseUrl'> = {},
): Promise<void> {
  const [rest, trpc] = await failOnBoth(options, call);
  expect(fields(rest)).toEqual(fields(trpc));
  expect(fields(rest)).toMatchObject({ name: 'ApiError', ...expected });
}

describe('ApiError, the same on both transports', () => {
  it('VALIDATION_FAILED carries the issues', async () => {
    await expectSameError((api) => api.register({ user_name: 'Shorty', login: uniqueLogin(), password: 'short' }), {
      status: 400,
      code: 'VALIDATION_FAILED',
      msg: 'The request is not valid',
      issues: [{ path: 'password', message: expect.any(String) }],
    });
    await expectSameError(
      async (api) => {
        const login = uniqueLogin();
        await api.register({ user_name: 'Valid', login, password: PASSWORD });
        await api.login({ login, password: PASSWORD });
        return api.userById({ id: 0 });
      },
      { status: 400, code: 'VALIDATION_FAILED', issues: [{ path: 'id', message: expect.any(String) }] },
    );
  });

  it('BAD_CREDENTIALS, LOGIN_TAKEN and FORBIDDEN', async () => {
    const login = uniqueLogin();
    await transports.rest({ baseUrl: apiUrl() }).register({ user_name: 'Taken', login, password: PASSWORD });
    await expectSameError((api) => api.login({ login, password: 'not the password' }), {
      status: 401,
      code: 'BAD_CREDENTIALS',
      msg: 'Wrong login or password',
    });
    await expectSameError((api) => api.register({ user_name: 'Again', login, password: PASSWORD }), {
      status: 409,
      code: 'LOGIN_TAKEN',
    });
    // The database is not empty (see above), so no anonymous caller may create an admin.
    await expectSameError(
      (api) => api.register({ user_name: 'Boss', login: uniqueLogin(), password: PASSWORD, user_role: 1 }),
      {
        status: 403,
        code: 'FORBIDDEN',
      },
    );
  });

  it('NOT_FOUND and AUTH_REQUIRED', async () => {
    await expectSameError(
      async (api) => {
        const login = uniqueLogin();
        await api.register({ user_name: 'Finder', login, password: PASSWORD });
        await api.login({ login, password: PASSWORD });
        return api.userById({ id: 2_147_483_647 });
      },
      { status: 404, code: 'NOT_FOUND' },
    );
    await expectSameError((api) => api.listUsers({}), { status: 401, code: 'AUTH_REQUIRED' });
  });

  it('NETWORK_ERROR when nothing listens at the base URL', async () => {
    const baseUrl = `http://127.0.0.1:${await freePort()}`;
    const [rest, trpc] = await failOnBoth({ baseUrl }, (api) => api.login({ login: 'nobody', password: PASSWORD }));
    for (const err of [rest, trpc]) {
      expect(err).toMatchObject({ status: 0, code: 'NETWORK_ERROR' });
      expect(err.msg).toContain(`Cannot reach the API at ${baseUrl}/`);
      expect(err.cause).toBeInstanceOf(Error);
    }
  });

  it('the API’s own NOT_FOUND, naming the route, when the base URL has a path too many', async () => {
    const baseUrl = `${apiUrl()}${REST_PREFIX}`;
    const [rest, trpc] = await failOnBoth({ baseUrl }, (api) => api.login({ login: 'nobody', password: PASSWORD }));
    expect(rest).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      msg: `No route POST ${REST_PREFIX}${REST_PREFIX}/login`,
    });
    expect(trpc).toMatchObject({
      status: 404,
      code: 'NOT_FOUND',
      msg: `No route POST ${REST_PREFIX}${TRPC_PREFIX}/auth.login`,
    });
  });

  it('passes an abort on as it is', async () => {
    const trpc = createTrpcClient({ baseUrl: apiUrl() });
    await expect(trpc.users.list.query({}, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  describe('INVALID_RESPONSE when something else answers', () => {
    let other: Server;
    let baseUrl: string;
    beforeAll(async () => {
      // A real HTTP server that is not the API: a proxy's HTML error page, or JSON of another shape.
      other = createServer((req, res) => {
        if (req.url?.includes('login')) {
          res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad gateway</h1>');
        } else {
          res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":"something else"}');
        }
      });
      await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
      baseUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
    });
    afterAll(() => new Promise<void>((resolve) => other.close(() => resolve())));

    it('an HTML page', async () => {
      const [rest, trpc] = await failOnBoth({ baseUrl }, (api) => api.login({ login: 'nobody', password: PASSWORD }));
      for (const err of [rest, trpc]) {
        expect(err).toMatchObject({ status: 502, code: 'INVALID_RESPONSE' });
        expect(err.msg).toContain('502 text/html');
      }
    });

    it('JSON that is not an API error', async () => {
      const [rest, trpc] = await failOnBoth({ baseUrl }, (api) =>
        api.register({ user_name: 'X', login: 'xyz', password: PASSWORD }),
      );
      for (const err of [rest, trpc]) expect(err).toMatchObject({ status: 500, code: 'INVALID_RESPONSE' });
    });
  });
});
