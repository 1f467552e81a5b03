import { type ErrorCode, REST_PREFIX, TRPC_PREFIX } from '@api-users/contract';
import { beforeAll, describe, expect, it } from 'vitest';
import { databaseReader, describeEachDatabase } from './support/databases.js';
import { type CallOptions, call, restClient } from './support/http.js';
import { uniqueLogin, useIsolatedServer } from './support/server.js';
import { forgeToken, kidOf } from './support/tokens.js';

/**
 * How each kind of bad request is refused on the wire, and that it changes nothing (a refused password is
 * the one thing recorded). The input rules themselves are specified on the schemas, in the contract's tests;
 * here each reaches the wire once per transport.
 */
interface Tokens {
  access: string;
  admin: string;
  refresh: string;
  revoked: string;
  expired: string;
  foreign: string;
  notYetValid: string;
  unsigned: string;
  existingLogin: string;
}

interface Expected {
  /** The paths of the issues a VALIDATION_FAILED answer lists; none where the request is not even JSON. */
  issues?: string[];
  /** A refused password is the one thing recorded: the `detail` of the `login_failed` event written. */
  audited?: 'bad_password' | 'unknown_login';
}

/** [name, `METHOD path` (REST: under /api/v1; tRPC: a procedure), what is sent, `status CODE`, more expected] */
type Case = [string, string, ((t: Tokens) => CallOptions) | undefined, `${number} ${ErrorCode}`, Expected?];

const good = { user_name: 'Valid Name', login: 'valid.login', password: 'long enough password' };
const json = (body: unknown) => (): CallOptions => ({ json: body });
const raw = (text: string, type: string) => (): CallOptions => ({ raw: text, headers: { 'content-type': type } });
const bearer = (pick: (t: Tokens) => string) => (t: Tokens) => ({ token: pick(t) });
const as = (pick: (t: Tokens) => string, body: unknown) => (t: Tokens) => ({ token: pick(t), json: body });
const byId = (input: unknown) => `GET users.byId?input=${encodeURIComponent(JSON.stringify(input))}`;

/** RFC 6750's challenge for each refusal of a token; no other answer carries one. */
const challenges: Partial<Record<ErrorCode, string>> = {
  AUTH_REQUIRED: 'Bearer',
  INVALID_TOKEN: 'Bearer error="invalid_token"',
  TOKEN_EXPIRED: 'Bearer error="invalid_token"',
  TOKEN_REVOKED: 'Bearer error="invalid_token"',
  WRONG_TOKEN_TYPE: 'Bearer error="invalid_token"',
};

