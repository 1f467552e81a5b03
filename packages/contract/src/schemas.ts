import { z } from 'zod';
import { foldText } from './wire.js';

const MAX_ID = 2_147_483_647;

/**
 * Inputs that arrive as JSON values (tRPC, bodies) or as decimal strings and `true`/`false` (REST path and
 * query), with their range: documents show them as the integers and booleans they are on the wire.
 */
export const wireTypes = z.registry<{ type: 'integer'; minimum: number; maximum: number } | { type: 'boolean' }>();

const wholeNumber = (minimum: number, maximum: number, description: string) =>
  z
    .union(
      [
        z.number(),
        z
          .string()
          .regex(/^\d{1,10}$/)
          .transform(Number),
      ],
      { error: 'Expected a whole number' },
    )
    .pipe(z.number().int().min(minimum).max(maximum))
    .describe(description)
    .register(wireTypes, { type: 'integer', minimum, maximum });

const wireBoolean = (description: string) =>
  z
    .union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')], {
      error: 'Expected true or false',
    })
    .describe(description)
    .register(wireTypes, { type: 'boolean' });

/**
 * The name of each schema that documents show as a component of its own (OpenAPI `components.schemas`): the
 * operations' bodies and answers. A registry of its own, not zod's global one, so that converting any other
 * schema to JSON Schema inlines these as it always did.
 */
export const schemaNames = z.registry<{ id: string }>();

/**
 * Every string input starts here. A lone UTF-16 surrogate (JSON allows `"\ud800"`) is no character: the
 * databases store it differently (SQLite keeps it, MySQL refuses or replaces it) and hashing turns it into
 * U+FFFD, so it is refused before anything else. (`\p{Cs}` matches only unpaired surrogates under the u flag.)
 */
export const inputString = () =>
  z.string().refine((s) => !/\p{Cs}/u.test(s), { error: 'Not well-formed Unicode (a lone surrogate)', abort: true });

/** A keyset page of items: pass `next_cursor` as the next request's `cursor` (null on the last page). */
const pageOf = <T extends z.ZodType>(item: T, id: string) =>
  z.object({ items: z.array(item), next_cursor: z.string().nullable() }).register(schemaNames, { id });

/** 1 = admin, 2 = user. */
export const UserRoleSchema = z.union([z.literal(1), z.literal(2)], { error: 'Must be 1 (admin) or 2 (user)' });
export type UserRole = z.infer<typeof UserRoleSchema>;
export const ADMIN = 1 as const;
export const USER = 2 as const;

/**
 * Logins are folded (trimmed, NFKC, lower case) before any rule applies, so `Bob`, `bob` and `ｂｏｂ` are one
 * account on MySQL and SQLite alike; the character set then leaves no room for invisible or look-alike letters.
 * The rules come after the fold (a pipe), so documents show what is accepted as sent.
 */
export const LoginSchema = inputString()
  .max(256)
  .transform((s) => foldText(s.trim()))
  .pipe(
    z
      .string()
      .min(3)
      .max(64)
      .regex(/^[a-z0-9][a-z0-9._@+-]*$/, 'Use letters a-z, digits and . _ @ + - (starting with a letter or digit)'),
  )
  .describe('Folded to lower case (NFKC) and trimmed, then 3-64 of a-z 0-9 . _ @ + - starting with a letter or digit');

export const UserNameSchema = inputString()
  .max(400)
  .transform((s) => s.trim().normalize('NFC'))
  .pipe(
    z
      .string()
      .min(1)
      .max(128)
      .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'Control and invisible formatting characters are not allowed'),
  )
  .describe('Trimmed and NFC-normalised, then 1-128 characters, none of them control or formatting characters');

/** Length is bounded so no request can make the server hash megabytes. */
export const NewPasswordSchema = inputString().min(8).max(128);
export const PasswordSchema = inputString().min(1).max(128);

/**
 * An email address, trimmed and lower-cased before the check: `Ada@Example.com` and `ada@example.com` are one
 * address, so one account.
 */
export const EmailSchema = inputString()
  .max(400)
  .transform((s) => s.trim().toLowerCase())
  .pipe(z.email({ error: 'Not an email address' }).max(254))
  .describe('An email address (trimmed and lower-cased; at most 254 characters)');

