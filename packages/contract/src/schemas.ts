import { z } from 'zod';

const MAX_ID = 2_147_483_647;

/** A whole number that arrives as a JSON number (tRPC) or as a decimal string (REST path and query). */
const wholeNumber = (min: number, max: number) =>
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
    .pipe(z.number().int().min(min).max(max));

/** 1 = admin, 2 = user. */
export const UserRoleSchema = z.union([z.literal(1), z.literal(2)]);
export type UserRole = z.infer<typeof UserRoleSchema>;
export const ADMIN = 1 as const;
export const USER = 2 as const;

/**
 * Logins are folded (NFKC, lower case) before any rule applies, so `Bob`, `bob` and `ｂｏｂ` are one
 * account on MySQL and SQLite alike; the character set then leaves no room for invisible or look-alike letters.
 */
export const LoginSchema = z
  .string()
  .max(256)
  .trim()
  .normalize('NFKC')
  .toLowerCase()
  .min(3)
  .max(64)
  .regex(/^[a-z0-9][a-z0-9._@+-]*$/, 'Use letters a-z, digits and . _ @ + - (starting with a letter or digit)');

export const UserNameSchema = z
  .string()
  .max(400)
  .trim()
  .normalize('NFC')
  .min(1)
  .max(128)
  .regex(/^[^\p{Cc}\p{Cf}]*$/u, 'Control and invisible formatting characters are not allowed');

/** Length is bounded so no request can make the server hash megabytes. */
export const NewPasswordSchema = z.string().min(8).max(128);
export const PasswordSchema = z.string().min(1).max(128);

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
  limit: wholeNumber(1, 100).default(20),
  cursor: z
    .string()
    .regex(/^\d{1,10}$/, 'Not a cursor this API returned')
    .optional()
    .describe('Opaque: pass the next_cursor of the previous page'),
});

export const UserByIdInputSchema = z.strictObject({ id: wholeNumber(1, MAX_ID) });

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