// biome-ignore format: one case a line
const restCases: Case[] = [
  ['malformed JSON', 'POST /register', raw('{"login":', 'application/json'), '400 VALIDATION_FAILED'],
  ['empty JSON body', 'POST /login', raw('', 'application/json'), '400 VALIDATION_FAILED'],
  ['JSON array body', 'POST /login', json([good]), '400 VALIDATION_FAILED', { issues: [''] }],
  ['text/plain body', 'POST /register', raw(JSON.stringify(good), 'text/plain'), '415 UNSUPPORTED_MEDIA_TYPE'],
  ['form body', 'POST /login', raw('login=a&password=b', 'application/x-www-form-urlencoded'), '415 UNSUPPORTED_MEDIA_TYPE'],
  ['oversized body', 'POST /register', json({ ...good, user_name: 'x'.repeat(20_000) }), '413 PAYLOAD_TOO_LARGE'],
  ['__proto__ key', 'POST /register', raw(`{"__proto__":{"user_role":1},${JSON.stringify(good).slice(1)}`, 'application/json'), '400 VALIDATION_FAILED'],
  ['constructor key', 'POST /register', raw(`{"constructor":{"prototype":{"x":1}},${JSON.stringify(good).slice(1)}`, 'application/json'), '400 VALIDATION_FAILED'],
  ['missing fields', 'POST /register', json({ login: 'only.login' }), '400 VALIDATION_FAILED', { issues: ['user_name', 'password'] }],
  ['repetitive password', 'POST /register', json({ ...good, password: 'abcabcabc' }), '400 VALIDATION_FAILED', { issues: ['password'] }],
  ['sequential password', 'POST /register', json({ ...good, password: 'abcdefghijk' }), '400 VALIDATION_FAILED', { issues: ['password'] }],
  ['password that is the login', 'POST /register', json({ ...good, password: 'Valid.Login' }), '400 VALIDATION_FAILED', { issues: ['password'] }],
  ['anonymous admin registration', 'POST /register', json({ ...good, user_role: 1 }), '403 FORBIDDEN'],
  ['user creating an admin', 'POST /register', as((t) => t.access, { ...good, user_role: 1 }), '403 FORBIDDEN'],
  ['register with a garbled token', 'POST /register', () => ({ json: good, token: 'garbage' }), '401 INVALID_TOKEN'],
  ['duplicate login', 'POST /register', (t) => ({ json: { ...good, login: t.existingLogin } }), '409 LOGIN_TAKEN'],
  ['duplicate login in other case', 'POST /register', (t) => ({ json: { ...good, login: t.existingLogin.toUpperCase() } }), '409 LOGIN_TAKEN'],
  ['wrong password', 'POST /login', (t) => ({ json: { login: t.existingLogin, password: 'not the password' } }), '401 BAD_CREDENTIALS', { audited: 'bad_password' }],
  ['unknown login', 'POST /login', json({ login: 'nobody.at.all', password: 'not the password' }), '401 BAD_CREDENTIALS', { audited: 'unknown_login' }],
  ['no token', 'GET /users', undefined, '401 AUTH_REQUIRED'],
  ['garbled token', 'GET /users', () => ({ token: 'not.a.jwt' }), '401 INVALID_TOKEN'],
  ['Basic scheme', 'GET /users', () => ({ headers: { authorization: 'Basic dXNlcjpwYXNz' } }), '401 INVALID_TOKEN'],
  ['expired token', 'GET /users', bearer((t) => t.expired), '401 TOKEN_EXPIRED'],
  ['token not yet valid', 'GET /users', bearer((t) => t.notYetValid), '401 INVALID_TOKEN'],
  ['token signed with another secret', 'GET /users', bearer((t) => t.foreign), '401 INVALID_TOKEN'],
  ['alg:none token', 'GET /users', bearer((t) => t.unsigned), '401 INVALID_TOKEN'],
  ['revoked access token', 'GET /users', bearer((t) => t.revoked), '401 TOKEN_REVOKED'],
  ['refresh token used as access', 'GET /users', bearer((t) => t.refresh), '401 WRONG_TOKEN_TYPE'],
  ['access token used to refresh', 'POST /refresh', bearer((t) => t.access), '401 WRONG_TOKEN_TYPE'],
  ['access token used for logout2', 'DELETE /logout2', bearer((t) => t.access), '401 WRONG_TOKEN_TYPE'],
  ['logout without a token', 'DELETE /logout', undefined, '401 AUTH_REQUIRED'],
  ['refresh with a body', 'POST /refresh', as((t) => t.refresh, { extra: 1 }), '400 VALIDATION_FAILED', { issues: [''] }],
  ['non-numeric id in the path', 'GET /users/abc', bearer((t) => t.access), '400 VALIDATION_FAILED', { issues: ['id'] }],
  ['huge id in the path', 'GET /users/99999999999999999999', bearer((t) => t.access), '400 VALIDATION_FAILED', { issues: ['id'] }],
  ['unknown id', 'GET /users/2147483647', bearer((t) => t.access), '404 NOT_FOUND'],
  ['limit twice', 'GET /users?limit=1&limit=2', bearer((t) => t.access), '400 VALIDATION_FAILED', { issues: ['limit'] }],
  ['unknown query parameter', 'GET /users?offset=10', bearer((t) => t.access), '400 VALIDATION_FAILED', { issues: [''] }],
  ['empty search', 'GET /users?q=%20', bearer((t) => t.access), '400 VALIDATION_FAILED', { issues: ['q'] }],
  ['account change with an unknown field', 'PATCH /users/2', as((t) => t.admin, { is_admin: true }), '400 VALIDATION_FAILED', { issues: [''] }],
  ['account change repeating the id in the body', 'PATCH /users/2', as((t) => t.admin, { id: 1, user_role: 1 }), '400 VALIDATION_FAILED', { issues: ['id'] }],
  ['a user changing an account', 'PATCH /users/2', as((t) => t.access, { user_role: 1 }), '403 FORBIDDEN'],
  ['account deletion without a token', 'DELETE /users/2', undefined, '401 AUTH_REQUIRED'],
  ['password change without its fields', 'POST /me/password', as((t) => t.access, {}), '400 VALIDATION_FAILED', { issues: ['current_password', 'new_password'] }],
  ['new password that is the current one', 'POST /me/password', as((t) => t.access, { current_password: 'a fine long password', new_password: 'a fine long password' }), '400 VALIDATION_FAILED', { issues: ['new_password'] }],
  ['new password that is the login', 'POST /me/password', (t) => ({ token: t.access, json: { current_password: 'a fine long password', new_password: t.existingLogin.toUpperCase() } }), '400 VALIDATION_FAILED', { issues: ['new_password'] }],
  ['session id that is no session id', 'DELETE /me/sessions/..%2F..%2Fusers', bearer((t) => t.access), '400 VALIDATION_FAILED', { issues: ['sid'] }],
  ['unknown audit event type', 'GET /audit?type=everything', bearer((t) => t.admin), '400 VALIDATION_FAILED', { issues: ['type'] }],
  ['a user reading the audit log', 'GET /audit', bearer((t) => t.access), '403 FORBIDDEN'],
];