export const RegisterInputSchema = z
  .strictObject({
    user_name: UserNameSchema,
    login: LoginSchema,
    password: NewPasswordSchema,
    user_role: UserRoleSchema.optional(),
    email: EmailSchema.optional().describe('Optional: a link to confirm it is mailed; it counts once confirmed'),
  })
  .register(schemaNames, { id: 'RegisterInput' });

/** What a client that signed in before sends back (OWASP's device cookie); opaque. */
const DEVICE_TOKEN = 'the device_token of an earlier sign-in to this account';

export const LoginInputSchema = z
  .strictObject({
    login: LoginSchema,
    password: PasswordSchema,
    device_token: inputString()
      .max(200)
      .optional()
      .describe(
        `Optional: ${DEVICE_TOKEN}. A client that sends one is trusted with a small budget of wrong passwords of ` +
          'its own, so an account under attack from elsewhere stays open to it',
      ),
  })
  .register(schemaNames, { id: 'LoginInput' });

/** Operations whose input is only their token take no body (an empty object is accepted too). */
export const NoInputSchema = z.strictObject({}).optional().register(schemaNames, { id: 'NoInput' });

const pageLimit = (what: string) => wholeNumber(1, 100, `${what} per page`).prefault(20);

const CURSOR_DESCRIPTION = 'Opaque: the next_cursor of the previous page (absent or null: the first page)';
const NOT_A_CURSOR = 'Not a cursor this API returned';
/** The cursor of pages ordered by a numeric id: an id, so within the ids' range (PostgreSQL refuses more). */
const idCursor = () =>
  inputString()
    .regex(/^\d{1,10}$/, { error: NOT_A_CURSOR, abort: true })
    .refine((cursor) => Number(cursor) <= MAX_ID, NOT_A_CURSOR)
    .nullish()
    .describe(CURSOR_DESCRIPTION);

// A first page needs no input at all (`.prefault({})`): over tRPC, `query()` with no argument is `{}`.
export const ListUsersInputSchema = z
  .strictObject({
    limit: pageLimit('Users'),
    cursor: idCursor(),
    q: inputString()
      .max(400)
      .transform((s) => foldText(s.trim()))
      .pipe(z.string().min(1).max(100))
      .optional()
      .describe('Only accounts whose login or name starts with this text, ignoring case (1-100 characters)'),
    role: wholeNumber(1, 2, 'Only accounts of this role: 1 admin, 2 user').optional(),
    disabled: wireBoolean('Only disabled accounts (true) or only enabled ones (false)').optional(),
  })
  .prefault({});

const userId = () => wholeNumber(1, MAX_ID, 'The id_user');

export const UserByIdInputSchema = z.strictObject({ id: userId() });

export const UpdateUserInputSchema = z
  .strictObject({
    id: userId(),
    user_name: UserNameSchema.optional(),
    user_role: UserRoleSchema.optional(),
    disabled: z.boolean().optional().describe('A disabled account cannot sign in; disabling it ends its sessions'),
  })
  .register(schemaNames, { id: 'UpdateUserInput' });

export const UpdateMeInputSchema = z
  .strictObject({ user_name: UserNameSchema })
  .register(schemaNames, { id: 'UpdateMeInput' });

/** What a code field accepts: spaces and hyphens are dropped and letters lower-cased before the check. */
const codeInput = (pattern: RegExp, message: string) =>
  inputString()
    .max(64)
    .transform((s) => s.replace(/[\s-]/g, '').toLowerCase())
    .pipe(z.string().regex(pattern, message));

/** A code of the authenticator app: six digits (RFC 6238, 30-second steps). */
const TotpCodeSchema = codeInput(/^\d{6}$/, 'Six digits from the authenticator app').describe(
  'Six digits from the authenticator app (spaces are ignored)',
);

/** The second factor where a password is asked again: an authenticator code, or one of the recovery codes. */
export const SecondFactorCodeSchema = codeInput(
  /^(\d{6}|[a-z2-7]{16})$/,
  'Six digits from the authenticator app, or a recovery code (xxxx-xxxx-xxxx-xxxx)',
).describe('Six digits from the authenticator app, or one of the recovery codes (xxxx-xxxx-xxxx-xxxx)');

const WITH_MFA = 'Required when the account has a second factor: a code of the authenticator app or a recovery code';

export const ChangePasswordInputSchema = z
  .strictObject({
    current_password: PasswordSchema,
    new_password: NewPasswordSchema,
    code: SecondFactorCodeSchema.optional().describe(WITH_MFA),
  })
  .register(schemaNames, { id: 'ChangePasswordInput' });

