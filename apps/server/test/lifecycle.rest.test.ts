import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.js';
import { restClient } from './support/http.js';
import { uniqueLogin, useIsolatedServer } from './support/server.js';
import { claimsOf } from './support/tokens.js';

describeEachDatabase('REST life cycle', (dialect) => {
  const server = useIsolatedServer(dialect);
  let api: ReturnType<typeof restClient>;
  beforeAll(async () => {
    api = restClient(server.url);
  });

  it('register → login → list → get → refresh → reuse ends the session → logout → logout2', async () => {
    const login = uniqueLogin('Life');
    const password = 'correct horse battery staple';

    const reg = await api.register({ user_name: 'Grace Hopper', login, password });
    expect(reg.status).toBe(201);
    expect(reg.body).toEqual({
      id_user: expect.any(Number),
      user_name: 'Grace Hopper',
      login: login.toLowerCase(),
      user_role: 2,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      disabled: false,
      email_verified: false,
    });

    const pair = await api.login(login.toUpperCase(), password);
    expect(pair.status).toBe(200);
    expect(pair.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    const { access_token, refresh_token } = pair.body;

    const list = await api.call('GET', '/users?limit=100', { token: access_token });
    expect(list.status).toBe(200);
    expect(list.body.items).toContainEqual(reg.body);

    const one = await api.call('GET', `/users/${reg.body.id_user}`, { token: access_token });
    expect(one.status).toBe(200);
    expect(one.body).toEqual(reg.body);
    expect(await api.call('GET', '/me', { token: access_token })).toMatchObject({ status: 200, body: reg.body });
    expect((await api.call('GET', '/me', { token: refresh_token })).body.code).toBe('WRONG_TOKEN_TYPE');

    const rotated = await api.call('POST', '/refresh', { token: refresh_token });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refresh_token).not.toBe(refresh_token);
    const fresh = rotated.body as { access_token: string; refresh_token: string };
    expect((await api.call('GET', '/users?limit=1', { token: fresh.access_token })).status).toBe(200);

    // The spent refresh token is refused, and using it ends the whole session (RFC 9700 reuse detection).
    const replay = await api.call('POST', '/refresh', { token: refresh_token });
    expect(replay.status).toBe(401);
    expect(replay.body.code).toBe('TOKEN_REVOKED');
    expect(replay.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
    expect((await api.call('POST', '/refresh', { token: fresh.refresh_token })).body.code).toBe('TOKEN_REVOKED');
    expect((await api.call('GET', '/users', { token: fresh.access_token })).body.code).toBe('TOKEN_REVOKED');

    // A new session: logout revokes exactly the access token sent.
    const second = (await api.login(login, password)).body;
    const out = await api.call('DELETE', '/logout', { token: second.access_token });
    expect(out).toMatchObject({ status: 200, body: { msg: 'Access token revoked' } });
    const afterLogout = await api.call('GET', '/users', { token: second.access_token });
    expect(afterLogout.status).toBe(401);
    expect(afterLogout.body.code).toBe('TOKEN_REVOKED');
    // The session itself lives on: its refresh token still gets a new pair.
    const third = await api.call('POST', '/refresh', { token: second.refresh_token });
    expect(third.status).toBe(200);

    // logout2 ends the session: its refresh token and its access tokens stop working.
    const out2 = await api.call('DELETE', '/logout2', { token: third.body.refresh_token });
    expect(out2).toMatchObject({ status: 200, body: { msg: 'Refresh token revoked' } });
    expect((await api.call('POST', '/refresh', { token: third.body.refresh_token })).body.code).toBe('TOKEN_REVOKED');
    expect((await api.call('GET', '/users', { token: third.body.access_token })).body.code).toBe('TOKEN_REVOKED');
    expect((await api.call('DELETE', '/logout2', { token: third.body.refresh_token })).status).toBe(401);
  });

  it('pages through the users list with a keyset cursor', async () => {
    const prefix = uniqueLogin('page');
    const { tokens } = await api.signUp(`${prefix}.0`);
    for (let i = 1; i < 5; i++)
      await api.register({ user_name: `P ${i}`, login: `${prefix}.${i}`, password: 'another long password' });

    const seen: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `?limit=2&cursor=${cursor}` : '?limit=2';
      const page = await api.call('GET', `/users${query}`, { token: tokens.access_token });
      expect(page.status).toBe(200);
      expect(page.body.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.items.map((u: { id_user: number }) => u.id_user));
      cursor = page.body.next_cursor;
    } while (cursor);
    const total = await api.call('GET', '/users?limit=100', { token: tokens.access_token });
    expect(seen).toEqual(total.body.items.map((u: { id_user: number }) => u.id_user));
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('never returns or logs a password or hash', async () => {
    const password = 'a very secret passphrase 42';
    const { user, tokens } = await api.signUp(uniqueLogin('leak'), password);
    const bodies = [
      user,
      (await api.call('GET', `/users/${user.id_user}`, { token: tokens.access_token })).body,
      (await api.call('GET', '/users?limit=100', { token: tokens.access_token })).body,
    ];
    for (const text of [...bodies.map((b) => JSON.stringify(b)), ...server.logs]) {
      expect(text).not.toContain(password);
      expect(text).not.toMatch(/\$argon2/);
      expect(text).not.toContain('password_hash');
    }
    // Tokens carry identifiers only.
    const claims = claimsOf(tokens.access_token);
    expect(Object.keys(claims).sort()).toEqual(['amr', 'exp', 'iat', 'jti', 'nbf', 'role', 'sid', 'sub', 'type']);
  });

  it('serves health and readiness', async () => {
    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ok' });
  });
});