// biome-ignore format: one case a line
const trpcCases: Case[] = [
  ['malformed JSON', 'POST auth.login', raw('{"login":', 'application/json'), '400 VALIDATION_FAILED'],
  ['oversized body', 'POST auth.register', json({ ...good, user_name: 'x'.repeat(20_000) }), '413 PAYLOAD_TOO_LARGE'],
  ['form body', 'POST auth.login', raw('login=a', 'application/x-www-form-urlencoded'), '415 UNSUPPORTED_MEDIA_TYPE'],
  ['__proto__ key', 'POST auth.register', raw(`{"__proto__":{"user_role":1},${JSON.stringify(good).slice(1)}`, 'application/json'), '400 VALIDATION_FAILED', { issues: [''] }],
  ['invalid input', 'POST auth.register', json({ ...good, password: 'short' }), '400 VALIDATION_FAILED', { issues: ['password'] }],
  ['unknown field', 'POST auth.register', json({ ...good, user_role: 1, admin: true }), '400 VALIDATION_FAILED', { issues: [''] }],
  ['anonymous admin registration', 'POST auth.register', json({ ...good, user_role: 1 }), '403 FORBIDDEN'],
  ['duplicate login', 'POST auth.register', (t) => ({ json: { ...good, login: t.existingLogin } }), '409 LOGIN_TAKEN'],
  ['wrong password', 'POST auth.login', (t) => ({ json: { login: t.existingLogin, password: 'not the password' } }), '401 BAD_CREDENTIALS', { audited: 'bad_password' }],
  ['no token', 'GET users.list', undefined, '401 AUTH_REQUIRED'],
  ['expired token', 'GET users.list', bearer((t) => t.expired), '401 TOKEN_EXPIRED'],
  ['alg:none token', 'GET users.list', bearer((t) => t.unsigned), '401 INVALID_TOKEN'],
  ['revoked access token', 'GET users.list', bearer((t) => t.revoked), '401 TOKEN_REVOKED'],
  ['refresh token used as access', 'GET users.list', bearer((t) => t.refresh), '401 WRONG_TOKEN_TYPE'],
  ['access token used to refresh', 'POST auth.refresh', as((t) => t.access, {}), '401 WRONG_TOKEN_TYPE'],
  ['mutation without a content type', 'POST auth.refresh', bearer((t) => t.refresh), '415 UNSUPPORTED_MEDIA_TYPE'],
  ['non-numeric id', byId({ id: 'abc' }), bearer((t) => t.access), '400 VALIDATION_FAILED', { issues: ['id'] }],
  ['unknown id', byId({ id: 2147483647 }), bearer((t) => t.access), '404 NOT_FOUND'],
  ['account change with an unknown field', 'POST users.update', as((t) => t.admin, { id: 2, is_admin: true }), '400 VALIDATION_FAILED', { issues: [''] }],
  ['weak new password', 'POST me.changePassword', as((t) => t.access, { current_password: 'a fine long password', new_password: 'aaaaaaaaaa' }), '400 VALIDATION_FAILED', { issues: ['new_password'] }],
  ['a user reading the audit log', 'GET audit.list', bearer((t) => t.access), '403 FORBIDDEN'],
  ['mutation over GET', 'GET auth.login', undefined, '405 METHOD_NOT_ALLOWED'],
  ['unknown procedure', 'POST auth.nope', json({}), '404 NOT_FOUND'],
];