export const LoginMfaInputSchema = z
  .strictObject({
    mfa_token: inputString().max(200).describe('The mfa_token of the sign-in that asked for a second factor'),
    code: SecondFactorCodeSchema,
  })
  .register(schemaNames, { id: 'LoginMfaInput' });

/** Asking for the password again (and, with a second factor, a code) before a change of the factors. */
export const ReauthenticateInputSchema = z
  .strictObject({ password: PasswordSchema, code: SecondFactorCodeSchema })
  .register(schemaNames, { id: 'ReauthenticateInput' });

export const ConfirmTotpInputSchema = z
  .strictObject({ password: PasswordSchema, code: TotpCodeSchema })
  .register(schemaNames, { id: 'ConfirmTotpInput' });

const passkeyId = () =>
  inputString()
    .regex(/^[0-9a-f-]{36}$/, 'Not a passkey id')
    .describe('The passkey’s id');

/** A passkey's name, as its owner calls it (the device it lives on, say). */
const PasskeyNameSchema = UserNameSchema.describe('1-128 characters, trimmed; shown in the passkey list');

/**
 * What a browser's WebAuthn call answers, as JSON (`PublicKeyCredential.toJSON()`, or @simplewebauthn/browser's
 * startRegistration / startAuthentication): checked here for its shape, by the server for everything else.
 */
const WebAuthnResponseSchema = z
  .looseObject({
    id: inputString().min(1).max(512).describe('The credential id, base64url'),
    rawId: inputString().min(1).max(512),
    type: z.literal('public-key'),
    response: z.record(z.string(), z.unknown()),
  })
  .describe('The PublicKeyCredential as JSON (WebAuthn Level 3 toJSON())');

const ceremonyId = () =>
  inputString()
    .regex(/^[0-9a-f-]{36}$/, 'Not a ceremony id')
    .describe('The ceremony_id of the options this answers');

/** Re-authentication before a change of the sign-in credentials: the password and, with an app enrolled, a code. */
export const ConfirmPasswordInputSchema = z
  .strictObject({ password: PasswordSchema, code: SecondFactorCodeSchema.optional().describe(WITH_MFA) })
  .register(schemaNames, { id: 'ConfirmPasswordInput' });

export const AddPasskeyInputSchema = z
  .strictObject({
    ceremony_id: ceremonyId(),
    response: WebAuthnResponseSchema,
    name: PasskeyNameSchema.optional(),
  })
  .register(schemaNames, { id: 'AddPasskeyInput' });

export const RenamePasskeyInputSchema = z
  .strictObject({ id: passkeyId(), name: PasskeyNameSchema })
  .register(schemaNames, { id: 'RenamePasskeyInput' });

export const RemovePasskeyInputSchema = z
  .strictObject({
    id: passkeyId(),
    password: PasswordSchema,
    code: SecondFactorCodeSchema.optional().describe(WITH_MFA),
  })
  .register(schemaNames, { id: 'RemovePasskeyInput' });

export const PasskeySignInInputSchema = z
  .strictObject({
    mfa_token: inputString()
      .max(200)
      .optional()
      .describe('The mfa_token of a sign-in whose password was right: a passkey of that account as the second factor'),
  })
  .prefault({})
  .register(schemaNames, { id: 'PasskeySignInInput' });

export const LoginPasskeyInputSchema = z
  .strictObject({ ceremony_id: ceremonyId(), response: WebAuthnResponseSchema })
  .register(schemaNames, { id: 'LoginPasskeyInput' });

/** A token from a mailed link: opaque, single use. */
const mailedToken = (what: string) => inputString().min(1).max(200).describe(`The token of the ${what} link`);

export const ChangeEmailInputSchema = z
  .strictObject({
    email: EmailSchema,
    password: PasswordSchema,
    code: SecondFactorCodeSchema.optional().describe(WITH_MFA),
  })
  .register(schemaNames, { id: 'ChangeEmailInput' });

export const VerifyEmailInputSchema = z
  .strictObject({ token: mailedToken('confirmation') })
  .register(schemaNames, { id: 'VerifyEmailInput' });

export const ForgotPasswordInputSchema = z
  .strictObject({ email: EmailSchema })
  .register(schemaNames, { id: 'ForgotPasswordInput' });

