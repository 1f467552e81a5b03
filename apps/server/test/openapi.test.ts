import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  errorStatus,
  type Operation,
  type OperationName,
  operationNames,
  operations,
  pathParameters,
  takesBody,
} from '@api-users/contract';
import SwaggerParser from '@apidevtools/swagger-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { softwareAuthenticator } from '../../../test-support/authenticator.js';
import { buildOpenApiDocument, DOCS_PREFIX, OPENAPI_PATH, type OpenApiDocument } from '../src/http/adapters/openapi.js';
import { requestExamples } from '../src/http/adapters/openapi-examples.js';
import { type Reply, restClient } from './support/http.js';
import { enrolTotp, signInWithCode, totpCode } from './support/mfa.js';
import { operationClient } from './support/operations.js';
import { mailedToken, uniqueLogin, useIsolatedServer } from './support/server.js';
import { claimsOf } from './support/tokens.js';

const document = buildOpenApiDocument();

interface DocumentedOperation {
  responses: Record<string, { content: { 'application/json': { schema: z.core.JSONSchema.JSONSchema } } }>;
}

/** Each operation of a document by its operationId. */
function operationsOf(doc: OpenApiDocument): Map<string, DocumentedOperation> {
  const found = new Map<string, DocumentedOperation>();
  for (const item of Object.values(doc.paths))
    for (const [key, operation] of Object.entries(item)) {
      // A path's own `servers` (the root endpoints') is no operation.
      if (key !== 'servers') found.set(String((operation as { operationId: unknown }).operationId), operation as never);
    }
  return found;
}

const statusesOf = (name: OperationName) => Object.keys(operationsOf(document).get(name)?.responses ?? {}).map(Number);

/**
 * What each operation must document; the document derives it from the table. DELETEs list 413 and 415
 * because Fastify parses (and limits) a body sent with them, though they read none.
 */
const expectedStatuses: Record<OperationName, number[]> = {
  register: [201, 400, 401, 403, 409, 413, 415, 429, 500, 503],
  login: [200, 400, 401, 403, 413, 415, 429, 500, 503],
  loginMfa: [200, 400, 401, 403, 413, 415, 429, 500, 503],
  startPasskeySignIn: [200, 400, 401, 409, 413, 415, 429, 500, 503],
  loginPasskey: [200, 400, 401, 403, 413, 415, 429, 500, 503],
  refresh: [200, 400, 401, 413, 415, 429, 500, 503],
  logout: [200, 400, 401, 413, 415, 500, 503],
  logoutRefresh: [200, 400, 401, 413, 415, 500, 503],
  verifyEmail: [200, 400, 409, 413, 415, 429, 500, 503],
  forgotPassword: [200, 400, 413, 415, 429, 500, 503],
  resetPassword: [200, 400, 413, 415, 429, 500, 503],
  introspect: [200, 400, 413, 415, 500, 503],
  listUsers: [200, 400, 401, 403, 500, 503],
  userById: [200, 400, 401, 403, 404, 500, 503],
  getMe: [200, 400, 401, 500, 503],
  updateMe: [200, 400, 401, 403, 413, 415, 500, 503],
  deleteMe: [200, 400, 401, 403, 409, 413, 415, 429, 500, 503],
  changePassword: [200, 400, 401, 403, 413, 415, 429, 500, 503],
  getEmail: [200, 400, 401, 403, 500, 503],
  changeEmail: [200, 400, 401, 403, 413, 415, 429, 500, 503],
  getMfa: [200, 400, 401, 500, 503],
  startTotp: [200, 400, 401, 409, 413, 415, 500, 503],
  confirmTotp: [200, 400, 401, 409, 413, 415, 429, 500, 503],
  disableMfa: [200, 400, 401, 403, 409, 413, 415, 429, 500, 503],
  regenerateRecoveryCodes: [200, 400, 401, 403, 409, 413, 415, 429, 500, 503],
  listPasskeys: [200, 400, 401, 500, 503],
  startPasskeyRegistration: [200, 400, 401, 413, 415, 429, 500, 503],
  addPasskey: [201, 400, 401, 413, 415, 500, 503],
  renamePasskey: [200, 400, 401, 403, 404, 413, 415, 500, 503],
  removePasskey: [200, 400, 401, 403, 404, 413, 415, 429, 500, 503],
  listMySessions: [200, 400, 401, 403, 500, 503],
  endMySession: [200, 400, 401, 403, 404, 413, 415, 500, 503],
  endMyOtherSessions: [200, 400, 401, 403, 413, 415, 500, 503],
  updateUser: [200, 400, 401, 403, 404, 409, 413, 415, 500, 503],
  deleteUser: [200, 400, 401, 403, 404, 409, 413, 415, 500, 503],
  setUserPassword: [200, 400, 401, 403, 404, 413, 415, 500, 503],
  getUserLockout: [200, 400, 401, 403, 404, 500, 503],
  liftUserLockout: [200, 400, 401, 403, 404, 413, 415, 500, 503],
  removeUserMfa: [200, 400, 401, 403, 404, 409, 413, 415, 500, 503],
  listUserSessions: [200, 400, 401, 403, 404, 500, 503],
  endUserSessions: [200, 400, 401, 403, 404, 413, 415, 500, 503],
  endUserSession: [200, 400, 401, 403, 404, 413, 415, 500, 503],
  listAudit: [200, 400, 401, 403, 500, 503],
  createWebhook: [201, 400, 401, 403, 413, 415, 500, 503],
  listWebhooks: [200, 400, 401, 403, 500, 503],
  updateWebhook: [200, 400, 401, 403, 404, 413, 415, 500, 503],
  rotateWebhookSecret: [200, 400, 401, 403, 404, 413, 415, 500, 503],
  testWebhook: [200, 400, 401, 403, 404, 413, 415, 500, 503],
  redeliverWebhook: [200, 400, 401, 403, 404, 413, 415, 500, 503],
  deleteWebhook: [200, 400, 401, 403, 404, 413, 415, 500, 503],
  listWebhookDeliveries: [200, 400, 401, 403, 404, 500, 503],
  setup: [200, 400, 500, 503],
};

/**
 * Not provoked by each operation's requests: 429 needs the limits this server runs without (the test after
 * them provokes it on a server of its own); 500 and 503 need a broken server.
 */
