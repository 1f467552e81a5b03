import {
  type ErrorCode,
  errorStatus,
  type OperationName,
  operationNames,
  operations,
  TRPC_MAX_BATCH,
  TRPC_PREFIX,
  type TrpcErrorShape,
} from '@api-users/contract';
import { getTRPCErrorShape, initTRPC, type TRPC_ERROR_CODE_KEY, TRPCError } from '@trpc/server';
import { fastifyRequestHandler } from '@trpc/server/adapters/fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { clientOf } from '../client.js';
import type { Deps } from '../deps.js';
import { AppError, describeError } from '../errors.js';
import { execute } from '../handlers.js';

interface Context {
  req: FastifyRequest;
}

/** tRPC's code for each HTTP status we answer with, so tRPC sends the same status REST does. */
const trpcCodes: Record<number, TRPC_ERROR_CODE_KEY> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_SUPPORTED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'TOO_MANY_REQUESTS',
  500: 'INTERNAL_SERVER_ERROR',
  503: 'SERVICE_UNAVAILABLE',
};

/** Errors tRPC raises itself, before any procedure runs. */
const ownErrors: Partial<Record<TRPC_ERROR_CODE_KEY, [ErrorCode, string]>> = {
  PARSE_ERROR: ['VALIDATION_FAILED', 'The request body is not valid JSON'],
  BAD_REQUEST: ['VALIDATION_FAILED', 'The request is not valid'],
  NOT_FOUND: ['NOT_FOUND', 'No such procedure'],
  METHOD_NOT_SUPPORTED: ['METHOD_NOT_ALLOWED', 'Queries take GET and mutations take POST'],
  PAYLOAD_TOO_LARGE: ['PAYLOAD_TOO_LARGE', 'The request body is too large'],
  UNSUPPORTED_MEDIA_TYPE: ['UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json'],
};

/** A tRPC error as REST would answer it; tRPC's own (no such procedure, wrong method, ...) are client errors. */
function describeTrpcError(error: TRPCError) {
  const described = describeError(error.cause ?? error);
  const own = described.internal ? ownErrors[error.code] : undefined;
  return own ? { status: errorStatus[own[0]], body: { code: own[0], msg: own[1] }, internal: false } : described;
}

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }): TrpcErrorShape {
    const { status, body } = describeTrpcError(error);
    return { code: shape.code, message: body.msg, data: { ...body, httpStatus: status } };
  },
});