export const ResetPasswordInputSchema = z
  .strictObject({ token: mailedToken('password reset'), new_password: NewPasswordSchema })
  .register(schemaNames, { id: 'ResetPasswordInput' });

export const SetPasswordInputSchema = z
  .strictObject({ id: userId(), new_password: NewPasswordSchema })
  .register(schemaNames, { id: 'SetPasswordInput' });

/** Sessions come newest first; their cursor is the sign-in time and id of the last one shown. */
const sessionCursor = () =>
  inputString()
    .regex(/^\d{1,15}\.[0-9a-f-]{36}$/, NOT_A_CURSOR)
    .nullish()
    .describe(CURSOR_DESCRIPTION);

export const ListSessionsInputSchema = z
  .strictObject({ limit: pageLimit('Sessions'), cursor: sessionCursor() })
  .prefault({});

export const UserSessionsInputSchema = z.strictObject({
  id: userId(),
  limit: pageLimit('Sessions'),
  cursor: sessionCursor(),
});

const sessionId = (description: string) =>
  inputString()
    .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'Not a session id')
    .describe(description);

export const EndSessionInputSchema = z.strictObject({ sid: sessionId('The id of one of the caller’s sessions') });

export const EndUserSessionInputSchema = z.strictObject({
  id: userId(),
  sid: sessionId('The id of one of the account’s sessions'),
});

/** What the audit log records; see the README for who is actor and target of each. */
export const AuditEventTypeSchema = z.enum([
  'register',
  'login',
  'login_failed',
  'refresh',
  'refresh_reused',
  'logout',
  'logout2',
  'password_changed',
  'password_set',
  'role_changed',
  'renamed',
  'disabled',
  'enabled',
  'deleted',
  'session_ended',
  'lockout_lifted',
  'mfa_challenged',
  'mfa_started',
  'mfa_enabled',
  'mfa_disabled',
  'mfa_removed',
  'recovery_codes_regenerated',
  'passkey_added',
  'passkey_renamed',
  'passkey_removed',
  'passkey_cloned',
  'email_change_requested',
  'email_verified',
  'password_reset_requested',
  'password_reset',
]);
export type AuditEventType = z.infer<typeof AuditEventTypeSchema>;

export const ListAuditInputSchema = z
  .strictObject({
    limit: pageLimit('Events'),
    cursor: idCursor(),
    type: AuditEventTypeSchema.optional().describe('Only events of this type'),
    actor_id: wholeNumber(1, MAX_ID, 'Only events done by this account').optional(),
    target_id: wholeNumber(1, MAX_ID, 'Only events done to this account').optional(),
  })
  .prefault({});

/** The public view of an account: never a password or hash. Unknown keys are stripped on output. */
export const UserSchema = z
  .object({
    id_user: z.number().int(),
    user_name: z.string(),
    login: z.string(),
    user_role: UserRoleSchema,
    created_at: z.iso.datetime(),
    disabled: z.boolean(),
    email_verified: z
      .boolean()
      .describe('Whether the account has a confirmed email address (its owner can then reset a forgotten password)'),
  })
  .register(schemaNames, { id: 'User' });
export type User = z.infer<typeof UserSchema>;

export const UserPageSchema = pageOf(UserSchema, 'UserPage');

export const TokenPairSchema = z
  .object({
    access_token: z.string().describe('A JWT (RFC 9068, `typ: at+jwt`): what other services verify'),
    refresh_token: z
      .string()
      .describe('Opaque, for this service alone: sent as the bearer token of /refresh and /logout2, spent by /refresh'),
    token_type: z.literal('Bearer'),
    expires_in: z.number().int().describe('Seconds until the access token expires'),
    device_token: z
      .string()
      .optional()
      .describe(
        'After a sign-in or a password change: kept by the client and sent with its next sign-ins to this account ' +
          '(OWASP device cookies). Opaque; it opens nothing by itself',
      ),
  })
  .register(schemaNames, { id: 'TokenPair' });
export type TokenPair = z.infer<typeof TokenPairSchema>;

/** The second factors a sign-in challenge can be answered with. */
export const SecondFactorSchema = z.enum(['totp', 'recovery_code', 'passkey']);

