/**
 * The part of the contract a client needs at run time without the schemas: prefixes, error codes and their
 * statuses, how an operation's input travels, how logins fold. It imports no zod, so a REST-only client
 * (`@api-users/sdk/rest`) ships without it.
 */
/** Where the REST routes live; the path of every operation is under it. */
export const REST_PREFIX = '/api/v1';
/** Where the tRPC router is served: `${TRPC_PREFIX}/auth.login`. */
export const TRPC_PREFIX = '/trpc';
/** Every error code the API answers with, and the HTTP status it always travels with. */
export const errorStatus = {
  VALIDATION_FAILED: 400,
  LINK_INVALID: 400,
  AUTH_REQUIRED: 401,
  INVALID_TOKEN: 401,
  TOKEN_EXPIRED: 401,
  TOKEN_REVOKED: 401,
  WRONG_TOKEN_TYPE: 401,
  BAD_CREDENTIALS: 401,
  WRONG_PASSWORD: 401,
  BAD_CODE: 401,
  MFA_CHALLENGE_INVALID: 401,
  PASSKEY_REJECTED: 401,
  FORBIDDEN: 403,
  ACCOUNT_DISABLED: 403,
  MFA_ENROLMENT_REQUIRED: 403,
  METHOD_NOT_ALLOWED: 405,
  NOT_FOUND: 404,
  REQUEST_TIMEOUT: 408,
  LOGIN_TAKEN: 409,
  LAST_ADMIN: 409,
  MFA_ALREADY_ENABLED: 409,
  MFA_NOT_ENABLED: 409,
  EMAIL_TAKEN: 409,
  PAYLOAD_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_MEDIA_TYPE: 415,
  HEADERS_TOO_LARGE: 431,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  DB_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  MAIL_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof errorStatus;

/** The 401s that refuse what was typed (at a sign-in step, or a password confirming a change), not the bearer token sent. */
const SIGN_IN_REFUSALS: ReadonlySet<ErrorCode> = new Set([
  'BAD_CREDENTIALS',
  'WRONG_PASSWORD',
  'BAD_CODE',
  'MFA_CHALLENGE_INVALID',
  'PASSKEY_REJECTED',
]);

/**
 * Whether an error says the bearer token itself was refused (RFC 6750 `invalid_token`, or none sent): every
 * 401 but wrong credentials, a wrong current password, a wrong code, a spent sign-in challenge or a refused passkey. A client may renew its token for these,
 * never for the others.
 */
export const refusesToken = (code: ErrorCode): boolean => errorStatus[code] === 401 && !SIGN_IN_REFUSALS.has(code);

/** Whether the operation's input travels as a JSON body (else as query parameters). */
export const takesBody = (op: { method: string; body?: true }): boolean =>
  op.method === 'POST' || op.method === 'PATCH' || op.body === true;

/** The `:name` segments of an operation's path, read into its input. */
export const pathParameters = (op: { path: string }): string[] =>
  [...op.path.matchAll(/:(\w+)/g)].map((m) => m[1] as string);

/**
 * How logins are stored and searches compare text: compatibility-normalised (NFKC) and lower-cased, so `Bob`,
 * `bob` and `ｂｏｂ` are one login, and a search for `ådne` finds `ÅDNE`.
 */
export const foldText = (s: string): string => s.normalize('NFKC').toLowerCase();

/** Whether a sign-in answered the second-factor challenge rather than the pair. */
export const isMfaRequired = <T extends object>(signIn: T): signIn is Extract<T, { mfa_required: true }> =>
  'mfa_required' in signIn;
