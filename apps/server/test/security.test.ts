import { statSync } from 'node:fs';
import { REST_PREFIX } from '@api-users/contract';
import { connect } from '@api-users/db';
import { sql } from 'kysely';
import { describe, expect, it, onTestFinished } from 'vitest';
import { describeEachDatabase } from './support/databases.js';
import { call, restClient } from './support/http.js';
import { isolatedServerForTest, startServer, TEST_SECRET, uniqueLogin, useIsolatedServer } from './support/server.js';
import { claimsOf, forgeToken, kidOf } from './support/tokens.js';

describeEachDatabase('security', (dialect) => {
  const server = useIsolatedServer(dialect, { CORS_ORIGINS: 'https://app.example.com' });

  it('refuses the most common passwords', async () => {
    const res = await restClient(server.url).register({
      user_name: 'Weak',
      login: uniqueLogin('weak'),
      password: 'Password1',
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'VALIDATION_FAILED', issues: [{ path: 'password' }] });
  });

  it('refuses repetitive and sequential passwords, saying why', async () => {
    const api = restClient(server.url);
    for (const password of [
      'aaaaaaaaaa',
      'abababab',
      'abcabcabc',
      'ABCDEFGHIJK',
      '98765432',
      'zyxwvutsr',
      'abcd6789',
    ]) {
      const res = await api.register({ user_name: 'Weak', login: uniqueLogin('pattern'), password });
      expect(res.status, password).toBe(400);
      expect(res.body.issues).toEqual([
        { path: 'password', message: expect.stringMatching(/repeated or sequential pattern/) },
      ]);
    }
    // A long passphrase with a run in it is fine.
    expect(
      (await api.register({ user_name: 'Fine', login: uniqueLogin('fine'), password: 'abcd plus more' })).status,
    ).toBe(201);
  });

  it('refuses the tokens of a user deleted behind its back (foreign keys off), on every check', async () => {
    const api = restClient(server.url);
    const { user, tokens } = await api.signUp(uniqueLogin('gone'));
    const { db } = connect(server.database.url);
    try {
      await db.connection().execute(async (conn) => {
        const foreignKeysOff = {
          mysql: sql`set foreign_key_checks = 0`,
          // Foreign keys are system triggers, which a replica does not fire.
          postgres: sql`set session_replication_role = replica`,
          sqlite: sql`pragma foreign_keys = off`,
        };
        await foreignKeysOff[dialect].execute(conn);
        await conn.deleteFrom('users').where('id_user', '=', user.id_user).execute();
      });
      const orphans = await db.selectFrom('sessions').select('sid').where('user_id', '=', user.id_user).execute();
      expect(orphans).toHaveLength(1);
    } finally {
      await db.destroy();
    }
    const access = await api.call('GET', '/users', { token: tokens.access_token });
    expect(access.status).toBe(401);
    expect(access.body.code).toBe('TOKEN_REVOKED');
    const refreshed = await api.call('POST', '/refresh', { token: tokens.refresh_token });
    expect(refreshed.status).toBe(401);
    expect(refreshed.body.code).toBe('TOKEN_REVOKED');
  });

  it('refuses the tokens of a user disabled behind its back (sessions left live), on every check', async () => {
    const api = restClient(server.url);
    const { user, tokens } = await api.signUp(uniqueLogin('quietly.disabled'));
    const { db } = server.app.database;
    await db.updateTable('users').set({ disabled: 1 }).where('id_user', '=', user.id_user).execute();
    // The guard's one statement reads the flag: no session had to be ended for the token to stop working.
    expect((await api.call('GET', '/me', { token: tokens.access_token })).body.code).toBe('TOKEN_REVOKED');
    expect((await api.call('POST', '/refresh', { token: tokens.refresh_token })).body.code).toBe('TOKEN_REVOKED');
  });

  it('ends every access token with its session: exp is capped at SESSION_MAX_AGE after sign-in', async () => {
    const capped = await isolatedServerForTest(dialect, { SESSION_MAX_AGE: '300', ACCESS_TOKEN_TTL: '900' });
    const api = restClient(capped.url);
    const { tokens } = await api.signUp(uniqueLogin('capped'));
    const first = claimsOf(tokens.access_token);
    expect(first.exp - first.iat).toBe(300);
    expect((tokens as { expires_in?: number }).expires_in).toBe(300);
    // Signed in 250 s ago: a refresh now gets an access token that ends with the session, in 50 s.
    const { db } = capped.app.database;
    const signedIn = Date.now() - 250_000;
    await db.updateTable('sessions').set({ created_at: signedIn }).where('sid', '=', first.sid).execute();
    const renewed = await api.call('POST', '/refresh', { token: tokens.refresh_token });
    expect(renewed.status).toBe(200);
    const claims = claimsOf(renewed.body.access_token);
    expect(claims.exp).toBe(Math.floor((signedIn + 300_000) / 1000));
    expect(renewed.body.expires_in).toBe(claims.exp - claims.iat);
    expect(renewed.body.expires_in).toBeLessThanOrEqual(50);
  });

  it('refuses to refresh a session older than SESSION_MAX_AGE, however often it was rotated', async () => {
    const api = restClient(server.url);
    const { tokens } = await api.signUp(uniqueLogin('aged'));
    const rotated = await api.call('POST', '/refresh', { token: tokens.refresh_token });
    expect(rotated.status).toBe(200);
    const { sid } = claimsOf(tokens.access_token);
    const { db } = connect(server.database.url);
    try {
      // Signed in 90 days and a minute ago (the default SESSION_MAX_AGE is 90 days).
      const signedIn = Date.now() - (90 * 86400 + 60) * 1000;
      await db.updateTable('sessions').set({ created_at: signedIn }).where('sid', '=', sid).execute();
    } finally {
      await db.destroy();
    }
    const aged = await api.call('POST', '/refresh', { token: rotated.body.refresh_token });
    expect(aged.status).toBe(401);
    expect(aged.body.code).toBe('TOKEN_EXPIRED');
    // The session is over: its access token stops working too.
    expect((await api.call('GET', '/users', { token: rotated.body.access_token })).body.code).toBe('TOKEN_REVOKED');
  });

  it('stops an access token when its session passes SESSION_MAX_AGE or expires, as the session list shows', async () => {
    const api = restClient(server.url);
    const { db } = server.app.database;
    for (const age of [
      // Signed in 90 days and a minute ago (the default SESSION_MAX_AGE), no refresh tried since.
      { created_at: Date.now() - (90 * 86400 + 60) * 1000 },
      // A session whose refresh token has expired.
      { expires_at: Date.now() - 1000 },
    ]) {
      const { tokens } = await api.signUp(uniqueLogin('outlived'));
      const me = () => api.call('GET', '/me/sessions', { token: tokens.access_token });
      const { sid } = claimsOf(tokens.access_token);
      expect((await me()).body.items.map((session: { id: string }) => session.id)).toEqual([sid]);
      await db.updateTable('sessions').set(age).where('sid', '=', sid).execute();
      // Gone from the list the user sees, so its tokens are refused too (before: working, and not endable).
      const refused = await me();
      expect([refused.status, refused.body.code]).toEqual([401, 'TOKEN_REVOKED']);
    }
  });

  it('sends security headers, and CORS headers only to allowed origins', async () => {
    const allowed = await fetch(`${server.url}${REST_PREFIX}/users`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    // Every method the REST table uses may be sent from an allowed origin: PATCH /users/:id too.
    expect(allowed.headers.get('access-control-allow-methods')?.split(/, */).sort()).toEqual([
      'DELETE',
      'GET',
      'PATCH',
      'POST',
    ]);
    const denied = await fetch(`${server.url}/healthz`, { headers: { origin: 'https://evil.example' } });
    expect(denied.headers.get('access-control-allow-origin')).toBeNull();
    expect(denied.headers.get('x-content-type-options')).toBe('nosniff');
    expect(denied.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    expect(denied.headers.get('strict-transport-security')).toContain('max-age=');
    const tokens = await call(server.url, 'POST', `${REST_PREFIX}/login`, {
      json: { login: 'nobody.here', password: 'x-x-x-x-x' },
    });
    expect(tokens.headers.get('cache-control')).toBe('no-store');
    // The HTML pages get helmet's policy, which lets them load their own scripts and styles.
    const docs = await fetch(`${server.url}/docs/`);
    expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(docs.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('accepts tokens of a previous secret after rotation, and refuses unknown key ids', async () => {
    const { tokens } = await restClient(server.url).signUp(uniqueLogin('rotate'));
    const rotated = await startServer(server.database.url, {
      JWT_SECRET: 'the-next-secret-that-is-also-32-chars-long',
      JWT_PREVIOUS_SECRETS: TEST_SECRET,
    });
    onTestFinished(() => rotated.close());
    expect((await call(rotated.url, 'GET', `${REST_PREFIX}/users`, { token: tokens.access_token })).status).toBe(200);
    const fresh = await call(rotated.url, 'POST', `${REST_PREFIX}/refresh`, { token: tokens.refresh_token });
    expect(fresh.status).toBe(200);
    expect(kidOf(fresh.body.access_token)).not.toBe(kidOf(tokens.access_token));
    // The old server does not know the new key.
    const old = await call(server.url, 'GET', `${REST_PREFIX}/users`, { token: fresh.body.access_token });
    expect(old.body.code).toBe('INVALID_TOKEN');
    const unknownKid = forgeToken({}, { kid: 'no-such-key' });
    expect((await call(rotated.url, 'GET', `${REST_PREFIX}/users`, { token: unknownKid })).body.code).toBe(
      'INVALID_TOKEN',
    );
  });

  it('refuses an over-long token and an oversized header with the error shape', async () => {
    const long = await call(server.url, 'GET', `${REST_PREFIX}/users`, { token: 'a'.repeat(8000) });
    expect(long.status).toBe(401);
    expect(long.body.code).toBe('INVALID_TOKEN');
    const huge = await call(server.url, 'GET', `${REST_PREFIX}/users`, { headers: { 'x-filler': 'a'.repeat(40_000) } });
    expect(huge.status).toBe(431);
    expect(huge.body).toEqual({ code: 'HEADERS_TOO_LARGE', msg: expect.any(String) });
  });

  it('answers deeply nested JSON with a 4xx', async () => {
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    const res = await call(server.url, 'POST', `${REST_PREFIX}/login`, {
      raw: deep,
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('VALIDATION_FAILED');
  });
});

describe('SQLite file', () => {
  it('is created readable and writable by its owner only, with its -wal and -shm files', async () => {
    const server = await isolatedServerForTest('sqlite');
    const { database } = server;
    await restClient(server.url).signUp(uniqueLogin('mode'));
    const path = database.url.slice('sqlite:'.length);
    const modes = ['', '-wal', '-shm'].map((suffix) => (statSync(path + suffix).mode & 0o777).toString(8));
    expect(modes).toEqual(['600', '600', '600']);
  });
});