/** A sign-in whose password was right, of an account with a second factor: the code is asked next. */
export const MfaRequiredSchema = z
  .object({
    mfa_required: z.literal(true),
    mfa_token: z
      .string()
      .describe(
        'Opaque and single use: sent with a code to /login/mfa. No access or refresh token: no operation takes it',
      ),
    expires_in: z.number().int().describe('Seconds the mfa_token may be used for'),
    methods: z
      .array(SecondFactorSchema)
      .describe('What this account can finish with: a code at /login/mfa, or a passkey at /login/passkey'),
  })
  .register(schemaNames, { id: 'MfaRequired' });
export type MfaRequired = z.infer<typeof MfaRequiredSchema>;

/** What a sign-in answers: the pair, or (with a second factor enrolled) the challenge to answer with a code. */
export const SignInSchema = z.union([TokenPairSchema, MfaRequiredSchema]).register(schemaNames, { id: 'SignIn' });
export type SignIn = z.infer<typeof SignInSchema>;
export const MfaStatusSchema = z
  .object({
    totp: z.boolean().describe('Whether an authenticator app is enrolled (and confirmed)'),
    recovery_codes_left: z.number().int().describe('Recovery codes not used yet'),
    passkeys: z.number().int().describe('Passkeys registered (each signs in alone, or as the second factor)'),
  })
  .register(schemaNames, { id: 'MfaStatus' });

export const TotpEnrolmentSchema = z
  .object({
    secret: z.string().describe('The shared secret (base32), for typing into an authenticator app'),
    otpauth_uri: z.string().describe('The otpauth:// URI an authenticator app reads from the QR code'),
    qr_svg: z.string().describe('The URI as a QR code, an SVG document'),
  })
  .register(schemaNames, { id: 'TotpEnrolment' });

export const RecoveryCodesSchema = z
  .object({
    recovery_codes: z
      .array(z.string())
      .describe('Ten codes, each usable once instead of an authenticator code. Shown this once: only digests are kept'),
  })
  .register(schemaNames, { id: 'RecoveryCodes' });

export const PasskeySchema = z
  .object({
    id: z.string(),
    name: z.string(),
    created_at: z.iso.datetime(),
    last_used_at: z.iso.datetime().nullable().describe('Last sign-in with it (null: never)'),
    device_type: z
      .enum(['singleDevice', 'multiDevice'])
      .describe('singleDevice: bound to one authenticator; multiDevice: synced between devices'),
    backed_up: z.boolean().describe('Whether the authenticator says it is backed up (synced)'),
  })
  .register(schemaNames, { id: 'Passkey' });
export type Passkey = z.infer<typeof PasskeySchema>;

export const PasskeyListSchema = z
  .object({ items: z.array(PasskeySchema) })
  .register(schemaNames, { id: 'PasskeyList' });

/** A WebAuthn ceremony begun: the options for the browser, and the id its answer is sent back with. */
const ceremonySchema = (id: string, options: string) =>
  z
    .object({
      ceremony_id: z.string().describe('Sent back with the browser’s answer; single use, for five minutes'),
      options: z.record(z.string(), z.unknown()).describe(options),
    })
    .register(schemaNames, { id });

export const PasskeyRegistrationSchema = ceremonySchema(
  'PasskeyRegistration',
  'PublicKeyCredentialCreationOptionsJSON: for navigator.credentials.create() (PublicKeyCredential.' +
    'parseCreationOptionsFromJSON) or @simplewebauthn/browser’s startRegistration',
);

export const PasskeySignInSchema = ceremonySchema(
  'PasskeySignIn',
  'PublicKeyCredentialRequestOptionsJSON: for navigator.credentials.get() (PublicKeyCredential.' +
    'parseRequestOptionsFromJSON) or @simplewebauthn/browser’s startAuthentication',
);

export const EmailStatusSchema = z
  .object({
    email: z.string().nullable().describe('The confirmed address (null: none yet)'),
    pending: z
      .string()
      .nullable()
      .describe('An address waiting for its confirmation link to be followed (null: none); it replaces `email` then'),
  })
  .register(schemaNames, { id: 'EmailStatus' });

/** What webhooks tell of: each an event of the audit log that other services act on. */
export const WebhookEventTypeSchema = z.enum([
  'user.created',
  'user.updated',
  'user.deleted',
  'password.changed',
  'password.reset',
  'session.created',
  'session.ended',
  'refresh.reuse_detected',
  'mfa.enabled',
  'mfa.disabled',
  'email.verified',
  'webhook.test',
]);
export type WebhookEventType = z.infer<typeof WebhookEventTypeSchema>;

const webhookId = () =>
  inputString()
    .regex(/^[0-9a-f-]{36}$/, 'Not a webhook id')
    .describe('The webhook endpoint’s id');

