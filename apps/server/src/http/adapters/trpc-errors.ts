import { type ErrorCode, errorStatus, type TrpcErrorShape } from '@api-users/contract';
import { getTRPCErrorShape, initTRPC, type TRPC_ERROR_CODE_KEY, TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { TRPC_ERROR_CODES_BY_KEY } from '@trpc/server/rpc';
import type { FastifyRequest } from 'fastify';
import { type RefusalName, refusals } from '../../core/errors.js';
import { describeError } from '../errors.js';

export interface Context {
  req: FastifyRequest;
}

/**
 * tRPC's code for each HTTP status, inverted from tRPC's own map, so tRPC sends the status REST does. Of two
 * codes with one status (400: PARSE_ERROR, BAD_REQUEST) the later, more general one is kept.
 */
const trpcCodes = new Map<number, TRPC_ERROR_CODE_KEY>(
  (Object.keys(TRPC_ERROR_CODES_BY_KEY) as TRPC_ERROR_CODE_KEY[]).map((code) => [
    getHTTPStatusCodeFromError(new TRPCError({ code })),
    code,
  ]),
);

/** The tRPC error that carries `cause` at the status REST would answer it with. */
export const trpcErrorOf = (cause: unknown): TRPCError =>
  new TRPCError({ code: trpcCodes.get(describeError(cause).status) ?? 'INTERNAL_SERVER_ERROR', cause });

/** Errors tRPC raises itself, before any procedure runs. */
const ownErrors: Partial<Record<TRPC_ERROR_CODE_KEY, RefusalName>> = {
  PARSE_ERROR: 'invalidJson',
  BAD_REQUEST: 'invalidRequest',
  NOT_FOUND: 'noProcedure',
  METHOD_NOT_SUPPORTED: 'wrongTrpcMethod',
  PAYLOAD_TOO_LARGE: 'tooLarge',
  UNSUPPORTED_MEDIA_TYPE: 'notJson',
};

/** A tRPC error as REST would answer it; tRPC's own (no such procedure, wrong method, ...) are client errors. */
export function describeTrpcError(error: TRPCError) {
  const described = describeError(error.cause ?? error);
  const own = described.internal ? ownErrors[error.code] : undefined;
  if (!own) return described;
  const [code, fixed]: readonly [ErrorCode, string] = refusals[own];
  // tRPC's own word for a bad request says what was wrong ("Streaming requests must be batched ..."); ours, which
  // would only say that it was, stands in for the others.
  const msg = error.code === 'BAD_REQUEST' && error.cause === undefined ? error.message : fixed;
  return { ...described, status: errorStatus[code], body: { code, msg }, internal: false };
}

export const t = initTRPC.context<Context>().create({
  errorFormatter({ shape, error }): TrpcErrorShape {
    const { status, body } = describeTrpcError(error);
    return { code: shape.code, message: body.msg, data: { ...body, httpStatus: status } };
  },
});

/** tRPC's error envelope for an error raised outside tRPC (by Fastify, or by the query path). */
export function trpcErrorEnvelope(err: unknown) {
  const { status, headers, internal } = describeError(err);
  const shape = getTRPCErrorShape({
    config: t._config,
    error: trpcErrorOf(err),
    type: 'unknown',
    path: undefined,
    input: undefined,
    ctx: undefined,
  });
  return { status, headers, internal, body: { error: shape } };
}
