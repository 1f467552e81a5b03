import { TRPC_PREFIX } from '@api-users/contract';
import { TRPCClientError } from '@trpc/client';
import { expect, it, onTestFinished } from 'vitest';
import { pairOf } from '../../../test-support/sign-in.js';
import { describeEachDatabase } from './support/databases.js';
import { call } from './support/http.js';
import { startIsolatedServer, uniqueLogin, useIsolatedServer } from './support/server.js';
import { trpcClient, trpcLinks } from './support/trpc.js';

/** The error data a failed call carries: the REST error body plus the HTTP status. */
async function failure(call: Promise<unknown>) {
  const err = await call.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (e: unknown) => e,
  );
  if (!(err instanceof TRPCClientError)) throw err;
  return err.data as { code: string; msg: string; httpStatus: number };
}

describeEachDatabase('tRPC life cycle', (dialect) => {
  const server = useIsolatedServer(dialect);

  for (const link of trpcLinks) {
    it(`runs every procedure through @trpc/client (link: ${link})`, async () => {
      const anon = trpcClient(server.url, undefined, link);
      const login = uniqueLogin('trpc');
      const password = 'tRPC needs a long password';

      const user = await anon.auth.register.mutate({ user_name: 'Alan Turing', login, password });
      expect(user).toMatchObject({ login, user_role: 2, user_name: 'Alan Turing' });
      expect(await failure(anon.auth.register.mutate({ user_name: 'Again', login, password }))).toMatchObject({
        code: 'LOGIN_TAKEN',
        httpStatus: 409,
      });

      const pair = pairOf(await anon.auth.login.mutate({ login, password }));
      expect(pair.token_type).toBe('Bearer');
      const authed = trpcClient(server.url, pair.access_token, link);

      const [page, byId, me] = await Promise.all([
        authed.users.list.query({ limit: 100 }),
        authed.users.byId.query({ id: user.id_user }),
        authed.me.get.query(),
      ]);
      expect(page.items).toContainEqual(user);
      expect(byId).toEqual(user);
      expect(me).toEqual(user);
      expect(await failure(authed.users.byId.query({ id: 2_000_000_000 }))).toMatchObject({
        code: 'NOT_FOUND',
        httpStatus: 404,
      });

      const rotated = await trpcClient(server.url, pair.refresh_token, link).auth.refresh.mutate();
      expect(rotated.refresh_token).not.toBe(pair.refresh_token);
      expect(await failure(trpcClient(server.url, pair.refresh_token, link).auth.refresh.mutate())).toMatchObject({
        code: 'TOKEN_REVOKED',
        httpStatus: 401,
      });
      // The replay ended the session, so the rotated pair is dead too.
      expect(await failure(trpcClient(server.url, rotated.access_token, link).users.list.query({}))).toMatchObject({
        code: 'TOKEN_REVOKED',
      });

      const again = pairOf(await anon.auth.login.mutate({ login, password }));
      expect(await trpcClient(server.url, again.access_token, link).auth.revokeAccessToken.mutate()).toEqual({
        msg: 'Access token revoked',
      });
      expect(await failure(trpcClient(server.url, again.access_token, link).users.list.query({}))).toMatchObject({
        code: 'TOKEN_REVOKED',
      });
      expect(await trpcClient(server.url, again.refresh_token, link).auth.logoutRefresh.mutate()).toEqual({
        msg: 'Refresh token revoked',
      });
      expect(await failure(trpcClient(server.url, again.refresh_token, link).auth.refresh.mutate())).toMatchObject({
        code: 'TOKEN_REVOKED',
      });
    });
  }

  it('gives the first page of every list for no input at all, as over REST', async () => {
    // A database of its own: its first account may be an admin, who can read the audit log.
    const fresh = await startIsolatedServer(dialect);
    onTestFinished(() => fresh.close());
    const login = uniqueLogin('pages');
    const password = 'pages need a long password';
    await trpcClient(fresh.url).auth.register.mutate({ user_name: 'Page Reader', login, password, user_role: 1 });
    const { access_token } = pairOf(await trpcClient(fresh.url).auth.login.mutate({ login, password }));
    for (const link of trpcLinks) {
      const admin = trpcClient(fresh.url, access_token, link);
      const [users, sessions, audit] = await Promise.all([
        admin.users.list.query(),
        admin.me.sessions.query(),
        admin.audit.list.query(),
      ]);
      expect(users.items.map((user) => user.login)).toEqual([login]);
      expect(sessions.items).toHaveLength(1);
      expect(audit.items.map((event) => event.type)).toEqual(['login', 'register']);
    }
    const bare = await call(fresh.url, 'GET', `${TRPC_PREFIX}/users.list`, { token: access_token });
    expect(bare.status).toBe(200);
    expect(bare.body.result.data.items).toHaveLength(1);
  });

  it('answers tRPC errors with the REST error codes and statuses', async () => {
    const anon = trpcClient(server.url);
    expect(await failure(anon.users.list.query({}))).toMatchObject({ code: 'AUTH_REQUIRED', httpStatus: 401 });
    expect(await failure(anon.auth.login.mutate({ login: 'nobody-here', password: 'whatever1' }))).toMatchObject({
      code: 'BAD_CREDENTIALS',
      httpStatus: 401,
      msg: 'Wrong login or password',
    });
    const invalid = await failure(anon.auth.register.mutate({ user_name: '', login: 'x', password: 'short' }));
    expect(invalid).toMatchObject({ code: 'VALIDATION_FAILED', httpStatus: 400 });
    expect((invalid as unknown as { issues: { path: string }[] }).issues.map((i) => i.path).sort()).toEqual([
      'login',
      'password',
      'user_name',
    ]);
  });
});
