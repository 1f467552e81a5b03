import type { z } from 'zod';
import {
  AddPasskeyInputSchema,
  AuditPageSchema,
  ChangeEmailInputSchema,
  ChangePasswordInputSchema,
  ConfirmPasswordInputSchema,
  ConfirmTotpInputSchema,
  CreatedWebhookSchema,
  CreateWebhookInputSchema,
  EmailStatusSchema,
  EndedSessionsSchema,
  EndSessionInputSchema,
  EndUserSessionInputSchema,
  ForgotPasswordInputSchema,
  IntrospectInputSchema,
  IntrospectionSchema,
  ListAuditInputSchema,
  ListSessionsInputSchema,
  ListUsersInputSchema,
  LockoutLiftedSchema,
  LockoutSchema,
  LoginInputSchema,
  LoginMfaInputSchema,
  LoginPasskeyInputSchema,
  MessageSchema,
  MfaStatusSchema,
  NoInputSchema,
  PasskeyListSchema,
  PasskeyRegistrationSchema,
  PasskeySchema,
  PasskeySignInInputSchema,
  PasskeySignInSchema,
  ReauthenticateInputSchema,
  RecoveryCodesSchema,
  RedeliverInputSchema,
  RegisterInputSchema,
  RemovePasskeyInputSchema,
  RenamePasskeyInputSchema,
  ResetPasswordInputSchema,
  RotatedSecretSchema,
  SessionPageSchema,
  SetPasswordInputSchema,
  SetupSchema,
  SignInSchema,
  TokenPairSchema,
  TotpEnrolmentSchema,
  UpdateMeInputSchema,
  UpdateUserInputSchema,
  UpdateWebhookInputSchema,
  UserByIdInputSchema,
  UserPageSchema,
  UserSchema,
  UserSessionsInputSchema,
  VerifyEmailInputSchema,
  WebhookByIdInputSchema,
  WebhookDeliveriesInputSchema,
  WebhookDeliveryPageSchema,
  WebhookEndpointSchema,
  WebhookListSchema,
} from './schemas.js';
import { type ErrorCode, errorStatus } from './wire.js';

/** The most calls one tRPC batch (`/trpc/a,b,c?batch=1`) may carry; a larger batch is refused with 400. */
export const TRPC_MAX_BATCH = 50;

/** The groups of operations: tRPC namespaces, OpenAPI tags and the SDK's method groups. */
export const routers = {
  auth: 'Accounts and sessions: sign up, sign in, renew and revoke tokens',
  users: 'Accounts: anyone signed in reads them (unless USERS_READABLE_BY=admins); admins change them',
  me: 'The caller’s own account: its password, second factors and sessions',
  audit: 'The audit log (admins)',
  webhooks: 'Events sent to other services, signed (Standard Webhooks) (admins)',
} as const;
export type Router = keyof typeof routers;

/**
 * Which token an operation takes from `Authorization: Bearer …`.
 * `optional`: none needed, but one that is sent must be a valid access token (register uses it to let an
 * admin create admins).
 */
export type AuthKind = 'none' | 'optional' | 'access' | 'refresh';

/**
 * How an operation is rate limited (429 `RATE_LIMITED` with `Retry-After` past a limit; the numbers are settings):
 * - `address`: attempts per client address;
 * - `password`, for an operation that checks a password or a second factor: as `address`, plus its wrong
 *   passwords and codes (answers BAD_CREDENTIALS or BAD_CODE) per account and address, per address, and per
 *   account under a much higher ceiling. The account is the caller's when the operation takes a token, the
 *   sign-in's for an `mfa_token`, else the input's `login`;
 * - `email`, for an operation that mails the address its input names: as `address`, plus attempts per address
 *   mailed (RATE_LIMIT_PER_EMAIL over RATE_LIMIT_EMAIL_WINDOW), so no one can flood a mailbox from many clients.
 */
export type RateLimit = 'address' | 'password' | 'email';

export interface Operation {
  /** tRPC namespace and procedure: `auth.register` */
  router: Router;
  procedure: string;
  /** POST and PATCH read a JSON body (plus path parameters); GET and DELETE read query and path parameters. */
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** A DELETE that reads a JSON body instead: its input holds a password, which must never be part of a URL. */
  body?: true;
  /** REST path under REST_PREFIX; `:name` segments are read into the input. */
  path: `/${string}`;
  auth: AuthKind;
  /** The role the caller must have, read from the database at the time of the request (not from the token). */
  role?: 'admin';
  rateLimit?: RateLimit;
  /**
   * After it the caller is signed out: a client forgets its stored tokens, even when the server could not be
   * told, unless the server refused the request itself (a wrong password, say: the session goes on).
   */
  signsOut?: true;
  /** Its answer, when a token pair, is the caller's session from now on: a client stores it. */
  signsIn?: true;
  /**
   * With MFA_REQUIRED_FOR_ADMINS on, an admin without a second factor may call only these (enrolling one);
   * every other operation taking their access token answers 403 MFA_ENROLMENT_REQUIRED.
   */
  beforeMfa?: true;
  summary: string;
  description: string;
  input: z.ZodType;
  output: z.ZodType;
  status: 200 | 201;
  /**
   * The errors the operation's own handler answers with. Those that follow from the fields above (a token,
   * a role, a rate limit, input validation, an unavailable database) are added by `errorCodesOf`.
   */
  errors: readonly ErrorCode[];
}

