import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { type ErrorBody, type ErrorCode, errorStatus, refusesToken } from '@api-users/contract';
import { isUnavailable } from '@api-users/db';
import { ZodError } from 'zod';
import { AppError, type RefusalName, refusalBody, refuse, validationError } from '../core/errors.js';

/**
 * Client errors raised by Fastify or a plugin, by their status: a bad body, a path @fastify/static refuses
 * (`..`, `%00`), a path parameter past its length. Any other 4xx is answered as a plain bad request.
 */
const clientErrors: Record<number, RefusalName> = {
  400: 'invalidRequest',
  // @fastify/static's refusal of a path outside its root: there is no such file to serve.
  403: 'noFile',
  404: 'noRoute',
  405: 'wrongMethod',
  408: 'requestTimeout',
  413: 'tooLarge',
  414: 'uriTooLong',
  415: 'notJson',
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
    return { status: 500, body: refusalBody('internal'), headers: {}, internal: true };
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
  if (isUnavailable(err)) return refuse('dbUnavailable');
  const status = (err as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return refuse(clientErrors[status] ?? 'invalidRequest');
  }
  return undefined;
}

/** RFC 6750: say why a bearer token was refused; a missing token gets the bare challenge. */
function wwwAuthenticate(code: ErrorCode): string | undefined {
  if (code === 'AUTH_REQUIRED') return 'Bearer';
  if (refusesToken(code)) return 'Bearer error="invalid_token"';
  return undefined;
}

/** Errors Node's HTTP parser raises itself, and our answer to each; anything else is broken HTTP. */
const nodeClientErrors: Record<string, RefusalName> = {
  HPE_HEADER_OVERFLOW: 'headersTooLarge',
  ERR_HTTP_REQUEST_TIMEOUT: 'requestTimeout',
};

/**
 * Node rejects some requests before Fastify answers them (headers over 16 KiB, broken HTTP, headers or a
 * body that did not arrive in time); answer those in the error shape too, then close the connection as
 * Node would. Nothing is written once an answer has started, so no answer is corrupted.
 */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  // As Node itself checks: the answer in progress on this connection, if any, has not sent its headers yet.
  const inProgress = (socket as Socket & { _httpMessage?: { headersSent: boolean } | null })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || inProgress?.headersSent) {
    socket.destroy();
    return;
  }
  const refusal = refusalBody(nodeClientErrors[err.code ?? ''] ?? 'invalidHttp');
  const body = JSON.stringify(refusal satisfies ErrorBody);
  const status = errorStatus[refusal.code];
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