describeEachDatabase('bad input', (dialect) => {
  const server = useIsolatedServer(dialect);
  const database = databaseReader(() => server.database.url);
  let tokens: Tokens;
  beforeAll(async () => {
    const api = restClient(server.url);
    // The first account of an empty database may be admin; make it now so admin registration is closed.
    const admin = await api.signUp(uniqueLogin('first.admin'), 'a fine long password', 1);
    const existingLogin = uniqueLogin('existing');
    const { tokens: pair } = await api.signUp(existingLogin);
    const revoked = (await api.login(existingLogin, 'a fine long password')).body.access_token;
    await api.call('DELETE', '/logout', { token: revoked });
    const header = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url');
    const claims = pair.access_token.split('.')[1];
    const now = Math.floor(Date.now() / 1000);
    const kid = kidOf(pair.access_token);
    tokens = {
      access: pair.access_token,
      admin: admin.tokens.access_token,
      refresh: pair.refresh_token,
      revoked,
      expired: forgeToken({ iat: now - 3600, nbf: now - 3600, exp: now - 1800 }, { kid }),
      notYetValid: forgeToken({ nbf: now + 3600, exp: now + 7200 }, { kid }),
      foreign: forgeToken({}, { key: 'another-secret-that-is-long-enough-to-sign', kid }),
      unsigned: `${header}.${claims}.`,
      existingLogin,
    };
  });

  for (const [transport, cases, prefix] of [
    ['REST', restCases, REST_PREFIX],
    ['tRPC', trpcCases, `${TRPC_PREFIX}/`],
  ] as const) {
    describe(transport, () => {
      it.each(cases)('%s: %s → %s', async (_name, request, options, expected, more = {}) => {
        const [method = '', path = ''] = request.split(' ');
        const before = await database.rowCounts();
        const res = await call(server.url, method, prefix + path, options?.(tokens));
        const body = transport === 'REST' ? res.body : res.body.error.data;
        expect(`${res.status} ${body.code}`).toBe(expected);
        if (transport === 'tRPC') expect(body.httpStatus).toBe(res.status);
        expect(body.msg).toEqual(expect.any(String));
        expect(body.issues?.map((issue: { path: string }) => issue.path)).toEqual(more.issues);
        for (const issue of body.issues ?? [])
          expect(issue).toEqual({ path: expect.any(String), message: expect.any(String) });
        expect(res.headers.get('www-authenticate') ?? undefined).toBe(challenges[body.code as ErrorCode]);
        const after = await database.rowCounts();
        expect(after).toEqual({ ...before, audit_events: before.audit_events + (more.audited ? 1 : 0) });
        if (more.audited) expect(await database.lastAuditEvent()).toMatchObject({ detail: more.audited });
      });
    });
  }

  it('answers an unknown login exactly as a wrong password', async () => {
    const wrong = await call(server.url, 'POST', `${REST_PREFIX}/login`, {
      json: { login: tokens.existingLogin, password: 'nope nope' },
    });
    const unknown = await call(server.url, 'POST', `${REST_PREFIX}/login`, {
      json: { login: 'ghost.user', password: 'nope nope' },
    });
    expect(unknown.status).toBe(wrong.status);
    expect(unknown.body).toEqual(wrong.body);
  });
});