export const CreateWebhookInputSchema = z
  .strictObject({
    url: inputString()
      .max(2048)
      .pipe(z.url({ protocol: /^https?$/, error: 'Must be an http(s) URL' }))
      .describe('Where events are POSTed: https in production, and never a private or loopback address'),
    event_types: z
      .array(
        z.union([WebhookEventTypeSchema, z.literal('*')], {
          error: `Not an event type: one of ${WebhookEventTypeSchema.options.join(', ')}, or * for every one`,
        }),
      )
      .min(1)
      .max(20)
      .describe('The events it wants; `*` for every one'),
    description: inputString().max(200).optional(),
    enabled: z.boolean().optional().describe('Default true'),
  })
  .register(schemaNames, { id: 'CreateWebhookInput' });

export const WebhookByIdInputSchema = z
  .strictObject({ id: webhookId() })
  .register(schemaNames, { id: 'WebhookByIdInput' });

export const UpdateWebhookInputSchema = z
  .strictObject({
    id: webhookId(),
    url: CreateWebhookInputSchema.shape.url.optional(),
    event_types: CreateWebhookInputSchema.shape.event_types.optional(),
    description: inputString().max(200).optional(),
    enabled: z.boolean().optional().describe('A disabled endpoint gets no new events; its pending ones wait'),
  })
  .register(schemaNames, { id: 'UpdateWebhookInput' });

export const RedeliverInputSchema = z
  .strictObject({
    id: webhookId(),
    delivery: wholeNumber(1, MAX_ID, 'The delivery’s id (from the delivery log)'),
  })
  .register(schemaNames, { id: 'RedeliverInput' });

export const WebhookDeliveriesInputSchema = z.strictObject({
  id: webhookId(),
  limit: pageLimit('Deliveries'),
  cursor: idCursor(),
});

export const WebhookEndpointSchema = z
  .object({
    id: z.string(),
    url: z.string(),
    event_types: z.array(z.string()),
    enabled: z.boolean(),
    description: z.string(),
    created_at: z.iso.datetime(),
  })
  .register(schemaNames, { id: 'WebhookEndpoint' });

export const CreatedWebhookSchema = z
  .object({
    ...WebhookEndpointSchema.shape,
    secret: z
      .string()
      .describe('The signing secret (whsec_…, Standard Webhooks): shown this once, for the receiver to verify with'),
  })
  .register(schemaNames, { id: 'CreatedWebhook' });

export const RotatedSecretSchema = z
  .object({
    secret: z.string().describe('The new signing secret, shown this once'),
    previous_valid_until: z.iso
      .datetime()
      .describe('Until then each delivery carries a signature with the old secret too (webhook-signature lists both)'),
  })
  .register(schemaNames, { id: 'RotatedSecret' });

export const WebhookListSchema = z
  .object({ items: z.array(WebhookEndpointSchema) })
  .register(schemaNames, { id: 'WebhookList' });

export const WebhookDeliverySchema = z.object({
  id: z.number().int(),
  message_id: z.string().describe('The webhook-id header: the same for every attempt'),
  event_type: WebhookEventTypeSchema,
  status: z.enum(['pending', 'delivered', 'failed']),
  attempts: z.number().int(),
  next_attempt_at: z.iso.datetime().nullable().describe('When it is tried again (null: delivered or given up)'),
  last_status: z.number().int().nullable().describe('The HTTP status of the last attempt (null: none, or no answer)'),
  last_error: z.string().nullable(),
  last_latency_ms: z.number().int().nullable(),
  created_at: z.iso.datetime(),
  delivered_at: z.iso.datetime().nullable(),
});

export const WebhookDeliveryPageSchema = pageOf(WebhookDeliverySchema, 'WebhookDeliveryPage');

export const MessageSchema = z.object({ msg: z.string() }).register(schemaNames, { id: 'Message' });

/**
 * The claims of our tokens; nothing personal and nothing secret. `iss` and `aud` are there when the server
 * is configured with them (JWT_ISSUER, JWT_AUDIENCE); tokens issued before they were configured lack them.
 */
/**
 * How a session was signed in (RFC 8176 authentication method references): `pwd` a password; `otp` a one-time
 * code; `hwk` a passkey bound to one authenticator, `swk` a passkey synced between devices.
 */
