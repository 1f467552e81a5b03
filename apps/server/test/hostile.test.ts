import { REST_PREFIX, TRPC_PREFIX } from '@api-users/contract';
import fc from 'fast-check';
import { beforeAll, expect, it } from 'vitest';
import { databaseReader, describeEachDatabase } from './support/databases.js';
import { call, restClient } from './support/http.js';
import { uniqueLogin, useIsolatedServer } from './support/server.js';

describeEachDatabase('hostile input', (dialect) => {
  const server = useIsolatedServer(dialect);
  const database = databaseReader(() => server.database.url);
  let api: ReturnType<typeof restClient>;
  let access: string;
  beforeAll(async () => {
    api = restClient(server.url);
    access = (await api.signUp(uniqueLogin('hostile'))).tokens.access_token;
  });

  it('treats logins that look alike as one account, and refuses invisible or foreign letters', async () => {
    const base = uniqueLogin('bob');
    expect((await api.register({ user_name: 'Bob', login: base, password: 'bob has a password' })).status).toBe(201);
    const fullwidth = [...base]
      .map((c) => (/[a-z0-9]/.test(c) ? String.fromCharCode(c.charCodeAt(0) + 0xfee0) : c))
      .join('');
    const lookalikes = [base.toUpperCase(), fullwidth, ` ${base} `];
    for (const login of lookalikes) {
      const res = await api.register({ user_name: 'Bob again', login, password: 'bob has a password' });
      expect({ login, status: res.status, code: res.body.code }).toEqual({ login, status: 409, code: 'LOGIN_TAKEN' });
    }
    const refused = [`${base}\u200b`, base.replace('b', '\u0431'), `${base}\u0301`, `\u202e${base}`, 'b\u0000ob'];
    for (const login of refused) {
      const res = await api.register({ user_name: 'Bob', login, password: 'bob has a password' });
      expect({ login, status: res.status, code: res.body.code }).toEqual({
        login,
        status: 400,
        code: 'VALIDATION_FAILED',
      });
    }
    // A look-alike login signs in to the one account.
    expect((await api.login(fullwidth, 'bob has a password')).status).toBe(200);
  });

  it('stores SQL metacharacters in names verbatim', async () => {
    const user_name = 'Robert\'); DROP TABLE users;-- \\ % _ "';
    const res = await api.register({ user_name, login: uniqueLogin('bobby'), password: 'little bobby tables' });
    expect(res.status).toBe(201);
    expect(res.body.user_name).toBe(user_name);
    const back = await api.call('GET', `/users/${res.body.id_user}`, { token: access });
    expect(back.body.user_name).toBe(user_name);
  });

  it('refuses prototype-pollution keys on both transports, creating no account', async () => {
    for (const path of [`${REST_PREFIX}/register`, `${TRPC_PREFIX}/auth.register`]) {
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        const login = uniqueLogin('proto');
        const raw = `{"${key}":{"user_role":1,"prototype":{"polluted":true}},"user_name":"P","login":"${login}","password":"proto pollution"}`;
        const res = await call(server.url, 'POST', path, { raw, headers: { 'content-type': 'application/json' } });
        expect({ path, key, status: res.status }).toEqual({ path, key, status: 400 });
        expect((res.body.error?.data ?? res.body).code).toBe('VALIDATION_FAILED');
        // Nothing was made of the rest of the body: the login is free.
        expect((await api.login(login, 'proto pollution')).body.code).toBe('BAD_CREDENTIALS');
      }
    }
  });

  it('never answers random bodies, ids, queries or tokens with a 5xx, and writes nothing for them', async () => {
    const before = await database.rowCounts();
    const { login_failed: _, ...eventsBefore } = await database.auditCountsByType();
    const body = fc.oneof(
      fc.jsonValue(),
      fc.record(
        { user_name: fc.jsonValue(), login: fc.jsonValue(), password: fc.jsonValue(), user_role: fc.jsonValue() },
        { requiredKeys: [] },
      ),
      fc.record({ user_name: fc.string(), login: fc.string(), password: fc.string({ maxLength: 7 }) }),
    );
    const path = fc.constantFrom(
      `${REST_PREFIX}/register`,
      `${REST_PREFIX}/login`,
      `${REST_PREFIX}/refresh`,
      `${TRPC_PREFIX}/auth.register`,
      `${TRPC_PREFIX}/auth.login`,
    );
    await fc.assert(
      fc.asyncProperty(path, body, async (p, json) => {
        const res = await call(server.url, 'POST', p, {
          raw: JSON.stringify(json),
          headers: { 'content-type': 'application/json' },
        });
        expect(res.status).toBeGreaterThanOrEqual(400);
        expect(res.status).toBeLessThan(500);
      }),
      { numRuns: 150 },
    );
    await fc.assert(
      fc.asyncProperty(fc.string(), fc.string(), fc.string(), async (id, query, token) => {
        const encoded = `${REST_PREFIX}/users/${encodeURIComponent(id)}?${encodeURIComponent(query)}=${encodeURIComponent(query)}`;
        const headers = /^[\x20-\x7e]*$/.test(token) ? { authorization: token } : {};
        const anonymous = await call(server.url, 'GET', encoded, { headers });
        expect(anonymous.status).toBeLessThan(500);
        const authed = await call(server.url, 'GET', encoded, { token: access });
        expect(authed.status).toBeLessThan(500);
        const trpc = await call(server.url, 'GET', `${TRPC_PREFIX}/users.byId?input=${encodeURIComponent(id)}`, {
          token: access,
        });
        expect(trpc.status).toBeLessThan(500);
      }),
      { numRuns: 100 },
    );
    // Refused passwords are recorded (login_failed events); nothing else is written.
    const { audit_events: _after, ...after } = await database.rowCounts();
    const { audit_events: _before, ...unchanged } = before;
    expect(after).toEqual(unchanged);
    const { login_failed: __, ...eventsAfter } = await database.auditCountsByType();
    expect(eventsAfter).toEqual(eventsBefore);
  });
});
