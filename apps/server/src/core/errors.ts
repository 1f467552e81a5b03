import { type ErrorCode, errorStatus, type Issue } from '@api-users/contract';
import type { ZodError } from 'zod';

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

type Refusal = readonly [ErrorCode, string];

/** Every refusal the service answers with, each sentence written once; raise one with `refuse(name)`. */
export const refusals = {
  // Input
  invalidRequest: ['VALIDATION_FAILED', 'The request is not valid'],
  invalidJson: ['VALIDATION_FAILED', 'The request body is not valid JSON'],
  invalidHttp: ['VALIDATION_FAILED', 'The request is not valid HTTP'],
  tooLarge: ['PAYLOAD_TOO_LARGE', 'The request body is too large'],
  notJson: ['UNSUPPORTED_MEDIA_TYPE', 'Send the body as application/json'],
  encodedBody: ['UNSUPPORTED_MEDIA_TYPE', 'Send the body uncompressed: no Content-Encoding (or identity)'],
  notUtf8: ['UNSUPPORTED_MEDIA_TYPE', 'Send the body in UTF-8: charset=utf-8, or no charset'],
  uriTooLong: ['URI_TOO_LONG', 'The URL is too long'],
  headersTooLarge: ['HEADERS_TOO_LARGE', 'The request headers are too large'],
  requestTimeout: ['REQUEST_TIMEOUT', 'The request took too long to arrive'],
  // Routing
  noRoute: ['NOT_FOUND', 'No such route'],
  noFile: ['NOT_FOUND', 'No such file'],
  noProcedure: ['NOT_FOUND', 'No such procedure'],
  wrongMethod: ['METHOD_NOT_ALLOWED', 'This route does not take that method'],
  wrongTrpcMethod: ['METHOD_NOT_ALLOWED', 'Queries take GET and mutations take POST'],
  // Tokens
  authRequired: ['AUTH_REQUIRED', 'Send a bearer token in the Authorization header'],
  metricsTokenRequired: ['AUTH_REQUIRED', 'Send the metrics token (METRICS_TOKEN) as a bearer token'],
  notBearer: ['INVALID_TOKEN', 'The Authorization header must be "Bearer <token>"'],
  invalidToken: ['INVALID_TOKEN', 'The token is not valid'],
  tokenExpired: ['TOKEN_EXPIRED', 'The token has expired'],
  tokenRevoked: ['TOKEN_REVOKED', 'The token has been revoked'],
  sessionEnded: ['TOKEN_REVOKED', 'The session has ended'],
  sessionOfDisabled: ['TOKEN_REVOKED', 'The account is disabled; the session has ended'],
  refreshReused: ['TOKEN_REVOKED', 'This refresh token was already used; the session has been ended'],
  sessionTooOld: ['TOKEN_EXPIRED', 'The session has reached its maximum age; sign in again'],
  refreshExpired: ['TOKEN_EXPIRED', 'The refresh token has expired; sign in again'],
  refreshAsAccess: ['WRONG_TOKEN_TYPE', 'This operation takes the access token of a pair, not the refresh token'],
  // Accounts
  badCredentials: ['BAD_CREDENTIALS', 'Wrong login or password'],
  wrongPassword: ['WRONG_PASSWORD', 'The current password is wrong'],
  accountDisabled: ['ACCOUNT_DISABLED', 'This account is disabled; an admin can enable it'],
  loginTaken: ['LOGIN_TAKEN', 'That login is already taken'],
  adminsOnly: ['FORBIDDEN', 'This operation is for admins'],
  onlyAdminCreatesAdmin: ['FORBIDDEN', 'Only an admin can create an admin account'],
  registrationClosed: ['FORBIDDEN', 'Registration is closed here: an admin creates accounts'],
  othersReadOnlyByAdmins: ['FORBIDDEN', 'Only admins may read other accounts'],
  lastAdmin: ['LAST_ADMIN', 'This is the last enabled admin; make another admin first'],
  noSuchSession: ['NOT_FOUND', 'No live session of that account has that id'],
  // Second factors
  badCode: ['BAD_CODE', 'The code is wrong, out of date or already used'],
  challengeInvalid: ['MFA_CHALLENGE_INVALID', 'This sign-in has expired or was finished; sign in again'],
  mfaAlreadyEnabled: ['MFA_ALREADY_ENABLED', 'A second factor is on already; turn it off first'],
  mfaNotStarted: ['MFA_NOT_ENABLED', 'No enrolment was started: start one (POST /me/mfa/totp) first'],
  mfaNotEnabled: ['MFA_NOT_ENABLED', 'This account has no second factor'],
  noSuchPasskey: ['NOT_FOUND', 'You have no passkey with that id'],
  noPasskey: ['MFA_NOT_ENABLED', 'This account has no passkey'],
  passkeyRejected: ['PASSKEY_REJECTED', 'The passkey was not accepted; try again, or sign in another way'],
  mfaEnrolmentRequired: [
    'MFA_ENROLMENT_REQUIRED',
    'Admins must turn on a second factor first (MFA_REQUIRED_FOR_ADMINS): enrol an authenticator app at /me/mfa/totp',
  ],
  // Email
  linkInvalid: ['LINK_INVALID', 'This link has expired or was used already; ask for a new one'],
  emailTaken: ['EMAIL_TAKEN', 'Another account has confirmed this email address'],
  mailUnavailable: ['MAIL_UNAVAILABLE', 'This service cannot send mail now (no SMTP_URL is configured)'],
  // Service
  dbUnavailable: ['DB_UNAVAILABLE', 'The database is unavailable; try again shortly'],
  shuttingDown: ['SHUTTING_DOWN', 'This instance is shutting down; retry the request'],
  internal: ['INTERNAL', 'Internal server error'],
} as const satisfies Record<string, Refusal>;

export type RefusalName = keyof typeof refusals;

/** A refusal as a body on the wire, for answers sent outside the error handler (health, the shutdown gate). */
export const refusalBody = (name: RefusalName): { code: ErrorCode; msg: string } => {
  const [code, msg] = refusals[name];
  return { code, msg };
};

/** The error of a refusal of the table, with the fields a validation refusal names. */
export const refuse = (name: RefusalName, issues?: Issue[]): AppError => {
  const [code, msg] = refusals[name];
  return new AppError(code, msg, issues);
};

/** An account id that names no account, wherever one is looked up. */
export const userNotFound = (id: number): AppError => new AppError('NOT_FOUND', `No user with id ${id}`);

/**
 * A body that is not JSON: where the parser stopped (line and column, 1-based), or, for a body refused for
 * what it holds rather than how it is written (`__proto__` keys), the plain sentence; with no place, an empty
 * body although its Content-Type said JSON.
 */
export function notJson(place: { line: number; column: number } | null | undefined): AppError {
  if (place === undefined) {
    return new AppError('VALIDATION_FAILED', 'The request body is empty although its Content-Type is JSON');
  }
  if (place === null) return refuse('invalidJson');
  return new AppError(
    'VALIDATION_FAILED',
    `The request body is not valid JSON: the parser stopped at line ${place.line}, column ${place.column}`,
  );
}

export const validationError = (err: ZodError): AppError =>
  refuse(
    'invalidRequest',
    err.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })),
  );
