import {
  type OperationName,
  operationNames,
  operations,
  TRPC_MAX_BATCH,
  TRPC_PREFIX,
  trpcPathOf,
} from '@api-users/contract';
import type { TRPCError } from '@trpc/server';
import { fastifyRequestHandler } from '@trpc/server/adapters/fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, refuse } from '../../core/errors.js';
import { clientOf } from '../client.js';
import { describeError } from '../errors.js';
import { execute, type Runtime } from '../execute.js';
import { type Context, describeTrpcError, t, trpcErrorEnvelope, trpcErrorOf } from './trpc-errors.js';
import { answerQuery, type TrpcRequest } from './trpc-queries.js';

function procedureFor(name: OperationName, runtime: Runtime) {
  const run = async ({ ctx, input }: { ctx: Context; input: unknown }) => {
    try {
      const request = { authorization: ctx.req.headers.authorization, input, ...clientOf(ctx.req) };
      return await execute(name, runtime, request);
    } catch (err) {
      throw trpcErrorOf(err);
    }
  };
  // Validation happens in execute(), as for REST; tRPC passes the raw input through.
  const base = t.procedure.input((raw: unknown) => raw);
  return operations[name].method === 'GET' ? base.query(run) : base.mutation(run);
}

/**
 * Builds the router from the operation table: `auth.login`, `users.list`, ... Clients type it with the
 * contract's AppRouter, derived from the same table, so they need nothing of the server.
 */
function buildRouter(runtime: Runtime) {
  const namespaces: Record<string, Record<string, ReturnType<typeof procedureFor>>> = {};
  for (const name of operationNames) {
    const op = operations[name];
    namespaces[op.router] = { ...namespaces[op.router], [op.procedure]: procedureFor(name, runtime) };
  }
  return t.router(namespaces);
}

/**
 * The longest path parameter the tRPC route must take: a batch of TRPC_MAX_BATCH calls to the longest
 * procedure name, comma-separated. Fastify's `maxParamLength`; a longer one is answered 414 URI_TOO_LONG.
 */
export const TRPC_MAX_PATH_LENGTH =
  TRPC_MAX_BATCH * (Math.max(...operationNames.map((name) => trpcPathOf(name).length)) + 1);

/** The method each procedure takes, by its tRPC path: queries GET, mutations POST. */
const methodOf = new Map(
  operationNames.map((name) => [trpcPathOf(name), operations[name].method === 'GET' ? 'GET' : 'POST']),
);

/** Queries take GET and mutations POST; any other method is answered before its body is read. */
const OTHER_METHODS = ['HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'];

export async function registerTrpc(app: FastifyInstance, runtime: Runtime, log: (err: unknown) => void): Promise<void> {
  const trpcOptions = {
    router: buildRouter(runtime),
    createContext: ({ req }: { req: FastifyRequest }): Context => ({ req }),
    maxBatchSize: TRPC_MAX_BATCH,
    onError: ({ error }: { error: TRPCError }) => {
      if (describeTrpcError(error).internal) log(error.cause ?? error);
    },
    // One HTTP answer may carry several errors (batching); their headers are merged. The content type is said
    // outright: tRPC leaves it out of the errors it raises before any procedure (a string body then goes out
    // as text/plain), and its JSONL stream is application/json too.
    responseMeta: ({ errors }: { errors: TRPCError[] }) => ({
      headers: Object.assign(
        { 'content-type': 'application/json' },
        ...errors.map((e) => describeError(e.cause ?? e).headers),
      ),
    }),
  };
  // biome-ignore lint/nursery/noMisusedPromises: Fastify awaits a plugin's promise (an async plugin is its documented form)
  await app.register(async (scope) => {
    scope.setErrorHandler((err, _req, reply) => {
      const { status, headers, internal, body } = trpcErrorEnvelope(err);
      if (internal) log(err);
      return reply.code(status).headers(headers).send(body);
    });
    // As tRPC's own Fastify plugin does: tRPC reads JSON bodies itself (Fastify still enforces the size limit).
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    scope.route({
      method: ['GET', 'POST'],
      url: `${TRPC_PREFIX}/:path`,
      // Fastify's HEAD twin of a GET route cannot measure tRPC's answer (a 500): HEAD gets 405 below.
      exposeHeadRoute: false,
      handler: async (req: TrpcRequest, reply) => {
        // tRPC's own refusal (maxBatchSize) would reach the client as a bare "not valid": say why.
        const paths = req.params.path.split(',');
        if (paths.length > TRPC_MAX_BATCH) {
          throw new AppError('VALIDATION_FAILED', `A tRPC batch holds at most ${TRPC_MAX_BATCH} calls`);
        }
        // A batch of queries and mutations together is sent by the wrong method for some of its calls: 405 (tRPC's
        // own answer is a 400 that names no method).
        if (new Set(paths.map((path) => methodOf.get(path)).filter((method) => method !== undefined)).size > 1) {
          throw refuse('wrongTrpcMethod');
        }
        if (req.method === 'GET' && (await answerQuery(req, paths, reply, runtime, log))) return reply;
        await fastifyRequestHandler({ ...trpcOptions, req, res: reply, path: req.params.path });
        return reply;
      },
    });
    scope.route({
      method: OTHER_METHODS,
      url: `${TRPC_PREFIX}/:path`,
      onRequest: async () => {
        throw refuse('wrongTrpcMethod');
      },
      handler: async () => undefined,
    });
  });
}
