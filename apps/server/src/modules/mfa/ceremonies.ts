import { randomUUID } from 'node:crypto';
import type { Database } from '@api-users/db';
import type { Kysely } from 'kysely';

/** A WebAuthn ceremony lives as long as a browser gives its user to answer, and a little more. */
const CEREMONY_TTL_MS = 5 * 60_000;

export type Purpose = 'register' | 'sign_in';

export interface Ceremony {
  challenge: string;
  /** register: the account adding a passkey; sign_in: the account whose passkey must answer (none: any). */
  userId: number | null;
  /** The password step a second-factor sign-in finishes. */
  mfaChallengeId: string | null;
}

/** Keeps the challenge of a ceremony begun now; its id goes to the client with the options. */
export async function beginCeremony(db: Kysely<Database>, purpose: Purpose, ceremony: Ceremony, now: number) {
  const id = randomUUID();
  await db
    .insertInto('webauthn_ceremonies')
    .values({
      id,
      purpose,
      challenge: ceremony.challenge,
      user_id: ceremony.userId,
      mfa_challenge_id: ceremony.mfaChallengeId,
      expires_at: now + CEREMONY_TTL_MS,
      used_at: null,
    })
    .execute();
  return id;
}

/**
 * Spends a ceremony of `purpose` (one conditional UPDATE: an answer is checked once, even when sent twice at
 * the same time), then reads it; undefined when it is unknown, of another purpose, spent or expired.
 */
export async function spendCeremony(
  db: Kysely<Database>,
  id: string,
  purpose: Purpose,
  now: number,
): Promise<Ceremony | undefined> {
  const spent = await db
    .updateTable('webauthn_ceremonies')
    .set({ used_at: now })
    .where('id', '=', id)
    .where('purpose', '=', purpose)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (spent.numUpdatedRows !== 1n) return undefined;
  const row = await db
    .selectFrom('webauthn_ceremonies')
    .select(['challenge', 'user_id', 'mfa_challenge_id'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return { challenge: row.challenge, userId: row.user_id, mfaChallengeId: row.mfa_challenge_id };
}
