import type { Database } from '@api-users/db';
import type { Kysely } from 'kysely';

/** Tables of single-use rows that expire (a sign-in challenge, a mailed link): each has id, used_at, expires_at. */
type SingleUseTable = 'mfa_challenges' | 'email_tokens';

/**
 * Spends a row once: one conditional UPDATE, so of two requests with it at the same time only one acts. Whether
 * it was still live (unspent, unexpired).
 */
export async function spendOnce(db: Kysely<Database>, table: SingleUseTable, id: string, now: number) {
  const spent = await db
    // Both tables have these columns; kysely types a table-valued parameter only one table at a time.
    .updateTable(table as 'email_tokens')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return spent.numUpdatedRows === 1n;
}
