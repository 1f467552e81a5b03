import type { ErrorCode, Issue } from '@api-users/contract';
import { errorStatus } from '@api-users/contract/wire';

/**
 * Failures the client finds itself, where no API answer carries a code:
 * `NETWORK_ERROR` (the API could not be reached, status 0) and `INVALID_RESPONSE` (an answer that is not
 * the API's JSON, such as a proxy's HTML error page; status is the HTTP status received).
 */
export type ClientErrorCode = 'NETWORK_ERROR' | 'INVALID_RESPONSE';

/** The one error both clients throw, whatever the transport: the API's error body plus the HTTP status. */
export class ApiError extends Error {
  override readonly name = 'ApiError';
  /** HTTP status; 0 when no answer arrived. */
  readonly status: number;
  readonly code: ErrorCode | ClientErrorCode;
  /** The API's human sentence. */
  readonly msg: string;
  /** Which input fields were refused (VALIDATION_FAILED only). */
  readonly issues?: Issue[];

  constructor(
    status: number,
    code: ErrorCode | ClientErrorCode,
    msg: string,
    issues?: Issue[],
    options?: ErrorOptions,
  ) {
    super(msg, options);
    this.status = status;
    this.code = code;
    this.msg = msg;
    if (issues) this.issues = issues;
  }
}

/**
 * The ApiError an error body describes, or undefined when `body` is not one. REST sends the body as it is;
 * tRPC sends it as its error `data` (with an extra `httpStatus`, left out). Checked by hand rather than with the
 * contract's ErrorBodySchema, so that a REST-only client ships without zod.
 */
export function errorFromBody(status: number, body: unknown): ApiError | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { code, msg, issues } = body as { code?: unknown; msg?: unknown; issues?: unknown };
  if (typeof code !== 'string' || !Object.hasOwn(errorStatus, code) || typeof msg !== 'string') return undefined;
  if (issues !== undefined && !(Array.isArray(issues) && issues.every(isIssue))) return undefined;
  return new ApiError(status, code as ErrorCode, msg, issues);
}

const isIssue = (issue: unknown): issue is Issue =>
  typeof issue === 'object' &&
  issue !== null &&
  typeof (issue as Issue).path === 'string' &&
  typeof (issue as Issue).message === 'string';

export function invalidResponse(status: number, detail: string, cause?: unknown): ApiError {
  return new ApiError(status, 'INVALID_RESPONSE', `Unexpected answer from the API: ${detail}`, undefined, { cause });
}
