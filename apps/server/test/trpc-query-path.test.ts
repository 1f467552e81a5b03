import { ADMIN, TRPC_PREFIX } from '@api-users/contract';
import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.js';
import { call, type Reply, restClient } from './support/http.js';
import { uniqueLogin, useIsolatedServer } from './support/server.js';

/**
 * http/adapters/trpc-queries.ts answers plain tRPC queries itself, in tRPC's wire format, because tRPC's
 * Fastify adapter halves their throughput (bench/README.md). A request with a `trpc-accept` header always goes to tRPC's own
 * handler, so each query below is sent both ways and the two answers must be the same: status, body and the
 * headers an answer's meaning depends on. The @trpc/client suites run through the fast path too.
 */
const input = (value: unknown) => `input=${encodeURIComponent(JSON.stringify(value))}`;
const MEANINGFUL_HEADERS = ['www-authenticate', 'retry-after', 'cache-control'];

function comparable(reply: Reply) {
  return {
    status: reply.status,
    body: reply.body,
    // Fastify names the charset of JSON (`; charset=utf-8`) where tRPC does not: the same media type.
    mediaType: reply.headers.get('content-type')?.split(';')[0],
    headers: Object.fromEntries(MEANINGFUL_HEADERS.map((name) => [name, reply.headers.get(name)])),
  };
}

describeEachDatabase("tRPC queries answered outside tRPC's handler", (dialect) => {
  const server = useIsolatedServer(dialect);
  let admin: string;
  let user: string;
  let userId: number;
  beforeAll(async () => {
    const rest = restClient(server.url);
    admin = (await rest.signUp(uniqueLogin('admin'), undefined, ADMIN)).tokens.access_token;
    const plain = await rest.signUp(uniqueLogin('plain'));
    user = plain.tokens.access_token;
    userId = plain.user.id_user;
  });

  it('answers every kind of query exactly as tRPC does', async () => {
    const cases: [string, string | undefined][] = [
      [`users.byId?${input({ id: userId })}`, user],
      [`users.byId?${input({ id: 999_999 })}`, user],
      [`users.byId?${input({ id: 'x' })}`, user],
      [`users.byId?${input({ id: userId })}`, undefined],
      [`users.byId?${input({ id: userId })}`, 'not.a.token'],
      [`users.byId?${input({ id: userId, extra: 1 })}`, user],
      ['users.byId', user],
      [`users.list?${input({ limit: 1 })}`, user],
      ['users.list', user],
      [`users.list?${input({ limit: 0 })}`, user],
      ['me.get', user],
      ['me.sessions', user],
      ['auth.setup', undefined],
      ['audit.list', user],
      [`audit.list?${input({ limit: 2 })}`, admin],
      [`users.byId,users.list?batch=1&${input({ 0: { id: userId }, 1: { limit: 2 } })}`, user],
      [`users.byId,users.list?batch=1&${input({ 0: { id: 999_999 }, 1: { limit: 2 } })}`, user],
      [`users.byId,me.get?batch=1&${input({ 0: { id: 'x' } })}`, user],
      ['users.byId,me.get?batch=1', undefined],
      [`me.get,audit.list?batch=1&${input({})}`, user],
    ];
    for (const [query, token] of cases) {
      const path = `${TRPC_PREFIX}/${query}`;
      const auth = token === undefined ? {} : { token };
      const fast = await call(server.url, 'GET', path, auth);
      const viaTrpc = await call(server.url, 'GET', path, { ...auth, headers: { 'trpc-accept': 'application/json' } });
      expect(comparable(fast), query).toEqual(comparable(viaTrpc));
    }
  });
});