export const AuthMethodSchema = z.enum(['pwd', 'otp', 'hwk', 'swk']);
export type AuthMethod = z.infer<typeof AuthMethodSchema>;

export const TokenClaimsSchema = z.object({
  iss: z.string().optional(),
  aud: z.union([z.string(), z.array(z.string())]).optional(),
  sub: z.string().regex(/^\d{1,10}$/),
  type: z.enum(['access', 'refresh']),
  jti: z.uuid(),
  sid: z.uuid(),
  role: UserRoleSchema,
  iat: z.number().int(),
  nbf: z.number().int(),
  exp: z.number().int(),
  /** Absent from tokens issued before it was added. */
  amr: z.array(AuthMethodSchema).optional(),
});
export type TokenClaims = z.infer<typeof TokenClaimsSchema>;

/** RFC 7662's request, as JSON: the API takes no form bodies. */
export const IntrospectInputSchema = z
  .strictObject({
    token: z.string().min(1).max(4096),
    token_type_hint: z
      .enum(['access_token', 'refresh_token'])
      .optional()
      .describe('Accepted for RFC 7662 clients and ignored: only access tokens can be active'),
  })
  .register(schemaNames, { id: 'IntrospectInput' });

/** RFC 7662's answer: the claims of a live access token, or only `active: false`. */
export const IntrospectionSchema = z
  .discriminatedUnion('active', [
    z.object({ active: z.literal(false) }),
    z.object({ active: z.literal(true), ...TokenClaimsSchema.shape, type: z.literal('access') }),
  ])
  .register(schemaNames, { id: 'Introspection' });
export type Introspection = z.infer<typeof IntrospectionSchema>;

export const LockoutSchema = z
  .object({
    locked: z
      .boolean()
      .describe('Whether sign-ins from clients it does not know (no device_token) are refused for now'),
    retry_after: z
      .number()
      .int()
      .nullable()
      .describe('Seconds until the block ends by itself; null when there is none'),
  })
  .register(schemaNames, { id: 'Lockout' });

export const LockoutLiftedSchema = z
  .object({ lifted: z.boolean().describe('Whether there was a block to lift') })
  .register(schemaNames, { id: 'LockoutLifted' });

export const EndedSessionsSchema = z
  .object({ ended: z.number().int().describe('How many sessions were ended') })
  .register(schemaNames, { id: 'EndedSessions' });

/** One sign-in of an account: a device, as it was seen at sign-in and at its last refresh. */
export const SessionSchema = z.object({
  id: z.string().describe('The session id (the `sid` claim of its tokens)'),
  created_at: z.iso.datetime().describe('Signed in'),
  refreshed_at: z.iso.datetime().nullable().describe('Last renewed (null: never)'),
  expires_at: z.iso.datetime().describe('When it ends unless renewed before'),
  client_address: z.string().nullable(),
  user_agent: z.string().nullable(),
  refreshed_client_address: z.string().nullable(),
  refreshed_user_agent: z.string().nullable(),
  current: z.boolean().describe('Whether this is the session of the token that asked'),
  amr: z
    .array(AuthMethodSchema)
    .describe(
      'How it was signed in (RFC 8176): pwd a password, otp a code of the authenticator app or a recovery code',
    ),
});
export type Session = z.infer<typeof SessionSchema>;

export const SessionPageSchema = pageOf(SessionSchema, 'SessionPage');

export const AuditEventSchema = z.object({
  id: z.number().int(),
  at: z.iso.datetime(),
  type: AuditEventTypeSchema,
  actor_id: z.number().int().nullable().describe('Who did it (null: nobody signed in, or the admin CLI)'),
  target_id: z.number().int().nullable().describe('The account it was done to'),
  session_id: z.string().nullable(),
  detail: z
    .string()
    .nullable()
    .describe(
      'login_failed: why (bad_password, unknown_login, disabled, credentials_changed, rate_limited, bad_code); ' +
        'login: totp, recovery_code or passkey; role_changed: the new role',
    ),
  client_address: z.string().nullable(),
  user_agent: z.string().nullable(),
  request_id: z.string().nullable(),
});
export type AuditEvent = z.infer<typeof AuditEventSchema>;

export const AuditPageSchema = pageOf(AuditEventSchema, 'AuditPage');

export const SetupSchema = z
  .object({
    first_run: z.boolean().describe('True while there is no account: the first one registered may make itself admin'),
  })
  .register(schemaNames, { id: 'Setup' });
