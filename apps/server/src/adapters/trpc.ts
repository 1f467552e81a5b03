import {
  type AppRouter,
  type ErrorCode,
  errorStatus,
  type OperationName,
  operationNames,
  operations,
  type TrpcErrorShape,
} from '@api-users/contract';
import { getTRPCErrorShape, initTRPC, type TRPC_ERROR_CODE_KEY, TRPCError } from '@trpc/server';
import { fastifyTRPCPlugin } from '@trpc/server/adapters/fastify';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.js';
import { describeError } from '../errors.js';
import { execute } from '../handlers.js';

export const TRPC_PREFIX = '/trpc';

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

const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }): TrpcErrorShape {
    const described = describeError(error.cause ?? error);
    const own = described.internal ? ownErrors[error.code] : undefined;
    const { status, body } = own ? { status: errorStatus[own[0]], body: { code: own[0], msg: own[1] } } : described;
    return { code: shape.code, message: body.msg, data: { ...body, httpStatus: status } };
  },
});

function procedureFor(name: OperationName, deps: Deps) {
  const run = async ({ ctx, input }: { ctx: Context; input: unknown }) => {
    try {
      return await execute(name, deps, { authorization: ctx.req.headers.authorization, input, ip: ctx.req.ip });
    } catch (err) {
      const { status } = describeError(err);
      throw new TRPCError({ code: trpcCodes[status] ?? 'INTERNAL_SERVER_ERROR', cause: err });
    }
  };
  // Validation happens in execute(), as for REST; tRPC passes the raw input through.
  const base = t.procedure.input((raw: unknown) => raw);
  return operations[name].method === 'GET' ? base.query(run) : base.mutation(run);
}

/** Builds the router from the operation table: `auth.login`, `users.list`, ... */
export function buildRouter(deps: Deps): AppRouter {
  const namespaces: Record<string, Record<string, ReturnType<typeof procedureFor>>> = {};
  for (const name of operationNames) {
    const op = operations[name];
    namespaces[op.router] = { ...namespaces[op.router], [op.procedure]: procedureFor(name, deps) };
  }
  // The table-driven build loses per-procedure types; AppRouter restores them from the contract.
  return t.router(namespaces) as unknown as AppRouter;
}

/** tRPC's error envelope for an error Fastify raised before tRPC saw the request (body limit, content type). */
function trpcErrorEnvelope(err: unknown) {
  const { status } = describeError(err);
  const error = new TRPCError({ code: trpcCodes[status] ?? 'INTERNAL_SERVER_ERROR', cause: err });
  const shape = getTRPCErrorShape({
    config: t._config,
    error,
    type: 'unknown',
    path: undefined,
    input: undefined,
    ctx: undefined,
  });
  return { status, body: { error: shape } };
}

export async function registerTrpc(app: FastifyInstance, deps: Deps, log: (err: unknown) => void): Promise<void> {
  await app.register(async (scope) => {
    scope.setErrorHandler((err, _req, reply) => {
      if (describeError(err).internal) log(err);
      const { status, body } = trpcErrorEnvelope(err);
      return reply.code(status).send(body);
    });
    await scope.register(fastifyTRPCPlugin, {
      prefix: TRPC_PREFIX,
      trpcOptions: {
        router: buildRouter(deps),
        createContext: ({ req }: { req: FastifyRequest }): Context => ({ req }),
        onError: ({ error }: { error: TRPCError }) => {
          if (describeError(error.cause ?? error).internal) log(error.cause ?? error);
        },
        // One HTTP answer may carry several errors (batching); their headers are merged.
        responseMeta: ({ errors }: { errors: TRPCError[] }) => ({
          headers: Object.assign({}, ...errors.map((e) => describeError(e.cause ?? e).headers)),
        }),
      },
    });
  });
}