const notProvoked = [429, 500, 503];

describe('OpenAPI document', () => {
  it('is the committed copy (run `pnpm --filter @api-users/server run openapi` when this fails)', () => {
    const committed = readFileSync(new URL('../openapi.json', import.meta.url), 'utf8');
    expect(JSON.parse(committed)).toStrictEqual(JSON.parse(JSON.stringify(document)));
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    // validate() dereferences the object it is given, in place.
    await expect(SwaggerParser.validate(structuredClone(document) as never)).resolves.toBeDefined();
  });

  it('lists the success and every error status of each operation', () => {
    expect(Object.fromEntries(operationNames.map((name) => [name, statusesOf(name)]))).toEqual(expectedStatuses);
  });

  it('gives every request and answer an example its schema accepts, and every error one of its codes', () => {
    type Content = { example?: unknown; schema: z.core.JSONSchema.JSONSchema };
    type Documented = {
      parameters?: { name: string; example?: unknown }[];
      requestBody?: { content: Record<string, Content> };
      responses: Record<string, { content: Record<string, Content> }>;
    };
    const problems: string[] = [];
    for (const name of operationNames) {
      const op = operations[name] as Operation;
      const documented = operationsOf(document).get(name) as unknown as Documented;
      const input = requestExamples[name] as Record<string, unknown>;
      if (!op.input.safeParse(input).success) problems.push(`${name}: the input example is refused`);
      for (const parameter of documented.parameters ?? []) {
        if (pathParameters(op).includes(parameter.name) && parameter.example === undefined)
          problems.push(`${name}: path parameter ${parameter.name} has no example`);
      }
      if (takesBody(op) && documented.requestBody?.content['application/json']?.example === undefined)
        problems.push(`${name}: no body example`);
      for (const [status, { content }] of Object.entries(documented.responses)) {
        const example = content['application/json']?.example;
        if (example === undefined) problems.push(`${name} ${status}: no example`);
        else if (Number(status) === op.status && !op.output.safeParse(example).success)
          problems.push(`${name} ${status}: the answer example is refused by the output schema`);
        else if (Number(status) >= 400) {
          const { code } = example as { code: keyof typeof errorStatus };
          const schema = z.fromJSONSchema(content['application/json']?.schema as never);
          if (errorStatus[code] !== Number(status) || !schema.safeParse(example).success)
            problems.push(`${name} ${status}: the error example does not fit`);
        }
      }
    }
    expect(problems).toEqual([]);
  });
});