function procedureFor(name: OperationName, deps: Deps) {
  const run = async ({ ctx, input }: { ctx: Context; input: unknown }) => {
    try {
      return await execute(name, deps, { authorization: ctx.req.headers.authorization, input, ...clientOf(ctx.req) });
    } catch (err) {
      const { status } = describeError(err);
      throw new TRPCError({ code: trpcCodes[status] ?? 'INTERNAL_SERVER_ERROR', cause: err });
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
function buildRouter(deps: Deps) {
  const namespaces: Record<string, Record<string, ReturnType<typeof procedureFor>>> = {};
  for (const name of operationNames) {
    const op = operations[name];
    namespaces[op.router] = { ...namespaces[op.router], [op.procedure]: procedureFor(name, deps) };
  }
  return t.router(namespaces);
}

/** tRPC's error envelope for an error raised outside tRPC (by Fastify, or by the query path below). */
function trpcErrorEnvelope(err: unknown) {
  const { status, headers, internal } = describeError(err);
  const error = new TRPCError({ code: trpcCodes[status] ?? 'INTERNAL_SERVER_ERROR', cause: err });
  const shape = getTRPCErrorShape({
    config: t._config,
    error,
    type: 'unknown',
    path: undefined,
    input: undefined,
    ctx: undefined,
  });
  return { status, headers, internal, body: { error: shape } };
}

/** Queries by their tRPC path (`users.byId`). */
const queries = new Map<string, OperationName>(
  operationNames
    .filter((name) => operations[name].method === 'GET')
    .map((name) => [`${operations[name].router}.${operations[name].procedure}`, name]),
);

type TrpcRequest = FastifyRequest<{ Params: { path: string }; Querystring: { batch?: unknown; input?: unknown } }>;

/**
 * tRPC's Fastify adapter turns each request into a web Request and its answer into a web stream, which
 * halves a query's throughput. Plain queries, single or batched, are answered here in tRPC's wire format
 * instead (the @trpc/client tests hold the two paths to one format); anything else (mutations, streamed
 * batches, unknown procedures, input that is not JSON) goes to tRPC. Returns false when it did not answer.
 */
async function answerQuery(
  req: TrpcRequest,
  paths: string[],
  reply: FastifyReply,
  deps: Deps,
  log: (err: unknown) => void,
) {
  const { batch: batchFlag, input: rawInput } = req.query;
  if (req.headers['trpc-accept'] !== undefined || (rawInput !== undefined && typeof rawInput !== 'string'))
    return false;
  const batch = batchFlag === '1' || batchFlag === 'true';
  const names = paths.map((path) => queries.get(path));
  if ((!batch && names.length !== 1) || names.some((name) => name === undefined)) return false;
  let input: unknown;
  try {
    input = rawInput === undefined ? undefined : JSON.parse(rawInput);
  } catch {
    return false;
  }
  if (batch && input !== undefined && (typeof input !== 'object' || input === null)) return false;
  const answers = await Promise.all(
    (names as OperationName[]).map(async (name, i) => {
      const request = {
        authorization: req.headers.authorization,
        input: batch ? (input as Record<number, unknown> | undefined)?.[i] : input,
        ...clientOf(req),
      };
      try {
        return { status: 200, headers: {}, body: { result: { data: await execute(name, deps, request) } } };
      } catch (err) {
        const envelope = trpcErrorEnvelope(err);
        if (envelope.internal) log(err);
        return envelope;
      }
    }),
  );
  // As tRPC does: one status for the batch when all agree, 207 when they differ.
  const statuses = new Set(answers.map((a) => a.status));
  await reply
    .code(statuses.size === 1 ? (answers[0]?.status ?? 200) : 207)
    .headers(Object.assign({}, ...answers.map((a) => a.headers)))
    .send(batch ? answers.map((a) => a.body) : answers[0]?.body);
  return true;
}

/**
 * The longest path parameter the tRPC route must take: a batch of TRPC_MAX_BATCH calls to the longest
 * procedure name, comma-separated. Fastify's `maxParamLength`; a longer one is answered 414 URI_TOO_LONG.
 */
export const TRPC_MAX_PATH_LENGTH =
  TRPC_MAX_BATCH *
  (Math.max(...operationNames.map((n) => `${operations[n].router}.${operations[n].procedure}`.length)) + 1);

/** Queries take GET and mutations POST; any other method is answered before its body is read. */
const OTHER_METHODS = ['HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE'];

export async function registerTrpc(app: FastifyInstance, deps: Deps, log: (err: unknown) => void): Promise<void> {
  const trpcOptions = {
    router: buildRouter(deps),
    createContext: ({ req }: { req: FastifyRequest }): Context => ({ req }),
    maxBatchSize: TRPC_MAX_BATCH,
    onError: ({ error }: { error: TRPCError }) => {
      if (describeTrpcError(error).internal) log(error.cause ?? error);
    },
    // One HTTP answer may carry several errors (batching); their headers are merged.
    responseMeta: ({ errors }: { errors: TRPCError[] }) => ({
      headers: Object.assign({}, ...errors.map((e) => describeError(e.cause ?? e).headers)),
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
        if (req.method === 'GET' && (await answerQuery(req, paths, reply, deps, log))) return reply;
        await fastifyRequestHandler({ ...trpcOptions, req, res: reply, path: req.params.path });
        return reply;
      },
    });
    scope.route({
      method: OTHER_METHODS,
      url: `${TRPC_PREFIX}/:path`,
      onRequest: async () => {
        throw new AppError('METHOD_NOT_ALLOWED', 'Queries take GET and mutations take POST');
      },
      handler: async () => undefined,
    });
  });
}
