import {
  errorCodesOf,
  type Operation,
  type OperationName,
  operationNames,
  operations,
  pathParameters,
  TokenPairSchema,
} from '@api-users/contract';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { describeEachDatabase } from './support/databases.js';
import type { Reply } from './support/http.js';
import { operationClient, transports } from './support/operations.js';
import { uniqueLogin, useIsolatedServer } from './support/server.js';

const PASSWORD = 'a fine long password';

/** What a hostile client puts in a field: anything JSON holds, long text, odd Unicode, edge numbers. */
const anyValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: 'grapheme', maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('\ud800', '0', '-1', '2147483648', '1e3', ' 1', '', 'null', '%00', '../..', "' or 1=1 --"),
  fc.integer(),
  fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, 1.5, Number.MAX_SAFE_INTEGER),
);

/** The fields an operation's input has, plus a stranger now and then. */
function inputOf(op: Operation) {
  const schema = z.toJSONSchema(op.input, { io: 'input', unrepresentable: 'any' });
  const known = Object.keys(schema.properties ?? {});
  return fc.dictionary(fc.constantFrom(...known, ...known, 'unexpected', '__proto__'), anyValue, { maxKeys: 5 });
}

/**
 * Every operation of the table, over REST and tRPC, signed in as an admin (so that admin operations reach their
 * handlers), with random input: never a 5xx, and never an error code the table does not declare for it. A new
 * operation is covered by being in the table.
 */
describeEachDatabase('random input to every operation', (dialect) => {
  const server = useIsolatedServer(dialect);
  const admin = { login: uniqueLogin('fuzz.admin'), id: 0, access: '', refresh: '' };

  async function signIn(): Promise<void> {
    const send = operationClient(server.url, 'rest');
    const pair = (await send('login', { login: admin.login, password: PASSWORD })).body;
    admin.access = pair.access_token;
    admin.refresh = pair.refresh_token;
  }

  beforeAll(async () => {
    const send = operationClient(server.url, 'rest');
    const user = await send('register', {
      user_name: 'Fuzz Admin',
      login: admin.login,
      password: PASSWORD,
      user_role: 1,
    });
    admin.id = user.body.id_user;
    await signIn();
  });

  describe.each(transports)('over %s', (transport) => {
    it.each(operationNames)('%s', async (name: OperationName) => {
      const op: Operation = operations[name];
      const declared = new Set<string>(errorCodesOf(op));
      const send = operationClient(server.url, transport);
      await fc.assert(
        fc.asyncProperty(inputOf(op), async (input) => {
          // The admin this suite signs in as stays one: its own id is left alone. A URL path carries text: REST
          // gets primitives there, and no lone surrogate (it has no UTF-8 to percent-encode).
          const inPath = pathParameters(op).map((key) => input[key]);
          const primitive = (value: unknown) => value === null || typeof value !== 'object';
          fc.pre(inPath.every((value) => !primitive(value) || Number(value) !== admin.id));
          fc.pre(transport === 'trpc' || inPath.every((value) => primitive(value) && !/\p{Cs}/u.test(String(value))));
          const token = op.auth === 'refresh' ? admin.refresh : admin.access;
          const reply: Reply = await send(name, input as never, { token });
          expect(reply.status, JSON.stringify(reply.body)).toBeLessThan(500);
          if (reply.status >= 400) expect(declared, `${reply.status} ${reply.body.code}`).toContain(reply.body.code);
          // An answer that spends or replaces the pair (refresh, a password change) hands over the new one;
          // one that ended it (logout, a reused refresh token) means signing in again.
          const pair = TokenPairSchema.safeParse(reply.body);
          if (pair.success) Object.assign(admin, { access: pair.data.access_token, refresh: pair.data.refresh_token });
          else if (reply.status === 401 || (reply.status < 300 && op.auth !== 'none')) await signIn();
        }),
        { numRuns: 25 },
      );
    });
  });
});
