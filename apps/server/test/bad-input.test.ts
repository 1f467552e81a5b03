import { REST_PREFIX, TRPC_PREFIX } from '@api-users/contract';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase, lastAuditEvent, rowCounts } from './support/databases.js';
import { type CallOptions, call, restClient } from './support/http.js';
import { uniqueLogin, useIsolatedServer } from './support/server.js';
import { forgeToken, kidOf } from './support/tokens.js';

interface Case {
  name: string;
  method: string;
  path: string;
  options?: (t: Tokens) => CallOptions;
  status: number;
  code: string;
  /** The WWW-Authenticate challenge expected, where one is. */
  challenge?: string;
  /** The paths of the issues a VALIDATION_FAILED answer lists; none where the request is not even JSON. */
  issues?: string[];
  /** A refused password is the one thing recorded: the `detail` of the `login_failed` event written. */
  audited?: 'bad_password' | 'unknown_login';
}

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

const good = { user_name: 'Valid Name', login: 'valid.login', password: 'long enough password' };
const json = (body: unknown) => (): CallOptions => ({ json: body });
const bearer =
  (pick: (t: Tokens) => string) =>
  (t: Tokens): CallOptions => ({ token: pick(t) });
const invalidToken = 'Bearer error="invalid_token"';

const restCases: Case[] = [
  {
    name: 'malformed JSON',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: () => ({ raw: '{"login":', headers: { 'content-type': 'application/json' } }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'empty JSON body',
    method: 'POST',
    path: `${REST_PREFIX}/login`,
    options: () => ({ raw: '', headers: { 'content-type': 'application/json' } }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'JSON array body',
    method: 'POST',
    path: `${REST_PREFIX}/login`,
    options: json([good]),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: [''],
  },
  {
    name: 'text/plain body',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: () => ({ raw: JSON.stringify(good), headers: { 'content-type': 'text/plain' } }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'form body',
    method: 'POST',
    path: `${REST_PREFIX}/login`,
    options: () => ({ raw: 'login=a&password=b', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'oversized body',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, user_name: 'x'.repeat(20_000) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'missing fields',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ login: 'only.login' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['user_name', 'password'],
  },
  {
    name: 'password too short',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, password: 'short' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['password'],
  },
  {
    name: 'password too long',
    method: 'POST',
    path: `${REST_PREFIX}/login`,
    options: json({ login: 'valid.login', password: 'p'.repeat(129) }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['password'],
  },
  {
    name: 'login of the wrong type',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, login: 12345 }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['login'],
  },
  {
    name: 'login with a zero-width space',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, login: 'zero\u200bwidth' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['login'],
  },
  {
    name: 'login with SQL metacharacters',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, login: "x' OR '1'='1" }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['login'],
  },
  {
    name: 'user_name with a control character',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, user_name: 'bell\u0007' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['user_name'],
  },
  {
    name: 'user_name with a lone surrogate',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, user_name: '\ud800x' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['user_name'],
  },
  {
    name: 'password with a lone surrogate',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, password: 'long enough \udfff password' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['password'],
  },
  {
    name: 'login with a lone surrogate',
    method: 'POST',
    path: `${REST_PREFIX}/login`,
    options: (t) => ({ json: { login: `${t.existingLogin}\ud83d`, password: 'a fine long password' } }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['login'],
  },
  {
    name: 'repetitive password',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, password: 'abcabcabc' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['password'],
  },
  {
    name: 'sequential password',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, password: 'abcdefghijk' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['password'],
  },
  {
    name: 'unknown field',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, is_admin: true }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: [''],
  },
  {
    name: '__proto__ key',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: () => ({
      raw: `{"__proto__":{"user_role":1},${JSON.stringify(good).slice(1)}`,
      headers: { 'content-type': 'application/json' },
    }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'user_role out of range',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, user_role: 3 }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['user_role'],
  },
  {
    name: 'user_role as a string',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, user_role: '2' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['user_role'],
  },
  {
    name: 'anonymous admin registration',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: json({ ...good, user_role: 1 }),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'user creating an admin',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: (t) => ({ json: { ...good, user_role: 1 }, token: t.access }),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'register with a garbled token',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: () => ({ json: good, token: 'garbage' }),
    status: 401,
    code: 'INVALID_TOKEN',
    challenge: invalidToken,
  },
  {
    name: 'duplicate login',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: (t) => ({ json: { ...good, login: t.existingLogin } }),
    status: 409,
    code: 'LOGIN_TAKEN',
  },
  {
    name: 'duplicate login in other case',
    method: 'POST',
    path: `${REST_PREFIX}/register`,
    options: (t) => ({ json: { ...good, login: t.existingLogin.toUpperCase() } }),
    status: 409,
    code: 'LOGIN_TAKEN',
  },
  {
    name: 'wrong password',
    method: 'POST',
    path: `${REST_PREFIX}/login`,
    options: (t) => ({ json: { login: t.existingLogin, password: 'not the password' } }),
    status: 401,
    code: 'BAD_CREDENTIALS',
    audited: 'bad_password',
  },
  {
    name: 'unknown login',
    method: 'POST',
    path: `${REST_PREFIX}/login`,
    options: json({ login: 'nobody.at.all', password: 'not the password' }),
    status: 401,
    code: 'BAD_CREDENTIALS',
    audited: 'unknown_login',
  },
  {
    name: 'no token',
    method: 'GET',
    path: `${REST_PREFIX}/users`,
    status: 401,
    code: 'AUTH_REQUIRED',
    challenge: 'Bearer',
  },
  {
    name: 'garbled token',
    method: 'GET',
    path: `${REST_PREFIX}/users`,
    options: () => ({ token: 'not.a.jwt' }),
    status: 401,
    code: 'INVALID_TOKEN',
    challenge: invalidToken,
  },
  {
    name: 'Basic scheme',
    method: 'GET',
    path: `${REST_PREFIX}/users`,
    options: () => ({ headers: { authorization: 'Basic dXNlcjpwYXNz' } }),
    status: 401,
    code: 'INVALID_TOKEN',
    challenge: invalidToken,
  },
  {
    name: 'expired token',
    method: 'GET',
    path: `${REST_PREFIX}/users`,
    options: bearer((t) => t.expired),
    status: 401,
    code: 'TOKEN_EXPIRED',
    challenge: invalidToken,
  },
  {
    name: 'token not yet valid',
    method: 'GET',
    path: `${REST_PREFIX}/users`,
    options: bearer((t) => t.notYetValid),
    status: 401,
    code: 'INVALID_TOKEN',
    challenge: invalidToken,
  },
  {
    name: 'token signed with another secret',
    method: 'GET',
    path: `${REST_PREFIX}/users`,
    options: bearer((t) => t.foreign),
    status: 401,
    code: 'INVALID_TOKEN',
    challenge: invalidToken,
  },
  {
    name: 'alg:none token',
    method: 'GET',
    path: `${REST_PREFIX}/users`,
    options: bearer((t) => t.unsigned),
    status: 401,
    code: 'INVALID_TOKEN',
    challenge: invalidToken,
  },
  {
    name: 'revoked access token',
    method: 'GET',
    path: `${REST_PREFIX}/users`,
    options: bearer((t) => t.revoked),
    status: 401,
    code: 'TOKEN_REVOKED',
    challenge: invalidToken,
  },
  {
    name: 'refresh token used as access',
    method: 'GET',
    path: `${REST_PREFIX}/users`,
    options: bearer((t) => t.refresh),
    status: 401,
    code: 'WRONG_TOKEN_TYPE',
    challenge: invalidToken,
  },
  {
    name: 'access token used to refresh',
    method: 'POST',
    path: `${REST_PREFIX}/refresh`,
    options: bearer((t) => t.access),
    status: 401,
    code: 'WRONG_TOKEN_TYPE',
    challenge: invalidToken,
  },
  {
    name: 'access token used for logout2',
    method: 'DELETE',
    path: `${REST_PREFIX}/logout2`,
    options: bearer((t) => t.access),
    status: 401,
    code: 'WRONG_TOKEN_TYPE',
    challenge: invalidToken,
  },
  {
    name: 'logout without a token',
    method: 'DELETE',
    path: `${REST_PREFIX}/logout`,
    status: 401,
    code: 'AUTH_REQUIRED',
    challenge: 'Bearer',
  },
  {
    name: 'refresh with a body',
    method: 'POST',
    path: `${REST_PREFIX}/refresh`,
    options: (t) => ({ token: t.refresh, json: { extra: 1 } }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: [''],
  },
  {
    name: 'non-numeric id',
    method: 'GET',
    path: `${REST_PREFIX}/users/abc`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['id'],
  },
  {
    name: 'zero id',
    method: 'GET',
    path: `${REST_PREFIX}/users/0`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['id'],
  },
  {
    name: 'negative id',
    method: 'GET',
    path: `${REST_PREFIX}/users/-1`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['id'],
  },
  {
    name: 'huge id',
    method: 'GET',
    path: `${REST_PREFIX}/users/99999999999999999999`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['id'],
  },
  {
    name: 'unknown id',
    method: 'GET',
    path: `${REST_PREFIX}/users/2147483647`,
    options: bearer((t) => t.access),
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'limit 0',
    method: 'GET',
    path: `${REST_PREFIX}/users?limit=0`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['limit'],
  },
  {
    name: 'limit too large',
    method: 'GET',
    path: `${REST_PREFIX}/users?limit=1000`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['limit'],
  },
  {
    name: 'limit twice',
    method: 'GET',
    path: `${REST_PREFIX}/users?limit=1&limit=2`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['limit'],
  },
  {
    name: 'forged cursor',
    method: 'GET',
    path: `${REST_PREFIX}/users?cursor=abc`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['cursor'],
  },
  {
    name: 'unknown query parameter',
    method: 'GET',
    path: `${REST_PREFIX}/users?offset=10`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: [''],
  },
  {
    name: 'account change with an unknown field',
    method: 'PATCH',
    path: `${REST_PREFIX}/users/2`,
    options: (t) => ({ json: { is_admin: true }, token: t.admin }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: [''],
  },
  {
    name: 'account change repeating the id in the body',
    method: 'PATCH',
    path: `${REST_PREFIX}/users/2`,
    options: (t) => ({ json: { id: 1, user_role: 1 }, token: t.admin }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['id'],
  },
  {
    name: 'disabled as a string in a body',
    method: 'PATCH',
    path: `${REST_PREFIX}/users/2`,
    options: (t) => ({ json: { disabled: 'true' }, token: t.admin }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['disabled'],
  },
  {
    name: 'new name with a control character',
    method: 'PATCH',
    path: `${REST_PREFIX}/users/2`,
    options: (t) => ({ json: { user_name: 'bell\u0007' }, token: t.admin }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['user_name'],
  },
  {
    name: 'a user changing an account',
    method: 'PATCH',
    path: `${REST_PREFIX}/users/2`,
    options: (t) => ({ json: { user_role: 1 }, token: t.access }),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'account deletion without a token',
    method: 'DELETE',
    path: `${REST_PREFIX}/users/2`,
    status: 401,
    code: 'AUTH_REQUIRED',
    challenge: 'Bearer',
  },
  {
    name: 'password change without its fields',
    method: 'POST',
    path: `${REST_PREFIX}/me/password`,
    options: (t) => ({ json: {}, token: t.access }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['current_password', 'new_password'],
  },
  {
    name: 'new password with a lone surrogate',
    method: 'POST',
    path: `${REST_PREFIX}/me/password`,
    options: (t) => ({
      json: { current_password: 'a fine long password', new_password: 'long enough \ud800 password' },
      token: t.access,
    }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['new_password'],
  },
  {
    name: 'session id that is no session id',
    method: 'DELETE',
    path: `${REST_PREFIX}/me/sessions/..%2F..%2Fusers`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['sid'],
  },
  {
    name: 'forged session cursor',
    method: 'GET',
    path: `${REST_PREFIX}/me/sessions?cursor=1%20OR%201`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['cursor'],
  },
  {
    name: 'empty search',
    method: 'GET',
    path: `${REST_PREFIX}/users?q=%20`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['q'],
  },
  {
    name: 'unknown role filter',
    method: 'GET',
    path: `${REST_PREFIX}/users?role=3`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['role'],
  },
  {
    name: 'disabled filter neither true nor false',
    method: 'GET',
    path: `${REST_PREFIX}/users?disabled=yes`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['disabled'],
  },
  {
    name: 'unknown audit event type',
    method: 'GET',
    path: `${REST_PREFIX}/audit?type=everything`,
    options: bearer((t) => t.admin),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['type'],
  },
  {
    name: 'a user reading the audit log',
    method: 'GET',
    path: `${REST_PREFIX}/audit`,
    options: bearer((t) => t.access),
    status: 403,
    code: 'FORBIDDEN',
  },
  { name: 'unknown route', method: 'GET', path: `${REST_PREFIX}/nope`, status: 404, code: 'NOT_FOUND' },
];

/** The same kinds of mistakes over tRPC: raw HTTP so the malformed ones can be sent at all. */
const trpcCases: Case[] = [
  {
    name: 'malformed JSON',
    method: 'POST',
    path: `${TRPC_PREFIX}/auth.login`,
    options: () => ({ raw: '{"login":', headers: { 'content-type': 'application/json' } }),
    status: 400,
    code: 'VALIDATION_FAILED',
  },
  {
    name: 'oversized body',
    method: 'POST',
    path: `${TRPC_PREFIX}/auth.register`,
    options: json({ ...good, user_name: 'x'.repeat(20_000) }),
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    name: 'form body',
    method: 'POST',
    path: `${TRPC_PREFIX}/auth.login`,
    options: () => ({ raw: 'login=a', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'invalid input',
    method: 'POST',
    path: `${TRPC_PREFIX}/auth.register`,
    options: json({ ...good, password: 'short' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['password'],
  },
  {
    name: 'user_name with a lone surrogate',
    method: 'POST',
    path: `${TRPC_PREFIX}/auth.register`,
    options: json({ ...good, user_name: 'x\udc00' }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['user_name'],
  },
  {
    name: 'unknown field',
    method: 'POST',
    path: `${TRPC_PREFIX}/auth.register`,
    options: json({ ...good, user_role: 1, admin: true }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: [''],
  },
  {
    name: 'anonymous admin registration',
    method: 'POST',
    path: `${TRPC_PREFIX}/auth.register`,
    options: json({ ...good, user_role: 1 }),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'duplicate login',
    method: 'POST',
    path: `${TRPC_PREFIX}/auth.register`,
    options: (t) => ({ json: { ...good, login: t.existingLogin } }),
    status: 409,
    code: 'LOGIN_TAKEN',
  },
  {
    name: 'wrong password',
    method: 'POST',
    path: `${TRPC_PREFIX}/auth.login`,
    options: (t) => ({ json: { login: t.existingLogin, password: 'not the password' } }),
    status: 401,
    code: 'BAD_CREDENTIALS',
    audited: 'bad_password',
  },
  {
    name: 'no token',
    method: 'GET',
    path: `${TRPC_PREFIX}/users.list`,
    status: 401,
    code: 'AUTH_REQUIRED',
    challenge: 'Bearer',
  },
  {
    name: 'expired token',
    method: 'GET',
    path: `${TRPC_PREFIX}/users.list`,
    options: bearer((t) => t.expired),
    status: 401,
    code: 'TOKEN_EXPIRED',
    challenge: invalidToken,
  },
  {
    name: 'alg:none token',
    method: 'GET',
    path: `${TRPC_PREFIX}/users.list`,
    options: bearer((t) => t.unsigned),
    status: 401,
    code: 'INVALID_TOKEN',
    challenge: invalidToken,
  },
  {
    name: 'revoked access token',
    method: 'GET',
    path: `${TRPC_PREFIX}/users.list`,
    options: bearer((t) => t.revoked),
    status: 401,
    code: 'TOKEN_REVOKED',
    challenge: invalidToken,
  },
  {
    name: 'refresh token used as access',
    method: 'GET',
    path: `${TRPC_PREFIX}/users.list`,
    options: bearer((t) => t.refresh),
    status: 401,
    code: 'WRONG_TOKEN_TYPE',
    challenge: invalidToken,
  },
  {
    name: 'access token used to refresh',
    method: 'POST',
    path: `${TRPC_PREFIX}/auth.refresh`,
    options: (t) => ({ token: t.access, json: {} }),
    status: 401,
    code: 'WRONG_TOKEN_TYPE',
    challenge: invalidToken,
  },
  {
    name: 'mutation without a content type',
    method: 'POST',
    path: `${TRPC_PREFIX}/auth.refresh`,
    options: bearer((t) => t.refresh),
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
  },
  {
    name: 'non-numeric id',
    method: 'GET',
    path: `${TRPC_PREFIX}/users.byId?input=${encodeURIComponent('{"id":"abc"}')}`,
    options: bearer((t) => t.access),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['id'],
  },
  {
    name: 'unknown id',
    method: 'GET',
    path: `${TRPC_PREFIX}/users.byId?input=${encodeURIComponent('{"id":2147483647}')}`,
    options: bearer((t) => t.access),
    status: 404,
    code: 'NOT_FOUND',
  },
  {
    name: 'account change with an unknown field',
    method: 'POST',
    path: `${TRPC_PREFIX}/users.update`,
    options: (t) => ({ json: { id: 2, is_admin: true }, token: t.admin }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: [''],
  },
  {
    name: 'weak new password',
    method: 'POST',
    path: `${TRPC_PREFIX}/me.changePassword`,
    options: (t) => ({
      json: { current_password: 'a fine long password', new_password: 'aaaaaaaaaa' },
      token: t.access,
    }),
    status: 400,
    code: 'VALIDATION_FAILED',
    issues: ['new_password'],
  },
  {
    name: 'a user reading the audit log',
    method: 'GET',
    path: `${TRPC_PREFIX}/audit.list`,
    options: bearer((t) => t.access),
    status: 403,
    code: 'FORBIDDEN',
  },
  {
    name: 'mutation over GET',
    method: 'GET',
    path: `${TRPC_PREFIX}/auth.login`,
    status: 405,
    code: 'METHOD_NOT_ALLOWED',
  },
  {
    name: 'unknown procedure',
    method: 'POST',
    path: `${TRPC_PREFIX}/auth.nope`,
    options: json({}),
    status: 404,
    code: 'NOT_FOUND',
  },
];

describeEachDatabase('bad input', (dialect) => {
  const server = useIsolatedServer(dialect);
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

  for (const [transport, cases] of [
    ['REST', restCases],
    ['tRPC', trpcCases],
  ] as const) {
    describe(transport, () => {
      it.each(cases)('$name → $status $code', async (c) => {
        const before = await rowCounts(server.database.url);
        const res = await call(server.url, c.method, c.path, c.options?.(tokens));
        const body = transport === 'REST' ? res.body : res.body.error.data;
        expect({ status: res.status, code: body.code }).toEqual({ status: c.status, code: c.code });
        if (transport === 'tRPC') expect(body.httpStatus).toBe(c.status);
        expect(body.msg).toEqual(expect.any(String));
        expect(body.issues?.map((issue: { path: string }) => issue.path)).toEqual(c.issues);
        for (const issue of body.issues ?? [])
          expect(issue).toEqual({ path: expect.any(String), message: expect.any(String) });
        expect(res.headers.get('www-authenticate') ?? undefined).toBe(c.challenge);
        const after = await rowCounts(server.database.url);
        expect(after).toEqual({ ...before, audit_events: (before.audit_events ?? 0) + (c.audited ? 1 : 0) });
        if (c.audited) expect(await lastAuditEvent(server.database.url)).toMatchObject({ detail: c.audited });
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