/** The one table every transport, the OpenAPI document and the SDK are generated from. */
export const operations = {
  register: {
    router: 'auth',
    procedure: 'register',
    method: 'POST',
    path: '/register',
    auth: 'optional',
    rateLimit: 'address',
    summary: 'Create an account',
    description:
      'Anyone may create a user (`user_role` 2, the default). Only an admin, by sending their access token, ' +
      'may create an admin; the first account of an empty database may make itself admin. Where registration ' +
      'is closed (REGISTRATION=admins), only an admin creates accounts (403 FORBIDDEN). With an `email`, a ' +
      'link to confirm it is mailed (503 MAIL_UNAVAILABLE where this service cannot send mail).',
    input: RegisterInputSchema,
    output: UserSchema,
    status: 201,
    errors: ['FORBIDDEN', 'LOGIN_TAKEN', 'MAIL_UNAVAILABLE'],
  },
  login: {
    router: 'auth',
    procedure: 'login',
    method: 'POST',
    path: '/login',
    auth: 'none',
    rateLimit: 'password',
    signsIn: true,
    summary: 'Sign in',
    description:
      'Exchanges a login and its password for an access token and a refresh token. An unknown login and a ' +
      'wrong password get the same answer; a disabled account gets 403 ACCOUNT_DISABLED, after a correct password only. ' +
      'For an account with a second factor the answer is instead `mfa_required` with an `mfa_token`: send it ' +
      'with a code to /login/mfa.',
    input: LoginInputSchema,
    output: SignInSchema,
    status: 200,
    errors: ['BAD_CREDENTIALS', 'ACCOUNT_DISABLED'],
  },
  loginMfa: {
    router: 'auth',
    procedure: 'loginMfa',
    method: 'POST',
    path: '/login/mfa',
    auth: 'none',
    rateLimit: 'password',
    signsIn: true,
    summary: 'Finish a sign-in with a second factor',
    description:
      'Exchanges the `mfa_token` of a sign-in and a code (six digits of the authenticator app, one step of clock ' +
      'skew either way, each code once; or a recovery code, each once) for the token pair. A wrong code answers ' +
      '401 BAD_CODE and counts as a wrong password does; after 5 the mfa_token is spent. A spent, expired or ' +
      'unknown mfa_token answers 401 MFA_CHALLENGE_INVALID: sign in again.',
    input: LoginMfaInputSchema,
    output: TokenPairSchema,
    status: 200,
    errors: ['BAD_CODE', 'MFA_CHALLENGE_INVALID', 'ACCOUNT_DISABLED'],
  },
  startPasskeySignIn: {
    router: 'auth',
    procedure: 'startPasskeySignIn',
    method: 'POST',
    path: '/login/passkey/options',
    auth: 'none',
    rateLimit: 'address',
    summary: 'Begin a sign-in with a passkey',
    description:
      'The options for the browser’s WebAuthn call (navigator.credentials.get) and the ceremony_id to send its ' +
      'answer back with, to /login/passkey. Without an mfa_token, any passkey of any account may answer ' +
      '(discoverable credentials: no login typed); with one, a passkey of that sign-in’s account, as its second ' +
      'factor (409 MFA_NOT_ENABLED when it has none). User verification (a PIN or biometrics) is required.',
    input: PasskeySignInInputSchema,
    output: PasskeySignInSchema,
    status: 200,
    errors: ['MFA_CHALLENGE_INVALID', 'MFA_NOT_ENABLED'],
  },
  loginPasskey: {
    router: 'auth',
    procedure: 'loginPasskey',
    method: 'POST',
    path: '/login/passkey',
    auth: 'none',
    rateLimit: 'address',
    signsIn: true,
    summary: 'Sign in with a passkey',
    description:
      'Checks the browser’s answer against the ceremony’s challenge (single use, five minutes), this service’s ' +
      'origins and the passkey’s public key and signature counter, and answers the token pair. Any failure ' +
      'answers 401 PASSKEY_REJECTED (an authenticator whose counter went back, a clone, is also recorded as ' +
      'passkey_cloned). A ceremony begun with an mfa_token finishes that sign-in.',
    input: LoginPasskeyInputSchema,
    output: TokenPairSchema,
    status: 200,
    errors: ['PASSKEY_REJECTED', 'ACCOUNT_DISABLED', 'MFA_CHALLENGE_INVALID'],
  },
  refresh: {
    router: 'auth',
    procedure: 'refresh',
    method: 'POST',
    path: '/refresh',
    auth: 'refresh',
    rateLimit: 'address',
    summary: 'Renew the token pair',
    description:
      'Exchanges the refresh token of a pair for a new pair. The refresh token sent is spent: sending it again ' +
      'is taken as theft and ends the session (RFC 9700).',
    input: NoInputSchema,
    output: TokenPairSchema,
    status: 200,
    errors: [],
  },
  logout: {
    router: 'auth',
    // Named for what it does: the Flask service's "logout" leaves the session (and its refresh token) alive.
    procedure: 'revokeAccessToken',
    method: 'DELETE',
    path: '/logout',
    auth: 'access',
    summary: 'Revoke the access token',
    description:
      'Revokes the access token sent (the Flask service’s logout); its session and refresh token stay valid. ' +
      'To sign out, end the session: DELETE /logout2 (SDK: signOut()).',
    beforeMfa: true,
    input: NoInputSchema,
    output: MessageSchema,
    status: 200,
    errors: [],
  },
  logoutRefresh: {
    router: 'auth',
    procedure: 'logoutRefresh',
    method: 'DELETE',
    path: '/logout2',
    auth: 'refresh',
    signsOut: true,
    summary: 'End the session',
    description: 'Revokes the refresh token sent, ending its session: the access tokens issued in it stop working too.',
    input: NoInputSchema,
    output: MessageSchema,
    status: 200,
    errors: [],
  },
  verifyEmail: {
    router: 'auth',
    procedure: 'verifyEmail',
    method: 'POST',
    path: '/email/verify',
    auth: 'none',
    rateLimit: 'address',
    summary: 'Confirm an email address',
    description:
      'Takes the token of a mailed confirmation link (single use, 24 hours; a newer link voids older ones) and ' +
      'makes its address the account’s. 400 LINK_INVALID for a token that is unknown, used or expired; 409 ' +
      'EMAIL_TAKEN when another account confirmed the address first.',
    input: VerifyEmailInputSchema,
    output: MessageSchema,
    status: 200,
    errors: ['LINK_INVALID', 'EMAIL_TAKEN'],
  },
  forgotPassword: {
    router: 'auth',
    procedure: 'forgotPassword',
    method: 'POST',
    path: '/password/forgot',
    auth: 'none',
    rateLimit: 'email',
    summary: 'Mail a password reset link',
    description:
      'Answers the same at once, whether or not the address is an account’s confirmed one, and mails a link ' +
      '(single use, one hour) only when it is, after the answer: the answer and its timing say nothing about ' +
      'the address. 503 MAIL_UNAVAILABLE where this service cannot send mail.',
    input: ForgotPasswordInputSchema,
    output: MessageSchema,
    status: 200,
    errors: ['MAIL_UNAVAILABLE'],
  },
  resetPassword: {
    router: 'auth',
    procedure: 'resetPassword',
    method: 'POST',
    path: '/password/reset',
    auth: 'none',
    rateLimit: 'address',
    summary: 'Set a new password from a mailed link',
    description:
      'Takes the token of a reset link and a new password (the password rules apply), ends every session of the ' +
      'account and lifts its sign-in block. A second factor is still asked for at the next sign-in. 400 ' +
      'LINK_INVALID for a token that is unknown, used or expired.',
    input: ResetPasswordInputSchema,
    output: MessageSchema,
    status: 200,
    errors: ['LINK_INVALID'],
  },
  introspect: {
    router: 'auth',
    procedure: 'introspect',
    method: 'POST',
    path: '/introspect',
    auth: 'none',
    summary: 'Is this access token live? (RFC 7662)',
    description:
      'The claims of an access token that would be accepted now (`role` as the database holds it), or only ' +
      '`active: false`: revoked, expired, of an ended session, a refresh token, or not ours. No credential but ' +
      'the token asked about: a token cannot be guessed, and the holder learns only what using it would tell.',
    input: IntrospectInputSchema,
    output: IntrospectionSchema,
    status: 200,
    errors: [],
  },
  listUsers: {
    router: 'users',
    procedure: 'list',
    method: 'GET',
    path: '/users',
    auth: 'access',
    summary: 'List accounts',
    description:
      'Accounts in id order, a page at a time (keyset pagination): pass the `next_cursor` of a page as the ' +
      '`cursor` of the next; it is null on the last page. `q`, `role` and `disabled` narrow the list. ' +
      'With USERS_READABLE_BY=admins, only admins may list accounts (403 FORBIDDEN for others).',
    input: ListUsersInputSchema,
    output: UserPageSchema,
    status: 200,
    errors: ['FORBIDDEN'],
  },
  userById: {
    router: 'users',
    procedure: 'byId',
    method: 'GET',
    path: '/users/:id',
    auth: 'access',
    summary: 'Read one account',
    description:
      'One account by its id; 404 when there is none. With USERS_READABLE_BY=admins, others may read only ' +
      'their own (403 FORBIDDEN).',
    input: UserByIdInputSchema,
    output: UserSchema,
    status: 200,
    errors: ['NOT_FOUND', 'FORBIDDEN'],
  },
  getMe: {
    router: 'me',
    procedure: 'get',
    method: 'GET',
    path: '/me',
    auth: 'access',
    summary: 'Read the caller’s own account',
    description: 'The account the access token was issued to, as the database holds it now.',
    beforeMfa: true,
    input: NoInputSchema,
    output: UserSchema,
    status: 200,
    errors: [],
  },
  updateMe: {
    router: 'me',
    procedure: 'update',
    method: 'PATCH',
    path: '/me',
    auth: 'access',
    summary: 'Rename the caller’s own account',
    description:
      'Changes the caller’s `user_name` (login and role stay as they are; only an admin changes a role) and ' +
      'answers the account as it is now. A change is in the audit log as `renamed`.',
    input: UpdateMeInputSchema,
    output: UserSchema,
    status: 200,
    errors: [],
  },
  deleteMe: {
    router: 'me',
    procedure: 'deleteAccount',
    method: 'DELETE',
    path: '/me',
    body: true,
    auth: 'access',
    rateLimit: 'password',
    signsOut: true,
    summary: 'Delete the caller’s own account',
    description:
      'Checks the password (a wrong one costs and counts as at sign-in, answered 401 WRONG_PASSWORD) and, with an ' +
      'authenticator app on, a `code` (401 BAD_CODE), then removes the account with its sessions, passkeys and ' +
      'factors: its tokens stop working at once. Its audit events stay, and the deletion is one of them ' +
      '(`deleted`, by the account itself). The input is a JSON body, unlike other DELETEs: a password never goes ' +
      'into a URL. The last enabled admin cannot delete their account (409 LAST_ADMIN).',
    input: ConfirmPasswordInputSchema,
    output: MessageSchema,
    status: 200,
    errors: ['WRONG_PASSWORD', 'BAD_CODE', 'LAST_ADMIN'],
  },
  changePassword: {
    router: 'me',
    procedure: 'changePassword',
    method: 'POST',
    path: '/me/password',
    auth: 'access',
    rateLimit: 'password',
    signsIn: true,
    summary: 'Change the caller’s password',
    description:
      'Checks the current password (a wrong one costs and counts as at sign-in, answered 401 WRONG_PASSWORD) and, with a ' +
      'second factor enrolled, the `code` (401 BAD_CODE), applies the password rules to the new one, ends every ' +
      'session of the account, this one too (no token issued before the change works), and answers the pair of a ' +
      'new session.',
    input: ChangePasswordInputSchema,
    output: TokenPairSchema,
    status: 200,
    errors: ['WRONG_PASSWORD', 'BAD_CODE'],
  },
  getEmail: {
    router: 'me',
    procedure: 'email',
    method: 'GET',
    path: '/me/email',
    auth: 'access',
    summary: 'The caller’s email address',
    description: 'The confirmed address, and one waiting for its confirmation link, if any.',
    input: NoInputSchema,
    output: EmailStatusSchema,
    status: 200,
    errors: [],
  },
  changeEmail: {
    router: 'me',
    procedure: 'changeEmail',
    method: 'POST',
    path: '/me/email',
    auth: 'access',
    rateLimit: 'password',
    summary: 'Set or change the caller’s email address',
    description:
      'Checks the password (and, with an authenticator app on, a code), mails a confirmation link to the new ' +
      'address and, when there is one, a notice to the current one. The change holds once the link is followed ' +
      '(POST /email/verify); asking again sends a new link and voids the old. 503 MAIL_UNAVAILABLE where this ' +
      'service cannot send mail.',
    input: ChangeEmailInputSchema,
    output: MessageSchema,
    status: 200,
    errors: ['WRONG_PASSWORD', 'BAD_CODE', 'MAIL_UNAVAILABLE'],
  },
  getMfa: {
    router: 'me',
    procedure: 'mfa',
    method: 'GET',
    path: '/me/mfa',
    auth: 'access',
    beforeMfa: true,
    summary: 'The caller’s second factors',
    description: 'Whether an authenticator app is enrolled, how many recovery codes are left, how many passkeys.',
    input: NoInputSchema,
    output: MfaStatusSchema,
    status: 200,
    errors: [],
  },
  startTotp: {
    router: 'me',
    procedure: 'startTotp',
    method: 'POST',
    path: '/me/mfa/totp',
    auth: 'access',
    beforeMfa: true,
    summary: 'Start enrolling an authenticator app',
    description:
      'A new TOTP secret (RFC 6238: SHA-1, 6 digits, 30 s), its otpauth:// URI and that URI as a QR code (SVG). ' +
      'Nothing changes at sign-in until /me/mfa/totp/confirm; starting again replaces a secret not yet confirmed. ' +
      '409 MFA_ALREADY_ENABLED when an app is enrolled already.',
    input: NoInputSchema,
    output: TotpEnrolmentSchema,
    status: 200,
    errors: ['MFA_ALREADY_ENABLED'],
  },
  confirmTotp: {
    router: 'me',
    procedure: 'confirmTotp',
    method: 'POST',
    path: '/me/mfa/totp/confirm',
    auth: 'access',
    rateLimit: 'password',
    beforeMfa: true,
    summary: 'Turn the second factor on',
    description:
      'Checks the password and a current code of the app being enrolled, turns the second factor on and answers ' +
      'ten recovery codes, shown this once. Sign-ins then ask for a code. 409 MFA_NOT_ENABLED when no enrolment was ' +
      'started, MFA_ALREADY_ENABLED when one is on.',
    input: ConfirmTotpInputSchema,
    output: RecoveryCodesSchema,
    status: 200,
    errors: ['WRONG_PASSWORD', 'BAD_CODE', 'MFA_NOT_ENABLED', 'MFA_ALREADY_ENABLED'],
  },
  disableMfa: {
    router: 'me',
    procedure: 'disableMfa',
    method: 'POST',
    path: '/me/mfa/disable',
    auth: 'access',
    rateLimit: 'password',
    summary: 'Turn the authenticator app off',
    description:
      'Checks the password and a code (of the app, or a recovery code), then removes the app’s secret and the ' +
      'recovery codes: sign-ins ask for the password alone again, unless the account has a passkey. 409 ' +
      'MFA_NOT_ENABLED when no app is on.',
    input: ReauthenticateInputSchema,
    output: MessageSchema,
    status: 200,
    errors: ['WRONG_PASSWORD', 'BAD_CODE', 'MFA_NOT_ENABLED'],
  },
  regenerateRecoveryCodes: {
    router: 'me',
    procedure: 'regenerateRecoveryCodes',
    method: 'POST',
    path: '/me/mfa/recovery-codes',
    auth: 'access',
    rateLimit: 'password',
    summary: 'New recovery codes',
    description:
      'Checks the password and a code, and answers ten new recovery codes, shown this once; the old ones stop ' +
      'working at once. 409 MFA_NOT_ENABLED without a second factor.',
    input: ReauthenticateInputSchema,
    output: RecoveryCodesSchema,
    status: 200,
    errors: ['WRONG_PASSWORD', 'BAD_CODE', 'MFA_NOT_ENABLED'],
  },
  listPasskeys: {
    router: 'me',
    procedure: 'passkeys',
    method: 'GET',
    path: '/me/passkeys',
    auth: 'access',
    beforeMfa: true,
    summary: 'The caller’s passkeys',
    description: 'Every passkey of the caller, oldest first, with its name, when it was added and last used.',
    input: NoInputSchema,
    output: PasskeyListSchema,
    status: 200,
    errors: [],
  },
  startPasskeyRegistration: {
    router: 'me',
    procedure: 'startPasskeyRegistration',
    method: 'POST',
    path: '/me/passkeys/registration',
    auth: 'access',
    rateLimit: 'password',
    beforeMfa: true,
    summary: 'Begin adding a passkey',
    description:
      'Checks the password (and, with an authenticator app on, a code): a passkey signs in alone, so only the ' +
      'account’s owner may add one. Answers the options for navigator.credentials.create (a discoverable ' +
      'credential, user verification required, none of the caller’s passkeys again) and the ceremony_id to send ' +
      'its answer back with, to POST /me/passkeys.',
    input: ConfirmPasswordInputSchema,
    output: PasskeyRegistrationSchema,
    status: 200,
    errors: ['WRONG_PASSWORD', 'BAD_CODE'],
  },
  addPasskey: {
    router: 'me',
    procedure: 'addPasskey',
    method: 'POST',
    path: '/me/passkeys',
    auth: 'access',
    beforeMfa: true,
    summary: 'Add a passkey',
    description:
      'Checks the browser’s answer to the registration ceremony (its challenge, once, within five minutes; this ' +
      'service’s origins and RP ID; user verification) and keeps the passkey. From then on a password sign-in ' +
      'asks for a second factor (this passkey, or a code), and the passkey signs in alone. An answer that does ' +
      'not verify is refused with 400.',
    input: AddPasskeyInputSchema,
    output: PasskeySchema,
    status: 201,
    errors: [],
  },
  renamePasskey: {
    router: 'me',
    procedure: 'renamePasskey',
    method: 'PATCH',
    path: '/me/passkeys/:id',
    auth: 'access',
    summary: 'Rename a passkey',
    description: 'Renames one of the caller’s passkeys; 404 when the caller has none by that id.',
    input: RenamePasskeyInputSchema,
    output: PasskeySchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  removePasskey: {
    router: 'me',
    procedure: 'removePasskey',
    method: 'POST',
    path: '/me/passkeys/:id/remove',
    auth: 'access',
    rateLimit: 'password',
    summary: 'Remove a passkey',
    description:
      'Checks the password (and, with an authenticator app on, a code), then removes one of the caller’s ' +
      'passkeys: it signs in no more. A POST, as it carries the password. 404 when the caller has none by that id.',
    input: RemovePasskeyInputSchema,
    output: MessageSchema,
    status: 200,
    errors: ['NOT_FOUND', 'WRONG_PASSWORD', 'BAD_CODE'],
  },
  listMySessions: {
    router: 'me',
    procedure: 'sessions',
    method: 'GET',
    path: '/me/sessions',
    auth: 'access',
    summary: 'List the caller’s sessions',
    description:
      'The caller’s live sessions (devices signed in), newest first, a page at a time; `current` marks the ' +
      'one the access token belongs to.',
    input: ListSessionsInputSchema,
    output: SessionPageSchema,
    status: 200,
    errors: [],
  },
  endMySession: {
    router: 'me',
    procedure: 'endSession',
    method: 'DELETE',
    path: '/me/sessions/:sid',
    auth: 'access',
    summary: 'End one of the caller’s sessions',
    description: 'Ends one live session of the caller (its tokens stop working at once); 404 when there is none.',
    input: EndSessionInputSchema,
    output: EndedSessionsSchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  endMyOtherSessions: {
    router: 'me',
    procedure: 'endOtherSessions',
    method: 'DELETE',
    path: '/me/sessions',
    auth: 'access',
    summary: 'Sign out everywhere else',
    description: 'Ends every live session of the caller but the one the access token belongs to.',
    input: NoInputSchema,
    output: EndedSessionsSchema,
    status: 200,
    errors: [],
  },
  updateUser: {
    router: 'users',
    procedure: 'update',
    method: 'PATCH',
    path: '/users/:id',
    auth: 'access',
    role: 'admin',
    summary: 'Change an account',
    description:
      'Renames, re-roles, disables or enables an account. Demoting or disabling it ends its sessions on every ' +
      'instance at once. The last enabled admin cannot be demoted or disabled (409 LAST_ADMIN).',
    input: UpdateUserInputSchema,
    output: UserSchema,
    status: 200,
    errors: ['NOT_FOUND', 'LAST_ADMIN'],
  },
  deleteUser: {
    router: 'users',
    procedure: 'remove',
    method: 'DELETE',
    path: '/users/:id',
    auth: 'access',
    role: 'admin',
    summary: 'Delete an account',
    description:
      'Removes the account and its sessions; its audit events stay. The last enabled admin cannot be deleted ' +
      '(409 LAST_ADMIN).',
    input: UserByIdInputSchema,
    output: MessageSchema,
    status: 200,
    errors: ['NOT_FOUND', 'LAST_ADMIN'],
  },
  setUserPassword: {
    router: 'users',
    procedure: 'setPassword',
    method: 'POST',
    path: '/users/:id/password',
    auth: 'access',
    role: 'admin',
    summary: 'Set an account’s password',
    description: 'Sets a new password (the password rules apply) and ends every session of the account.',
    input: SetPasswordInputSchema,
    output: MessageSchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  getUserLockout: {
    router: 'users',
    procedure: 'lockout',
    method: 'GET',
    path: '/users/:id/lockout',
    auth: 'access',
    role: 'admin',
    summary: 'Is an account’s sign-in blocked?',
    description:
      'Whether wrong passwords from many clients have reached the account’s ceiling (RATE_LIMIT_FAILURES_PER_ACCOUNT), ' +
      'so that sign-ins from clients it does not know are refused for now; clients that signed in before (with ' +
      'their device_token) are not. 404 when there is no such account.',
    input: UserByIdInputSchema,
    output: LockoutSchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  liftUserLockout: {
    router: 'users',
    procedure: 'liftLockout',
    method: 'DELETE',
    path: '/users/:id/lockout',
    auth: 'access',
    role: 'admin',
    summary: 'Lift an account’s sign-in block',
    description:
      'Clears the account’s count of wrong passwords from everywhere, so clients it does not know may sign in again ' +
      '(recorded as lockout_lifted). A password set by an admin or changed by its owner lifts it too.',
    input: UserByIdInputSchema,
    output: LockoutLiftedSchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  removeUserMfa: {
    router: 'users',
    procedure: 'removeMfa',
    method: 'DELETE',
    path: '/users/:id/mfa',
    auth: 'access',
    role: 'admin',
    summary: 'Remove an account’s second factors',
    description:
      'For a user who lost their authenticator and recovery codes: removes the app’s secret, the recovery codes ' +
      'and the passkeys, and ends every session of the account (recorded as mfa_removed). 404 when there is no ' +
      'such account, 409 MFA_NOT_ENABLED when it has no second factor.',
    input: UserByIdInputSchema,
    output: MessageSchema,
    status: 200,
    errors: ['NOT_FOUND', 'MFA_NOT_ENABLED'],
  },
  listUserSessions: {
    router: 'users',
    procedure: 'sessions',
    method: 'GET',
    path: '/users/:id/sessions',
    auth: 'access',
    role: 'admin',
    summary: 'List an account’s sessions',
    description: 'The account’s live sessions, newest first, a page at a time; 404 when there is no such account.',
    input: UserSessionsInputSchema,
    output: SessionPageSchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  endUserSessions: {
    router: 'users',
    procedure: 'endSessions',
    method: 'DELETE',
    path: '/users/:id/sessions',
    auth: 'access',
    role: 'admin',
    summary: 'End an account’s sessions',
    description: 'Ends every live session of the account: its tokens stop working on every instance at once.',
    input: UserByIdInputSchema,
    output: EndedSessionsSchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  endUserSession: {
    router: 'users',
    procedure: 'endSession',
    method: 'DELETE',
    path: '/users/:id/sessions/:sid',
    auth: 'access',
    role: 'admin',
    summary: 'End one of an account’s sessions',
    description: 'Ends one live session of the account (its tokens stop working at once); 404 when there is none.',
    input: EndUserSessionInputSchema,
    output: EndedSessionsSchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  listAudit: {
    router: 'audit',
    procedure: 'list',
    method: 'GET',
    path: '/audit',
    auth: 'access',
    role: 'admin',
    summary: 'Read the audit log',
    description:
      'Events newest first, a page at a time, optionally only of one type, by one actor or about one account. ' +
      'Events are appended in the transaction of the change they record and never changed; AUDIT_RETENTION ' +
      'purges old ones.',
    input: ListAuditInputSchema,
    output: AuditPageSchema,
    status: 200,
    errors: [],
  },
  createWebhook: {
    router: 'webhooks',
    procedure: 'create',
    method: 'POST',
    path: '/webhooks',
    auth: 'access',
    role: 'admin',
    summary: 'Add a webhook endpoint',
    description:
      'Events of the chosen types are POSTed to the URL, signed per Standard Webhooks (webhook-id, ' +
      'webhook-timestamp, webhook-signature v1) with the secret answered here, once. Each event is written in ' +
      'the transaction of its change and retried with backoff for a day. The URL must be https in production, ' +
      'and may not resolve to a loopback, private, link-local or metadata address (WEBHOOK_ALLOW_PRIVATE).',
    input: CreateWebhookInputSchema,
    output: CreatedWebhookSchema,
    status: 201,
    errors: [],
  },
  listWebhooks: {
    router: 'webhooks',
    procedure: 'list',
    method: 'GET',
    path: '/webhooks',
    auth: 'access',
    role: 'admin',
    summary: 'The webhook endpoints',
    description: 'Every endpoint, oldest first, without its secret.',
    input: NoInputSchema,
    output: WebhookListSchema,
    status: 200,
    errors: [],
  },
  updateWebhook: {
    router: 'webhooks',
    procedure: 'update',
    method: 'PATCH',
    path: '/webhooks/:id',
    auth: 'access',
    role: 'admin',
    summary: 'Change a webhook endpoint',
    description:
      'Its URL (checked as when added), event types, description, or whether it is enabled: a disabled endpoint ' +
      'gets no new events, and its pending deliveries wait until it is enabled again. 404 when there is none.',
    input: UpdateWebhookInputSchema,
    output: WebhookEndpointSchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  rotateWebhookSecret: {
    router: 'webhooks',
    procedure: 'rotateSecret',
    method: 'POST',
    path: '/webhooks/:id/secret',
    auth: 'access',
    role: 'admin',
    summary: 'Rotate an endpoint’s signing secret',
    description:
      'A new secret, shown once. For a day every delivery is signed with both (webhook-signature lists two ' +
      'signatures), so the receiver can move to the new one without refusing anything.',
    input: WebhookByIdInputSchema,
    output: RotatedSecretSchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  testWebhook: {
    router: 'webhooks',
    procedure: 'test',
    method: 'POST',
    path: '/webhooks/:id/test',
    auth: 'access',
    role: 'admin',
    summary: 'Send a test event',
    description:
      'Queues a `webhook.test` event for this endpoint alone, delivered (and logged) as any other. 404 when there is none.',
    input: WebhookByIdInputSchema,
    output: MessageSchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  redeliverWebhook: {
    router: 'webhooks',
    procedure: 'redeliver',
    method: 'POST',
    path: '/webhooks/:id/deliveries/:delivery/redeliver',
    auth: 'access',
    role: 'admin',
    summary: 'Send a delivery again',
    description:
      'Puts one delivery of the log (a failed one, or a delivered one a receiver lost) back in the queue, due now, ' +
      'with the same webhook-id. 404 when the endpoint has no such delivery.',
    input: RedeliverInputSchema,
    output: MessageSchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  deleteWebhook: {
    router: 'webhooks',
    procedure: 'remove',
    method: 'DELETE',
    path: '/webhooks/:id',
    auth: 'access',
    role: 'admin',
    summary: 'Remove a webhook endpoint',
    description: 'Removes the endpoint and its deliveries, pending ones included; 404 when there is none.',
    input: WebhookByIdInputSchema,
    output: MessageSchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  listWebhookDeliveries: {
    router: 'webhooks',
    procedure: 'deliveries',
    method: 'GET',
    path: '/webhooks/:id/deliveries',
    auth: 'access',
    role: 'admin',
    summary: 'An endpoint’s delivery log',
    description:
      'Its deliveries, newest first, a page at a time: attempts, the last status, error and latency, the next try.',
    input: WebhookDeliveriesInputSchema,
    output: WebhookDeliveryPageSchema,
    status: 200,
    errors: ['NOT_FOUND'],
  },
  setup: {
    router: 'auth',
    procedure: 'setup',
    method: 'GET',
    path: '/setup',
    auth: 'none',
    summary: 'Whether the service is new',
    description:
      'Says whether there is no account yet, so a first-run form can offer to create the first admin ' +
      '(the first account registered may make itself admin).',
    input: NoInputSchema,
    output: SetupSchema,
    status: 200,
    errors: [],
  },
} as const satisfies Record<string, Operation>;

export type Operations = typeof operations;
export type OperationName = keyof Operations;
export type InputOf<K extends OperationName> = z.input<Operations[K]['input']>;
export type ParsedInputOf<K extends OperationName> = z.output<Operations[K]['input']>;
export type OutputOf<K extends OperationName> = z.output<Operations[K]['output']>;

export const operationNames = Object.keys(operations) as OperationName[];

/** The tRPC path of an operation, its router and procedure: `auth.login` (served at `${TRPC_PREFIX}/auth.login`). */
export const trpcPathOf = (name: OperationName): string => `${operations[name].router}.${operations[name].procedure}`;

const TOKEN_ERRORS = ['INVALID_TOKEN', 'TOKEN_EXPIRED', 'TOKEN_REVOKED', 'WRONG_TOKEN_TYPE'] as const;
/** Any operation can meet these: its input refused, an unreachable database, an instance shutting down, a bug. */
const ALWAYS = ['VALIDATION_FAILED', 'INTERNAL', 'DB_UNAVAILABLE', 'SHUTTING_DOWN'] as const;
/** Fastify reads (and limits) the body of every method but GET, even where the operation reads none. */
const BODY_ERRORS = ['PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'] as const;

type Op<K extends OperationName> = Operations[K];
type AuthErrorsOf<K extends OperationName> = Op<K>['auth'] extends 'access' | 'refresh'
  ? 'AUTH_REQUIRED' | (typeof TOKEN_ERRORS)[number]
  : Op<K>['auth'] extends 'optional'
    ? (typeof TOKEN_ERRORS)[number]
    : never;
type RoleErrorsOf<K extends OperationName> = Op<K> extends { role: string } ? 'FORBIDDEN' : never;
type MfaPolicyErrorsOf<K extends OperationName> =
  Op<K> extends { beforeMfa: true }
    ? never
    : Op<K>['auth'] extends 'access' | 'optional'
      ? 'MFA_ENROLMENT_REQUIRED'
      : never;
type RateErrorsOf<K extends OperationName> = Op<K> extends { rateLimit: string } ? 'RATE_LIMITED' : never;
type BodyErrorsOf<K extends OperationName> = Op<K>['method'] extends 'GET' ? never : (typeof BODY_ERRORS)[number];

/** Every error code operation K can answer with: the SDK's callers narrow on these. */
export type ErrorCodeOf<K extends OperationName> =
  | Op<K>['errors'][number]
  | AuthErrorsOf<K>
  | RoleErrorsOf<K>
  | MfaPolicyErrorsOf<K>
  | RateErrorsOf<K>
  | BodyErrorsOf<K>
  | (typeof ALWAYS)[number];

/**
 * Every error code an operation can answer with: its handler's own, and those its other fields imply. The
 * server refuses to send any other (it would be a bug: the documents would not list it).
 */
export function errorCodesOf(op: Operation): ErrorCode[] {
  const codes = new Set<ErrorCode>(op.errors);
  if (op.auth === 'access' || op.auth === 'refresh') codes.add('AUTH_REQUIRED');
  if (op.auth !== 'none') for (const code of TOKEN_ERRORS) codes.add(code);
  if (op.role) codes.add('FORBIDDEN');
  if ((op.auth === 'access' || op.auth === 'optional') && !op.beforeMfa) codes.add('MFA_ENROLMENT_REQUIRED');
  if (op.rateLimit) codes.add('RATE_LIMITED');
  if (op.method !== 'GET') for (const code of BODY_ERRORS) codes.add(code);
  for (const code of ALWAYS) codes.add(code);
  return [...codes].sort((a, b) => errorStatus[a] - errorStatus[b] || a.localeCompare(b));
}
