import { type ErrorBody, type ErrorCode, errorStatus, type Issue } from '@api-users/contract';
import { isUnavailable } from '@api-users/db';
import { ZodError } from 'zod';

/** An error meant for the client: its code, status and message are sent as they are. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly msg: string,
    readonly issues?: Issue[],
  ) {
    super(msg);
    this.status = errorStatus[code];
  }
}

export const validationError = (err: ZodError): AppError =>
  new AppError(
    'VALIDATION_FAILED',
    'The request is not valid',
    err.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  );

/** Fastify's own request errors (body parsing, limits), by their status. */
const fastifyErrors: Record<number, [ErrorCode, string]> = {
  400: ['VALIDATION_FAILED', 'The request body is not valid JSON'],
  404: ['NOT_FOUND', 'No such route'],
  413: ['PAYLOAD_TOO_LARGE', 'The request body is too large'],
  415: ['UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json'],
};

/**
 * Turns anything thrown while serving a request into the one error body. Errors not meant for the client
 * become INTERNAL with a fixed message, so no stack, SQL or hash can leak; `internal` says to log it.
 */
export function describeError(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  const known = toAppError(err);
  if (known) {
    const body: ErrorBody = { code: known.code, msg: known.msg };
    if (known.issues) body.issues = known.issues;
    return { status: known.status, body, internal: false };
  }
  return { status: 500, body: { code: 'INTERNAL', msg: 'Internal server error' }, internal: true };
}

function toAppError(err: unknown): AppError | undefined {
  if (err instanceof AppError) return err;
  if (err instanceof ZodError) return validationError(err);
  if (isUnavailable(err)) return new AppError('DB_UNAVAILABLE', 'The database is unavailable; try again shortly');
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status in fastifyErrors) {
    const [code, msg] = fastifyErrors[status] as [ErrorCode, string];
    return new AppError(code, msg);
  }
  return undefined;
}

/** RFC 6750: say why a bearer token was refused; a missing token gets the bare challenge. */
export function wwwAuthenticate(code: ErrorCode): string | undefined {
  if (code === 'AUTH_REQUIRED') return 'Bearer';
  if (errorStatus[code] === 401 && code !== 'BAD_CREDENTIALS') return 'Bearer error="invalid_token"';
  return undefined;
}