describe('live responses match the document', () => {
  const password = 'a fine long password';
  const userLogin = uniqueLogin('openapi');
  const adminLogin = uniqueLogin('openapi.admin');
  const disabledLogin = uniqueLogin('openapi.disabled');
  // Users read only their own account here, so that listUsers and userById can answer 403.
  const server = useIsolatedServer('sqlite', { USERS_READABLE_BY: 'admins', WEBHOOK_ALLOW_PRIVATE: 'true' });
  // Where an admin without a second factor is refused all but enrolling one (403 MFA_ENROLMENT_REQUIRED).
  const strict = useIsolatedServer('sqlite', { MFA_REQUIRED_FOR_ADMINS: 'true' });
  let strictApi: ReturnType<typeof restClient>;
  let unenrolledAdmin: { token: string };
  let api: ReturnType<typeof restClient>;
  let userId: number;
  let adminId: number;
  let served: OpenApiDocument;
  let documented: Map<string, DocumentedOperation>;

  beforeAll(async () => {
    api = restClient(server.url);
    // The first account of an empty database may be admin.
    adminId = (await api.signUp(adminLogin, password, 1)).user.id_user;
    userId = (await api.signUp(userLogin, password)).user.id_user;
    const disabled = (await api.signUp(disabledLogin, password)).user.id_user;
    const patched = await api.call('PATCH', `/users/${disabled}`, {
      json: { disabled: true },
      token: (await adminPair()).access_token,
    });
    if (patched.status !== 200) throw new Error(`could not disable: ${JSON.stringify(patched.body)}`);
    strictApi = restClient(strict.url);
    unenrolledAdmin = {
      token: (await strictApi.signUp(uniqueLogin('openapi.strict'), password, 1)).tokens.access_token,
    };
    served = await (await fetch(server.url + OPENAPI_PATH)).json();
    // Live bodies are checked against the served document, its references resolved (on a copy).
    documented = operationsOf((await SwaggerParser.dereference(structuredClone(served) as never)) as never);
  });

  /**
   * The document's schema for one status of one operation, as a validator. zod's fromJSONSchema is the JSON
   * Schema validator at hand (ajv is not a dependency of this package); it covers the keywords the document
   * uses, and the strictness test below shows it is no rubber stamp.
   */
  function documentedSchema(name: OperationName, status: number): z.ZodType | undefined {
    const schema = documented.get(name)?.responses[status]?.content['application/json'].schema;
    return schema === undefined ? undefined : z.fromJSONSchema(schema);
  }

  const signIn = async (login: string) =>
    (await api.login(login, password)).body as { access_token: string; refresh_token: string };
  const pair = () => signIn(userLogin);
  const adminPair = () => signIn(adminLogin);
  const asUser = async () => ({ token: (await pair()).access_token });
  const asAdmin = async () => ({ token: (await adminPair()).access_token });
  /** A plain account of its own, for the operations that change or remove one. */
  const someone = async () => (await api.signUp(uniqueLogin('openapi.someone'), password)).user.id_user as number;
  /** A new account, signed in. */
  const fresh = async () => {
    const login = uniqueLogin('openapi.fresh');
    const { user, tokens } = await api.signUp(login, password);
    return { login, id: user.id_user as number, token: tokens.access_token };
  };
  /** A new account with an authenticator app and its recovery codes, signed in. */
  const enrolled = async () => {
    const account = await fresh();
    return { ...account, codes: (await enrolTotp(api, account.token, password)).recoveryCodes };
  };
  const WRONG_CODE = 'aaaa-aaaa-aaaa-aaaa';
  /** A new account with an address to confirm: its login, address and token. */
  const withEmail = async (email = `${uniqueLogin('openapi.mail')}@example.com`) => {
    const account = await fresh();
    await api.call('POST', '/me/email', { token: account.token, json: { email, password } });
    return { ...account, email, verifyToken: await mailedToken(server.logs, 'verify', email) };
  };
  /** Begins adding a passkey to the account of `token`: the ceremony and an authenticator's answer to it. */
  const registration = async (token: string) => {
    const authenticator = softwareAuthenticator();
    const begun = (await api.call('POST', '/me/passkeys/registration', { token, json: { password } })).body;
    return { authenticator, ceremony_id: begun.ceremony_id, response: authenticator.register(begun.options) };
  };
  /** A new account with a passkey, signed in: its token, the passkey and the authenticator holding it. */
  const withPasskey = async () => {
    const account = await fresh();
    const { authenticator, ceremony_id, response } = await registration(account.token);
    const passkey = (await api.call('POST', '/me/passkeys', { token: account.token, json: { ceremony_id, response } }))
      .body;
    return { ...account, passkey, authenticator };
  };
  /** The second step of a passkey sign-in, answered by `authenticator` (for `mfa_token`'s account, if given). */
  const passkeyAnswer = async (authenticator: ReturnType<typeof softwareAuthenticator>, mfa_token?: string) => {
    const begun = (await api.call('POST', '/login/passkey/options', { json: mfa_token ? { mfa_token } : {} })).body;
    return { ceremony_id: begun.ceremony_id, response: authenticator.authenticate(begun.options) };
  };
  const sid = (token: string) => claimsOf(token).sid;
  const tooLarge = { json: { login: 'someone', password: 'x'.repeat(20_000) } };
  const plainText = { raw: 'hello', headers: { 'content-type': 'text/plain' } };
  const newUser = () => ({ user_name: 'Someone New', login: uniqueLogin('openapi'), password });

  /** Requests provoking every documented status of each operation but those in `notProvoked`. */
  const requests: Record<OperationName, Array<() => Promise<Reply>>> = {
    register: [
      () => api.register(newUser()),
      () => api.call('POST', '/register', { json: {} }),
      () => api.register(newUser(), 'not-a-token'),
      async () => api.register({ ...newUser(), user_role: 1 }, (await pair()).access_token),
      () => api.register({ ...newUser(), login: userLogin }),
      () => api.call('POST', '/register', tooLarge),
      () => api.call('POST', '/register', plainText),
    ],
    login: [
      () => api.login(userLogin, password),
      () => api.call('POST', '/login', { json: { login: userLogin } }),
      () => api.login(userLogin, 'a wrong password'),
      () => api.login(disabledLogin, password),
      () => api.call('POST', '/login', tooLarge),
      () => api.call('POST', '/login', plainText),
    ],
    loginMfa: [
      async () => {
        const { login, codes } = await enrolled();
        return signInWithCode(api, login, password, codes[0] ?? '');
      },
      () => api.call('POST', '/login/mfa', { json: { mfa_token: 'mfa.nope' } }),
      async () => signInWithCode(api, (await enrolled()).login, password, WRONG_CODE),
      async () => {
        const { login, id, codes } = await enrolled();
        const { mfa_token } = (await api.login(login, password)).body;
        await api.call('PATCH', `/users/${id}`, { json: { disabled: true }, ...(await asAdmin()) });
        return api.call('POST', '/login/mfa', { json: { mfa_token, code: codes[0] } });
      },
      () => api.call('POST', '/login/mfa', tooLarge),
      () => api.call('POST', '/login/mfa', plainText),
    ],
    startPasskeySignIn: [
      () => api.call('POST', '/login/passkey/options', { json: {} }),
      () => api.call('POST', '/login/passkey/options', { json: { mfa_token: 42 } }),
      () => api.call('POST', '/login/passkey/options', { json: { mfa_token: 'mfa.nope' } }),
      async () => {
        const { login } = await enrolled();
        const { mfa_token } = (await api.login(login, password)).body;
        return api.call('POST', '/login/passkey/options', { json: { mfa_token } });
      },
      () => api.call('POST', '/login/passkey/options', tooLarge),
      () => api.call('POST', '/login/passkey/options', plainText),
    ],
    loginPasskey: [
      async () =>
        api.call('POST', '/login/passkey', { json: await passkeyAnswer((await withPasskey()).authenticator) }),
      () => api.call('POST', '/login/passkey', { json: { ceremony_id: 'x', response: {} } }),
      async () => {
        const answer = await passkeyAnswer((await withPasskey()).authenticator);
        await api.call('POST', '/login/passkey', { json: answer });
        return api.call('POST', '/login/passkey', { json: answer });
      },
      async () => {
        const { id, authenticator } = await withPasskey();
        await api.call('PATCH', `/users/${id}`, { json: { disabled: true }, ...(await asAdmin()) });
        return api.call('POST', '/login/passkey', { json: await passkeyAnswer(authenticator) });
      },
      () => api.call('POST', '/login/passkey', tooLarge),
      () => api.call('POST', '/login/passkey', plainText),
    ],
    refresh: [
      async () => api.call('POST', '/refresh', { token: (await pair()).refresh_token }),
      async () => api.call('POST', '/refresh', { token: (await pair()).refresh_token, json: { unexpected: 1 } }),
      () => api.call('POST', '/refresh'),
      () => api.call('POST', '/refresh', tooLarge),
      () => api.call('POST', '/refresh', plainText),
    ],
    logout: [
      async () => api.call('DELETE', '/logout', { token: (await pair()).access_token }),
      async () => api.call('DELETE', '/logout?unexpected=1', { token: (await pair()).access_token }),
      () => api.call('DELETE', '/logout'),
      () => api.call('DELETE', '/logout', tooLarge),
      () => api.call('DELETE', '/logout', plainText),
    ],
    logoutRefresh: [
      async () => api.call('DELETE', '/logout2', { token: (await pair()).refresh_token }),
      async () => api.call('DELETE', '/logout2?unexpected=1', { token: (await pair()).refresh_token }),
      async () => api.call('DELETE', '/logout2', { token: (await pair()).access_token }),
      () => api.call('DELETE', '/logout2', tooLarge),
      () => api.call('DELETE', '/logout2', plainText),
    ],
    verifyEmail: [
      async () => api.call('POST', '/email/verify', { json: { token: (await withEmail()).verifyToken } }),
      () => api.call('POST', '/email/verify', { json: { token: 'ev.not-a-link' } }),
      async () => {
        const first = await withEmail();
        const second = await withEmail(first.email);
        await api.call('POST', '/email/verify', { json: { token: first.verifyToken } });
        return api.call('POST', '/email/verify', { json: { token: second.verifyToken } });
      },
      () => api.call('POST', '/email/verify', tooLarge),
      () => api.call('POST', '/email/verify', plainText),
    ],
    forgotPassword: [
      () => api.call('POST', '/password/forgot', { json: { email: 'nobody@example.com' } }),
      () => api.call('POST', '/password/forgot', { json: { email: 'not an address' } }),
      () => api.call('POST', '/password/forgot', tooLarge),
      () => api.call('POST', '/password/forgot', plainText),
    ],
    resetPassword: [
      async () => {
        const { email, verifyToken } = await withEmail();
        await api.call('POST', '/email/verify', { json: { token: verifyToken } });
        await api.call('POST', '/password/forgot', { json: { email } });
        const token = await mailedToken(server.logs, 'reset', email);
        return api.call('POST', '/password/reset', { json: { token, new_password: 'a new long password' } });
      },
      () => api.call('POST', '/password/reset', { json: { token: 'pr.x', new_password: 'a new long password' } }),
      () => api.call('POST', '/password/reset', tooLarge),
      () => api.call('POST', '/password/reset', plainText),
    ],
    introspect: [
      async () => api.call('POST', '/introspect', { json: { token: (await pair()).access_token } }),
      () => api.call('POST', '/introspect', { json: { token: '' } }),
      () => api.call('POST', '/introspect', tooLarge),
      () => api.call('POST', '/introspect', plainText),
    ],
    listUsers: [
      async () => api.call('GET', '/users?limit=2&q=OPENAPI&role=2&disabled=false', await asAdmin()),
      async () => api.call('GET', '/users?limit=0', await asAdmin()),
      () => api.call('GET', '/users', { token: 'not-a-token' }),
      async () => api.call('GET', '/users', await asUser()),
    ],
    userById: [
      async () => api.call('GET', `/users/${userId}`, await asUser()),
      async () => api.call('GET', '/users/abc', await asUser()),
      () => api.call('GET', `/users/${userId}`),
      async () => api.call('GET', `/users/${adminId}`, await asUser()),
      async () => api.call('GET', '/users/2147483647', await asAdmin()),
    ],
    getMe: [
      async () => api.call('GET', '/me', await asUser()),
      async () => api.call('GET', '/me?unexpected=1', await asUser()),
      () => api.call('GET', '/me'),
    ],
    updateMe: [
      async () => api.call('PATCH', '/me', { json: { user_name: 'Renamed' }, ...(await asUser()) }),
      async () => api.call('PATCH', '/me', { json: { user_role: 1 }, ...(await asUser()) }),
      () => api.call('PATCH', '/me', { json: { user_name: 'Renamed' } }),
      () => strictApi.call('PATCH', '/me', { json: { user_name: 'Renamed' }, ...unenrolledAdmin }),
      () => api.call('PATCH', '/me', tooLarge),
      () => api.call('PATCH', '/me', plainText),
    ],
    deleteMe: [
      async () => api.call('DELETE', '/me', { json: { password }, token: (await fresh()).token }),
      async () => api.call('DELETE', '/me', { json: {}, ...(await asUser()) }),
      async () => api.call('DELETE', '/me', { json: { password: 'not it' }, ...(await asUser()) }),
      () => strictApi.call('DELETE', '/me', { json: { password }, ...unenrolledAdmin }),
      async () => api.call('DELETE', '/me', { json: { password }, ...(await asAdmin()) }),
      () => api.call('DELETE', '/me', tooLarge),
      () => api.call('DELETE', '/me', plainText),
    ],
    changePassword: [
      async () => {
        // Changed, then changed back (a new password may not be the current one), so the account keeps it.
        const changed = await api.call('POST', '/me/password', {
          json: { current_password: password, new_password: `${password}, for a moment` },
          ...(await asUser()),
        });
        await api.call('POST', '/me/password', {
          json: { current_password: `${password}, for a moment`, new_password: password },
          token: changed.body.access_token,
        });
        return changed;
      },
      async () =>
        api.call('POST', '/me/password', {
          json: { current_password: password, new_password: 'password' },
          ...(await asUser()),
        }),
      async () =>
        api.call('POST', '/me/password', {
          json: { current_password: 'not it', new_password: password },
          ...(await asUser()),
        }),
      () =>
        strictApi.call('POST', '/me/password', {
          json: { current_password: password, new_password: `${password}, but new` },
          ...unenrolledAdmin,
        }),
      () => api.call('POST', '/me/password', tooLarge),
      () => api.call('POST', '/me/password', plainText),
    ],
    getEmail: [
      async () => api.call('GET', '/me/email', await asUser()),
      async () => api.call('GET', '/me/email?all=1', await asUser()),
      () => api.call('GET', '/me/email'),
      () => strictApi.call('GET', '/me/email', unenrolledAdmin),
    ],
    changeEmail: [
      async () =>
        api.call('POST', '/me/email', {
          json: { email: `${uniqueLogin('x')}@example.com`, password },
          ...(await asUser()),
        }),
      async () => api.call('POST', '/me/email', { json: { email: 'nope', password }, ...(await asUser()) }),
      async () =>
        api.call('POST', '/me/email', { json: { email: 'a@example.com', password: 'not it' }, ...(await asUser()) }),
      () => strictApi.call('POST', '/me/email', { json: { email: 'a@example.com', password }, ...unenrolledAdmin }),
      () => api.call('POST', '/me/email', tooLarge),
      () => api.call('POST', '/me/email', plainText),
    ],
    getMfa: [
      async () => api.call('GET', '/me/mfa', await asUser()),
      async () => api.call('GET', '/me/mfa?unexpected=1', await asUser()),
      () => api.call('GET', '/me/mfa'),
    ],
    startTotp: [
      async () => api.call('POST', '/me/mfa/totp', await asUser()),
      async () => api.call('POST', '/me/mfa/totp', { json: { unexpected: 1 }, ...(await asUser()) }),
      () => api.call('POST', '/me/mfa/totp'),
      async () => api.call('POST', '/me/mfa/totp', { token: (await enrolled()).token }),
      () => api.call('POST', '/me/mfa/totp', tooLarge),
      () => api.call('POST', '/me/mfa/totp', plainText),
    ],
    confirmTotp: [
      async () => {
        const { token } = await fresh();
        const { secret } = (await api.call('POST', '/me/mfa/totp', { token })).body;
        const code = await totpCode(secret, Date.now());
        return api.call('POST', '/me/mfa/totp/confirm', { token, json: { password, code } });
      },
      async () => api.call('POST', '/me/mfa/totp/confirm', { json: { password, code: '12' }, ...(await asUser()) }),
      async () => {
        const { token } = await fresh();
        await api.call('POST', '/me/mfa/totp', { token });
        return api.call('POST', '/me/mfa/totp/confirm', { token, json: { password: 'not it', code: '123456' } });
      },
      async () =>
        api.call('POST', '/me/mfa/totp/confirm', { token: (await fresh()).token, json: { password, code: '123456' } }),
      () => api.call('POST', '/me/mfa/totp/confirm', tooLarge),
      () => api.call('POST', '/me/mfa/totp/confirm', plainText),
    ],
    disableMfa: [
      async () => {
        const { token, codes } = await enrolled();
        return api.call('POST', '/me/mfa/disable', { token, json: { password, code: codes[0] } });
      },
      async () => api.call('POST', '/me/mfa/disable', { json: { password }, ...(await asUser()) }),
      async () =>
        api.call('POST', '/me/mfa/disable', { token: (await enrolled()).token, json: { password, code: WRONG_CODE } }),
      () => strictApi.call('POST', '/me/mfa/disable', { json: { password, code: WRONG_CODE }, ...unenrolledAdmin }),
      async () => api.call('POST', '/me/mfa/disable', { json: { password, code: WRONG_CODE }, ...(await asUser()) }),
      () => api.call('POST', '/me/mfa/disable', tooLarge),
      () => api.call('POST', '/me/mfa/disable', plainText),
    ],
    regenerateRecoveryCodes: [
      async () => {
        const { token, codes } = await enrolled();
        return api.call('POST', '/me/mfa/recovery-codes', { token, json: { password, code: codes[0] } });
      },
      async () => api.call('POST', '/me/mfa/recovery-codes', { json: { code: WRONG_CODE }, ...(await asUser()) }),
      async () =>
        api.call('POST', '/me/mfa/recovery-codes', {
          token: (await enrolled()).token,
          json: { password: 'not it', code: WRONG_CODE },
        }),
      () =>
        strictApi.call('POST', '/me/mfa/recovery-codes', { json: { password, code: WRONG_CODE }, ...unenrolledAdmin }),
      async () =>
        api.call('POST', '/me/mfa/recovery-codes', { json: { password, code: WRONG_CODE }, ...(await asUser()) }),
      () => api.call('POST', '/me/mfa/recovery-codes', tooLarge),
      () => api.call('POST', '/me/mfa/recovery-codes', plainText),
    ],
    listPasskeys: [
      async () => api.call('GET', '/me/passkeys', await asUser()),
      async () => api.call('GET', '/me/passkeys?all=1', await asUser()),
      () => api.call('GET', '/me/passkeys'),
    ],
    startPasskeyRegistration: [
      async () => api.call('POST', '/me/passkeys/registration', { json: { password }, ...(await asUser()) }),
      async () => api.call('POST', '/me/passkeys/registration', { json: {}, ...(await asUser()) }),
      async () => api.call('POST', '/me/passkeys/registration', { json: { password: 'not it' }, ...(await asUser()) }),
      () => api.call('POST', '/me/passkeys/registration', tooLarge),
      () => api.call('POST', '/me/passkeys/registration', plainText),
    ],
    addPasskey: [
      async () => {
        const { token } = await fresh();
        const { ceremony_id, response } = await registration(token);
        return api.call('POST', '/me/passkeys', { token, json: { ceremony_id, response, name: 'Laptop' } });
      },
      async () => api.call('POST', '/me/passkeys', { json: { ceremony_id: randomUUID() }, ...(await asUser()) }),
      () => api.call('POST', '/me/passkeys', { json: {} }),
      () => api.call('POST', '/me/passkeys', tooLarge),
      () => api.call('POST', '/me/passkeys', plainText),
    ],
    renamePasskey: [
      async () => {
        const { token, passkey } = await withPasskey();
        return api.call('PATCH', `/me/passkeys/${passkey.id}`, { token, json: { name: 'Phone' } });
      },
      async () => api.call('PATCH', `/me/passkeys/${randomUUID()}`, { json: { name: '' }, ...(await asUser()) }),
      () => api.call('PATCH', `/me/passkeys/${randomUUID()}`, { json: { name: 'Phone' } }),
      () => strictApi.call('PATCH', `/me/passkeys/${randomUUID()}`, { json: { name: 'Phone' }, ...unenrolledAdmin }),
      async () => api.call('PATCH', `/me/passkeys/${randomUUID()}`, { json: { name: 'Phone' }, ...(await asUser()) }),
      () => api.call('PATCH', `/me/passkeys/${randomUUID()}`, tooLarge),
      () => api.call('PATCH', `/me/passkeys/${randomUUID()}`, plainText),
    ],
    removePasskey: [
      async () => {
        const { token, passkey } = await withPasskey();
        return api.call('POST', `/me/passkeys/${passkey.id}/remove`, { token, json: { password } });
      },
      async () => api.call('POST', `/me/passkeys/${randomUUID()}/remove`, { json: {}, ...(await asUser()) }),
      async () => {
        const { token, passkey } = await withPasskey();
        return api.call('POST', `/me/passkeys/${passkey.id}/remove`, { token, json: { password: 'not it' } });
      },
      () => strictApi.call('POST', `/me/passkeys/${randomUUID()}/remove`, { json: { password }, ...unenrolledAdmin }),
      async () => api.call('POST', `/me/passkeys/${randomUUID()}/remove`, { json: { password }, ...(await asUser()) }),
      () => api.call('POST', `/me/passkeys/${randomUUID()}/remove`, tooLarge),
      () => api.call('POST', `/me/passkeys/${randomUUID()}/remove`, plainText),
    ],
    listMySessions: [
      async () => api.call('GET', '/me/sessions?limit=1', await asUser()),
      async () => api.call('GET', '/me/sessions?cursor=nope', await asUser()),
      () => api.call('GET', '/me/sessions'),
      () => strictApi.call('GET', '/me/sessions', unenrolledAdmin),
    ],
    endMySession: [
      async () => {
        const { access_token } = await pair();
        return api.call('DELETE', `/me/sessions/${sid(access_token)}`, { token: access_token });
      },
      async () => api.call('DELETE', '/me/sessions/not-a-session', await asUser()),
      () => api.call('DELETE', `/me/sessions/${randomUUID()}`),
      async () => api.call('DELETE', `/me/sessions/${randomUUID()}`, await asUser()),
      () => strictApi.call('DELETE', `/me/sessions/${randomUUID()}`, unenrolledAdmin),
      () => api.call('DELETE', `/me/sessions/${randomUUID()}`, tooLarge),
      () => api.call('DELETE', `/me/sessions/${randomUUID()}`, plainText),
    ],
    endMyOtherSessions: [
      async () => api.call('DELETE', '/me/sessions', await asUser()),
      async () => api.call('DELETE', '/me/sessions?all=1', await asUser()),
      () => api.call('DELETE', '/me/sessions'),
      () => strictApi.call('DELETE', '/me/sessions', unenrolledAdmin),
      () => api.call('DELETE', '/me/sessions', tooLarge),
      () => api.call('DELETE', '/me/sessions', plainText),
    ],
    updateUser: [
      async () =>
        api.call('PATCH', `/users/${await someone()}`, { json: { user_name: 'Renamed' }, ...(await asAdmin()) }),
      async () => api.call('PATCH', `/users/${userId}`, { json: { user_role: 3 }, ...(await asAdmin()) }),
      () => api.call('PATCH', `/users/${userId}`, { json: { user_role: 1 } }),
      async () => api.call('PATCH', `/users/${userId}`, { json: { user_role: 1 }, ...(await asUser()) }),
      async () => api.call('PATCH', '/users/2147483647', { json: { disabled: true }, ...(await asAdmin()) }),
      async () => api.call('PATCH', `/users/${adminId}`, { json: { user_role: 2 }, ...(await asAdmin()) }),
      () => api.call('PATCH', `/users/${userId}`, tooLarge),
      () => api.call('PATCH', `/users/${userId}`, plainText),
    ],
    deleteUser: [
      async () => api.call('DELETE', `/users/${await someone()}`, await asAdmin()),
      async () => api.call('DELETE', '/users/0', await asAdmin()),
      () => api.call('DELETE', `/users/${userId}`),
      async () => api.call('DELETE', `/users/${userId}`, await asUser()),
      async () => api.call('DELETE', '/users/2147483647', await asAdmin()),
      async () => api.call('DELETE', `/users/${adminId}`, await asAdmin()),
      () => api.call('DELETE', `/users/${userId}`, tooLarge),
      () => api.call('DELETE', `/users/${userId}`, plainText),
    ],
    setUserPassword: [
      async () =>
        api.call('POST', `/users/${await someone()}/password`, {
          json: { new_password: 'a new long password' },
          ...(await asAdmin()),
        }),
      async () =>
        api.call('POST', `/users/${userId}/password`, { json: { new_password: 'short' }, ...(await asAdmin()) }),
      () => api.call('POST', `/users/${userId}/password`, { json: { new_password: 'a new long password' } }),
      async () =>
        api.call('POST', `/users/${userId}/password`, {
          json: { new_password: 'a new long password' },
          ...(await asUser()),
        }),
      async () =>
        api.call('POST', '/users/2147483647/password', {
          json: { new_password: 'a new long password' },
          ...(await asAdmin()),
        }),
      () => api.call('POST', `/users/${userId}/password`, tooLarge),
      () => api.call('POST', `/users/${userId}/password`, plainText),
    ],
    getUserLockout: [
      async () => api.call('GET', `/users/${userId}/lockout`, await asAdmin()),
      async () => api.call('GET', '/users/0/lockout', await asAdmin()),
      () => api.call('GET', `/users/${userId}/lockout`),
      async () => api.call('GET', `/users/${userId}/lockout`, await asUser()),
      async () => api.call('GET', '/users/2147483647/lockout', await asAdmin()),
    ],
    liftUserLockout: [
      async () => api.call('DELETE', `/users/${userId}/lockout`, await asAdmin()),
      async () => api.call('DELETE', '/users/0/lockout', await asAdmin()),
      () => api.call('DELETE', `/users/${userId}/lockout`),
      async () => api.call('DELETE', `/users/${userId}/lockout`, await asUser()),
      async () => api.call('DELETE', '/users/2147483647/lockout', await asAdmin()),
      () => api.call('DELETE', `/users/${userId}/lockout`, tooLarge),
      () => api.call('DELETE', `/users/${userId}/lockout`, plainText),
    ],
    removeUserMfa: [
      async () => api.call('DELETE', `/users/${(await enrolled()).id}/mfa`, await asAdmin()),
      async () => api.call('DELETE', '/users/abc/mfa', await asAdmin()),
      () => api.call('DELETE', `/users/${userId}/mfa`),
      async () => api.call('DELETE', `/users/${userId}/mfa`, await asUser()),
      async () => api.call('DELETE', '/users/2147483647/mfa', await asAdmin()),
      async () => api.call('DELETE', `/users/${(await fresh()).id}/mfa`, await asAdmin()),
      () => api.call('DELETE', `/users/${userId}/mfa`, tooLarge),
      () => api.call('DELETE', `/users/${userId}/mfa`, plainText),
    ],
    listUserSessions: [
      async () => api.call('GET', `/users/${userId}/sessions`, await asAdmin()),
      async () => api.call('GET', `/users/${userId}/sessions?limit=101`, await asAdmin()),
      () => api.call('GET', `/users/${userId}/sessions`),
      async () => api.call('GET', `/users/${userId}/sessions`, await asUser()),
      async () => api.call('GET', '/users/2147483647/sessions', await asAdmin()),
    ],
    endUserSessions: [
      async () => api.call('DELETE', `/users/${await someone()}/sessions`, await asAdmin()),
      async () => api.call('DELETE', '/users/x/sessions', await asAdmin()),
      () => api.call('DELETE', `/users/${userId}/sessions`),
      async () => api.call('DELETE', `/users/${userId}/sessions`, await asUser()),
      async () => api.call('DELETE', '/users/2147483647/sessions', await asAdmin()),
      () => api.call('DELETE', `/users/${userId}/sessions`, tooLarge),
      () => api.call('DELETE', `/users/${userId}/sessions`, plainText),
    ],
    endUserSession: [
      async () => {
        const { access_token } = await pair();
        return api.call('DELETE', `/users/${userId}/sessions/${sid(access_token)}`, await asAdmin());
      },
      async () => api.call('DELETE', `/users/${userId}/sessions/nope`, await asAdmin()),
      () => api.call('DELETE', `/users/${userId}/sessions/${randomUUID()}`),
      async () => api.call('DELETE', `/users/${userId}/sessions/${randomUUID()}`, await asUser()),
      async () => api.call('DELETE', `/users/${userId}/sessions/${randomUUID()}`, await asAdmin()),
      () => api.call('DELETE', `/users/${userId}/sessions/${randomUUID()}`, tooLarge),
      () => api.call('DELETE', `/users/${userId}/sessions/${randomUUID()}`, plainText),
    ],
    listAudit: [
      async () => api.call('GET', `/audit?limit=5&type=login&target_id=${userId}`, await asAdmin()),
      async () => api.call('GET', '/audit?type=nonsense', await asAdmin()),
      () => api.call('GET', '/audit'),
      async () => api.call('GET', '/audit', await asUser()),
    ],
    createWebhook: [
      async () =>
        api.call('POST', '/webhooks', {
          json: { url: 'http://127.0.0.1:9/hooks', event_types: ['*'] },
          ...(await asAdmin()),
        }),
      async () => api.call('POST', '/webhooks', { json: { url: 'ftp://x', event_types: [] }, ...(await asAdmin()) }),
      () => api.call('POST', '/webhooks', { json: {} }),
      async () => api.call('POST', '/webhooks', { json: {}, ...(await asUser()) }),
      () => api.call('POST', '/webhooks', tooLarge),
      () => api.call('POST', '/webhooks', plainText),
    ],
    listWebhooks: [
      async () => api.call('GET', '/webhooks', await asAdmin()),
      async () => api.call('GET', '/webhooks?all=1', await asAdmin()),
      () => api.call('GET', '/webhooks'),
      async () => api.call('GET', '/webhooks', await asUser()),
    ],
    updateWebhook: [
      async () => {
        const auth = await asAdmin();
        const { id } = (
          await api.call('POST', '/webhooks', { json: { url: 'http://127.0.0.1:9/u', event_types: ['*'] }, ...auth })
        ).body;
        return api.call('PATCH', `/webhooks/${id}`, {
          json: { enabled: false, event_types: ['user.created'] },
          ...auth,
        });
      },
      async () => api.call('PATCH', `/webhooks/${randomUUID()}`, { json: { enabled: 'no' }, ...(await asAdmin()) }),
      () => api.call('PATCH', `/webhooks/${randomUUID()}`, { json: { enabled: false } }),
      async () => api.call('PATCH', `/webhooks/${randomUUID()}`, { json: { enabled: false }, ...(await asUser()) }),
      async () => api.call('PATCH', `/webhooks/${randomUUID()}`, { json: { enabled: false }, ...(await asAdmin()) }),
      () => api.call('PATCH', `/webhooks/${randomUUID()}`, tooLarge),
      () => api.call('PATCH', `/webhooks/${randomUUID()}`, plainText),
    ],
    rotateWebhookSecret: [
      async () => {
        const auth = await asAdmin();
        const { id } = (
          await api.call('POST', '/webhooks', { json: { url: 'http://127.0.0.1:9/r', event_types: ['*'] }, ...auth })
        ).body;
        return api.call('POST', `/webhooks/${id}/secret`, auth);
      },
      async () => api.call('POST', '/webhooks/nope/secret', await asAdmin()),
      () => api.call('POST', `/webhooks/${randomUUID()}/secret`),
      async () => api.call('POST', `/webhooks/${randomUUID()}/secret`, await asUser()),
      async () => api.call('POST', `/webhooks/${randomUUID()}/secret`, await asAdmin()),
      () => api.call('POST', `/webhooks/${randomUUID()}/secret`, tooLarge),
      () => api.call('POST', `/webhooks/${randomUUID()}/secret`, plainText),
    ],
    testWebhook: [
      async () => {
        const auth = await asAdmin();
        const { id } = (
          await api.call('POST', '/webhooks', { json: { url: 'http://127.0.0.1:9/t', event_types: ['*'] }, ...auth })
        ).body;
        return api.call('POST', `/webhooks/${id}/test`, auth);
      },
      async () => api.call('POST', '/webhooks/nope/test', await asAdmin()),
      () => api.call('POST', `/webhooks/${randomUUID()}/test`),
      async () => api.call('POST', `/webhooks/${randomUUID()}/test`, await asUser()),
      async () => api.call('POST', `/webhooks/${randomUUID()}/test`, await asAdmin()),
      () => api.call('POST', `/webhooks/${randomUUID()}/test`, tooLarge),
      () => api.call('POST', `/webhooks/${randomUUID()}/test`, plainText),
    ],
    redeliverWebhook: [
      async () => {
        const auth = await asAdmin();
        const { id } = (
          await api.call('POST', '/webhooks', { json: { url: 'http://127.0.0.1:9/d', event_types: ['*'] }, ...auth })
        ).body;
        await api.call('POST', `/webhooks/${id}/test`, auth);
        const [delivery] = (await api.call('GET', `/webhooks/${id}/deliveries`, auth)).body.items;
        return api.call('POST', `/webhooks/${id}/deliveries/${delivery.id}/redeliver`, auth);
      },
      async () => api.call('POST', `/webhooks/${randomUUID()}/deliveries/x/redeliver`, await asAdmin()),
      () => api.call('POST', `/webhooks/${randomUUID()}/deliveries/1/redeliver`),
      async () => api.call('POST', `/webhooks/${randomUUID()}/deliveries/1/redeliver`, await asUser()),
      async () => api.call('POST', `/webhooks/${randomUUID()}/deliveries/1/redeliver`, await asAdmin()),
      () => api.call('POST', `/webhooks/${randomUUID()}/deliveries/1/redeliver`, tooLarge),
      () => api.call('POST', `/webhooks/${randomUUID()}/deliveries/1/redeliver`, plainText),
    ],
    deleteWebhook: [
      async () => {
        const auth = await asAdmin();
        const { id } = (
          await api.call('POST', '/webhooks', { json: { url: 'http://127.0.0.1:9/gone', event_types: ['*'] }, ...auth })
        ).body;
        return api.call('DELETE', `/webhooks/${id}`, auth);
      },
      async () => api.call('DELETE', '/webhooks/nope', await asAdmin()),
      () => api.call('DELETE', `/webhooks/${randomUUID()}`),
      async () => api.call('DELETE', `/webhooks/${randomUUID()}`, await asUser()),
      async () => api.call('DELETE', `/webhooks/${randomUUID()}`, await asAdmin()),
      () => api.call('DELETE', `/webhooks/${randomUUID()}`, tooLarge),
      () => api.call('DELETE', `/webhooks/${randomUUID()}`, plainText),
    ],
    listWebhookDeliveries: [
      async () => {
        const auth = await asAdmin();
        const { id } = (
          await api.call('POST', '/webhooks', { json: { url: 'http://127.0.0.1:9/log', event_types: ['*'] }, ...auth })
        ).body;
        return api.call('GET', `/webhooks/${id}/deliveries?limit=5`, auth);
      },
      async () => api.call('GET', `/webhooks/${randomUUID()}/deliveries?limit=0`, await asAdmin()),
      () => api.call('GET', `/webhooks/${randomUUID()}/deliveries`),
      async () => api.call('GET', `/webhooks/${randomUUID()}/deliveries`, await asUser()),
      async () => api.call('GET', `/webhooks/${randomUUID()}/deliveries`, await asAdmin()),
    ],
    setup: [() => api.call('GET', '/setup'), () => api.call('GET', '/setup?first=1')],
  };

  it(`serves the generated document at ${OPENAPI_PATH}`, () => {
    expect(served).toStrictEqual(JSON.parse(JSON.stringify(document)));
  });

  it('documents the service endpoints at the root as they answer', async () => {
    const root = new URL(server.url).origin;
    for (const [path, type] of [
      ['/healthz', 'application/json'],
      ['/readyz', 'application/json'],
      ['/.well-known/jwks.json', 'application/jwk-set+json'],
    ] as const) {
      const item = document.paths[path] as {
        servers: { url: string }[];
        get: { responses: Record<string, { content: Record<string, { example: object }> }> };
      };
      expect(item.servers, path).toEqual([expect.objectContaining({ url: '/' })]);
      const res = await fetch(root + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toContain(type);
      const { example } =
        (item.get.responses[200] as { content: Record<string, { example: object }> }).content[type] ?? {};
      // The same fields as the example (the keys' values are the server's own).
      expect(Object.keys(await res.json()).sort(), path).toEqual(Object.keys(example ?? {}).sort());
    }
    // Metrics are off on this server (no METRICS_TOKEN), as the document says: 404.
    expect((await fetch(`${root}/metrics`)).status).toBe(404);
  });

  it.each(operationNames)('%s', async (name) => {
    const seen: number[] = [];
    for (const request of requests[name]) {
      const reply = await request();
      const schema = documentedSchema(name, reply.status);
      expect(schema, `${name} answered ${reply.status}, which the document does not list`).toBeDefined();
      const result = schema?.safeParse(reply.body);
      expect(result?.error, `${name} ${reply.status}: ${JSON.stringify(reply.body)}`).toBeUndefined();
      seen.push(reply.status);
    }
    expect(seen.sort((a, b) => a - b)).toEqual(statusesOf(name).filter((status) => !notProvoked.includes(status)));
  });

  describe('with rate limits on', () => {
    const limited = useIsolatedServer('sqlite', { RATE_LIMIT_PER_ADDRESS: '1' });

    it.each(operationNames.filter((name) => (operations[name] as Operation).rateLimit))(
      '%s answers 429 as documented',
      async (name) => {
        const call = operationClient(limited.url, 'rest');
        // The per-address limit counts before the input is read: any input spends the one attempt.
        await call(name, {} as never);
        const reply = await call(name, {} as never);
        expect(reply.status).toBe(429);
        expect(reply.headers.get('retry-after')).toMatch(/^\d+$/);
        const result = documentedSchema(name, 429)?.safeParse(reply.body);
        expect(result?.success, `${name} 429: ${JSON.stringify(reply.body)}`).toBe(true);
      },
    );
  });

  it('has schemas strict enough to catch a wrong body', () => {
    const user = {
      id_user: 1,
      user_name: 'A',
      login: 'a.b',
      user_role: 2,
      created_at: '2024-05-01T10:00:00.000Z',
      disabled: false,
      email_verified: false,
    };
    expect(documentedSchema('userById', 200)?.safeParse(user).success).toBe(true);
    expect(documentedSchema('userById', 200)?.safeParse({ ...user, password_hash: 'x' }).success).toBe(false);
    expect(documentedSchema('userById', 200)?.safeParse({ ...user, user_role: 3 }).success).toBe(false);
    expect(documentedSchema('userById', 404)?.safeParse({ code: 'NOT_FOUND' }).success).toBe(false);
    expect(documentedSchema('userById', 404)?.safeParse({ code: 'NOPE', msg: 'x' }).success).toBe(false);
  });

  it('serves Swagger UI at /docs with its assets from this server', async () => {
    const page = await fetch(server.url + DOCS_PREFIX);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`${DOCS_PREFIX}/static/swagger-ui-bundle.js`);
    expect(html).not.toMatch(/(src|href)="(https?:)?\/\//);
    const bundle = await fetch(`${server.url}${DOCS_PREFIX}/static/swagger-ui-bundle.js`);
    expect(bundle.status).toBe(200);
    expect((await bundle.text()).length).toBeGreaterThan(100_000);
    // The page loads the document from ./json: the generated one, as at /api/v1/openapi.json.
    expect(await (await fetch(`${server.url}${DOCS_PREFIX}/json`)).json()).toStrictEqual(
      JSON.parse(JSON.stringify(document)),
    );
  });
});
