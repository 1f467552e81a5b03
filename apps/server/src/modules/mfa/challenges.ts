import { randomUUID } from 'node:crypto';
import type { Database } from '@api-users/db';
import type { Kysely } from 'kysely';
import { refuse } from '../../core/errors.js';
import { newOpaqueToken, opaqueTokenReader } from '../opaque-tokens.js';
import { spendOnce } from '../single-use.js';

/**
 * A sign-in whose password was right and whose account has a second factor: its token (`mfa.<id>.<secret>`,
 * opaque-tokens.ts) is no access or refresh token, so nothing but /login/mfa reads it. It lives a few minutes,
 * is spent by the sign-in it finishes, and takes MAX_ATTEMPTS codes at most.
 */
const PREFIX = 'mfa.';
export const CHALLENGE_TTL_SECONDS = 300;
const MAX_ATTEMPTS = 5;

const readChallengeToken = opaqueTokenReader(PREFIX);

export interface ChallengeOf {
  userId: number;
  credentialsVersion: number;
  /** The device token's id the sign-in carried. */
  deviceId: string | undefined;
}

export async function issueChallenge(db: Kysely<Database>, of: ChallengeOf, now: number): Promise<string> {
  const id = randomUUID();
  const { token, digest } = newOpaqueToken(id, PREFIX);
  await db
    .insertInto('mfa_challenges')
    .values({
      id,
      digest,
      user_id: of.userId,
      credentials_version: of.credentialsVersion,
      device_id: of.deviceId ?? null,
      expires_at: now + CHALLENGE_TTL_SECONDS * 1000,
      used_at: null,
    })
    .execute();
  return token;
}

/** A live challenge's row by its token (unspent, unexpired, attempts left); undefined for anything else. */
async function liveChallenge(db: Kysely<Database>, token: string, now: number) {
  const read = readChallengeToken(token);
  if (!read) return undefined;
  const row = await db.selectFrom('mfa_challenges').selectAll().where('id', '=', read.id).executeTakeFirst();
  if (!row || row.digest !== read.digest) return undefined;
  if (row.used_at !== null || Number(row.expires_at) <= now || row.attempts >= MAX_ATTEMPTS) return undefined;
  return row;
}

/** The live challenge of a token, with its account as the sign-in read it; MFA_CHALLENGE_INVALID for any other. */
export async function openChallenge(db: Kysely<Database>, token: string, now: number) {
  const row = await liveChallenge(db, token, now);
  if (!row) throw refuse('challengeInvalid');
  return {
    id: row.id,
    userId: row.user_id,
    credentialsVersion: Number(row.credentials_version),
    deviceId: row.device_id ?? undefined,
  };
}

/** Who a challenge token's wrong codes count against (the rate limits): its account and device; undefined if none. */
export async function challengeAccount(
  db: Kysely<Database>,
  token: string,
  now: number,
): Promise<{ userId: number; deviceId: string | undefined } | undefined> {
  const row = await liveChallenge(db, token, now);
  return row && { userId: row.user_id, deviceId: row.device_id ?? undefined };
}

/** Spends a challenge for the sign-in it finishes (once: see single-use.ts); whether it was still live. */
export const spendChallenge = (db: Kysely<Database>, id: string, now: number) =>
  spendOnce(db, 'mfa_challenges', id, now);

/**
 * One attempt at a challenge's code, taken before the code is checked, so that guesses sent in parallel cannot
 * pass MAX_ATTEMPTS: false when none is left (or the challenge is spent or expired).
 */
export async function takeAttempt(db: Kysely<Database>, id: string, now: number): Promise<boolean> {
  const taken = await db
    .updateTable('mfa_challenges')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id', '=', id)
    .where('attempts', '<', MAX_ATTEMPTS)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return taken.numUpdatedRows === 1n;
}

/** Voids every open challenge of an account (its factors were removed): they cannot be finished any more. */
export async function voidChallenges(db: Kysely<Database>, userId: number): Promise<void> {
  await db.deleteFrom('mfa_challenges').where('user_id', '=', userId).execute();
}
