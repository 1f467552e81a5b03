import { randomUUID } from 'node:crypto';
import type { Database } from '@api-users/db';
import type { Kysely } from 'kysely';
import { newOpaqueToken, opaqueTokenReader } from '../opaque-tokens.js';
import { spendOnce } from '../single-use.js';

/** What a mailed link does, its token's prefix (opaque-tokens.ts), and how long it works. */
const KINDS = {
  verify: { prefix: 'ev.', ttlMs: 24 * 3600_000 },
  reset: { prefix: 'pr.', ttlMs: 3600_000 },
} as const;
export type EmailTokenPurpose = keyof typeof KINDS;

/** A new link's token for the account and address; the older unused ones of the same purpose stop working. */
export async function issueEmailToken(
  db: Kysely<Database>,
  purpose: EmailTokenPurpose,
  userId: number,
  email: string,
  now: number,
): Promise<{ token: string; expiresAt: number }> {
  await voidEmailTokens(db, purpose, userId, now);
  const id = randomUUID();
  const { token, digest } = newOpaqueToken(id, KINDS[purpose].prefix);
  const expiresAt = now + KINDS[purpose].ttlMs;
  await db
    .insertInto('email_tokens')
    .values({ id, digest, user_id: userId, purpose, email, created_at: now, expires_at: expiresAt, used_at: null })
    .execute();
  return { token, expiresAt };
}

/** Ends every unused link of the purpose of an account (a newer one, a confirmed change, a reset done). */
export async function voidEmailTokens(db: Kysely<Database>, purpose: EmailTokenPurpose, userId: number, now: number) {
  await db
    .updateTable('email_tokens')
    .set({ used_at: now })
    .where('user_id', '=', userId)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .execute();
}

/** A live link's row by its token: the right purpose, unused, unexpired; undefined for anything else. */
export async function liveEmailToken(db: Kysely<Database>, purpose: EmailTokenPurpose, token: string, now: number) {
  const read = opaqueTokenReader(KINDS[purpose].prefix)(token);
  if (!read) return undefined;
  const row = await db
    .selectFrom('email_tokens')
    .select(['id', 'digest', 'user_id', 'email', 'used_at', 'expires_at'])
    .where('id', '=', read.id)
    .where('purpose', '=', purpose)
    .executeTakeFirst();
  if (!row || row.digest !== read.digest || row.used_at !== null || Number(row.expires_at) <= now) return undefined;
  return { id: row.id, userId: row.user_id, email: row.email };
}

/** Spends a link (once: see single-use.ts); whether it was live. */
export const spendEmailToken = (db: Kysely<Database>, id: string, now: number) =>
  spendOnce(db, 'email_tokens', id, now);

/** The address waiting for confirmation: the newest live `verify` link's. */
export async function pendingEmail(db: Kysely<Database>, userId: number, now: number): Promise<string | null> {
  const row = await db
    .selectFrom('email_tokens')
    .select('email')
    .where('user_id', '=', userId)
    .where('purpose', '=', 'verify')
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return row?.email ?? null;
}
