import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ErrorBody, type ErrorCode, errorStatus, type Issue, refusesToken } from '@api-users/contract';
import { isUnavailable } from '@api-users/db';
import { ZodError } from 'zod';

/** An error meant for the client: its code, status and message are sent as they are. */
export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly msg: string,
    readonly issues?: Issue[],
    /** For RATE_LIMITED: seconds until a new attempt may succeed (the Retry-After header). */
    readonly retryAfterSeconds?: number,
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

export interface DescribedError {
  status: number;
  body: ErrorBody;
  /** Headers the answer needs: the bearer challenge of a refused token, Retry-After of a rate limit. */
  headers: Record<string, string>;
  /** Not meant for the client: log it. */
  internal: boolean;
}

/**
 * Turns anything thrown while serving a request into the one error answer. Errors not meant for the client
 * become INTERNAL with a fixed message, so no stack, SQL or hash can leak.
 */
export function describeError(err: unknown): DescribedError {
  const known = toAppError(err);
  if (!known) {
    return { status: 500, body: { code: 'INTERNAL', msg: 'Internal server error' }, headers: {}, internal: true };
  }
  const body: ErrorBody = { code: known.code, msg: known.msg };
  if (known.issues) body.issues = known.issues;
  const headers: Record<string, string> = {};
  const challenge = wwwAuthenticate(known.code);
  if (challenge) headers['www-authenticate'] = challenge;
  if (known.retryAfterSeconds !== undefined) headers['retry-after'] = String(known.retryAfterSeconds);
  return { status: known.status, body, headers, internal: false };
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
function wwwAuthenticate(code: ErrorCode): string | undefined {
  if (code === 'AUTH_REQUIRED') return 'Bearer';
  if (refusesToken(code)) return 'Bearer error="invalid_token"';
  return undefined;
}

/**
 * Node rejects some requests before Fastify sees them (headers over 16 KiB, broken HTTP); answer those in
 * the error shape too, then close the connection as Node would.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const code: ErrorCode = err.code === 'HPE_HEADER_OVERFLOW' ? 'HEADERS_TOO_LARGE' : 'VALIDATION_FAILED';
  const msg = code === 'HEADERS_TOO_LARGE' ? 'The request headers are too large' : 'The request is not valid HTTP';
  const body = JSON.stringify({ code, msg } satisfies ErrorBody);
  const status = errorStatus[code];
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
