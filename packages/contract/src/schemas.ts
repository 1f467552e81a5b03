import { z } from 'zod';

const MAX_ID = 2_147_483_647;

/**
 * Whole numbers that arrive as JSON numbers (tRPC) or as decimal strings (REST path and query), with their
 * range: documents show them as the integers they are on the wire.
 */
export const wireIntegers = z.registry<{ minimum: number; maximum: number }>();

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
    .register(wireIntegers, { minimum, maximum });

/**
 * Every string input starts here. A lone UTF-16 surrogate (JSON allows `"\ud800"`) is no character: the
 * databases store it differently (SQLite keeps it, MySQL refuses or replaces it) and hashing turns it into
 * U+FFFD, so it is refused before anything else. (`\p{Cs}` matches only unpaired surrogates under the u flag.)
 */
export const inputString = () =>
  z.string().refine((s) => !/\p{Cs}/u.test(s), { error: 'Not well-formed Unicode (a lone surrogate)', abort: true });

/** 1 = admin, 2 = user. */
export const UserRoleSchema = z.union([z.literal(1), z.literal(2)]);
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
  .transform((s) => s.trim().normalize('NFKC').toLowerCase())
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

export const RegisterInputSchema = z.strictObject({
  user_name: UserNameSchema,
  login: LoginSchema,
  password: NewPasswordSchema,
  user_role: UserRoleSchema.optional(),
});

export const LoginInputSchema = z.strictObject({
  login: LoginSchema,
  password: PasswordSchema,
});

/** Operations whose input is only their token take no body (an empty object is accepted too). */
export const NoInputSchema = z.strictObject({}).optional();

export const ListUsersInputSchema = z.strictObject({
  limit: wholeNumber(1, 100, 'Users per page').prefault(20),
  cursor: inputString()
    .regex(/^\d{1,10}$/, 'Not a cursor this API returned')
    .nullish()
    .describe('Opaque: the next_cursor of the previous page (absent or null: the first page)'),
});

export const UserByIdInputSchema = z.strictObject({ id: wholeNumber(1, MAX_ID, 'The id_user') });

/** The public view of an account: never a password or hash. Unknown keys are stripped on output. */
export const UserSchema = z.object({
  id_user: z.number().int(),
  user_name: z.string(),
  login: z.string(),
  user_role: UserRoleSchema,
  created_at: z.iso.datetime(),
});
export type User = z.infer<typeof UserSchema>;

export const UserPageSchema = z.object({
  items: z.array(UserSchema),
  next_cursor: z.string().nullable(),
});

export const TokenPairSchema = z.object({
  access_token: z.string(),
  refresh_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int().describe('Seconds until the access token expires'),
});
export type TokenPair = z.infer<typeof TokenPairSchema>;

export const MessageSchema = z.object({ msg: z.string() });

/**
 * The claims of our tokens; nothing personal and nothing secret. `iss` and `aud` are there when the server
 * is configured with them (JWT_ISSUER, JWT_AUDIENCE); tokens issued before they were configured lack them.
 */
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
});
export type TokenClaims = z.infer<typeof TokenClaimsSchema>;

/** RFC 7662's request, as JSON: the API takes no form bodies. */
export const IntrospectInputSchema = z.strictObject({
  token: z.string().min(1).max(4096),
  token_type_hint: z
    .enum(['access_token', 'refresh_token'])
    .optional()
    .describe('Accepted for RFC 7662 clients and ignored: only access tokens can be active'),
});

/** RFC 7662's answer: the claims of a live access token, or only `active: false`. */
export const IntrospectionSchema = z.discriminatedUnion('active', [
  z.object({ active: z.literal(false) }),
  z.object({ active: z.literal(true), ...TokenClaimsSchema.shape, type: z.literal('access') }),
]);
export type Introspection = z.infer<typeof IntrospectionSchema>;
