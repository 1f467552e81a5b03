import type { SecondFactorSchema } from '@api-users/contract';
import type { Database } from '@api-users/db';
import type { Kysely } from 'kysely';
import type { z } from 'zod';
import type { Client, Deps } from '../../core/context.js';
import { refuse } from '../../core/errors.js';
import { record } from '../audit/audit.js';
import { spendRecoveryCode } from './recovery-codes.js';
import { totpStep } from './totp.js';

export type SecondFactor = z.infer<typeof SecondFactorSchema>;

/** The confirmed authenticator app of an account: what counts at sign-in. */
const confirmedTotp = (db: Kysely<Database>, userId: number) =>
  db
    .selectFrom('totp_factors')
    .select(['secret', 'last_step'])
    .where('user_id', '=', userId)
    .where('confirmed_at', 'is not', null)
    .executeTakeFirst();

export const hasTotp = async (db: Kysely<Database>, userId: number): Promise<boolean> =>
  (await confirmedTotp(db, userId)) !== undefined;

/** What a password sign-in of the account may be finished with: none when it has no second factor. */
export async function secondFactorsOf(db: Kysely<Database>, userId: number): Promise<SecondFactor[]> {
  const [totp, passkey] = await Promise.all([
    hasTotp(db, userId),
    db.selectFrom('passkeys').select('id').where('user_id', '=', userId).limit(1).executeTakeFirst(),
  ]);
  return [...(totp ? (['totp', 'recovery_code'] as const) : []), ...(passkey ? (['passkey'] as const) : [])];
}

/** An authenticator app or a passkey: a password alone does not sign the account in. */
export const hasSecondFactor = async (db: Kysely<Database>, userId: number): Promise<boolean> =>
  (await secondFactorsOf(db, userId)).length > 0;

/**
 * Spends `code` (as the contract normalised it) as a second factor of the account: six digits are a code of its
 * app, newer than the last one accepted (a conditional UPDATE, so a code is good once even when sent twice at
 * the same time); anything else one of its unused recovery codes. Which it was, or null for a wrong code.
 */
export async function spendSecondFactor(
  db: Kysely<Database>,
  userId: number,
  code: string,
  now: number,
): Promise<SecondFactor | null> {
  if (!/^\d{6}$/.test(code)) return (await spendRecoveryCode(db, userId, code, now)) ? 'recovery_code' : null;
  const factor = await confirmedTotp(db, userId);
  if (!factor) return null;
  const lastStep = factor.last_step === null ? null : Number(factor.last_step);
  const step = await totpStep(factor.secret, code, now, lastStep);
  if (step === null) return null;
  const taken = await db
    .updateTable('totp_factors')
    .set({ last_step: step })
    .where('user_id', '=', userId)
    .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', step)]))
    .executeTakeFirst();
  return taken.numUpdatedRows === 1n ? 'totp' : null;
}

/** A wrong code, wherever one is checked: an audit event and BAD_CODE (which the rate limits count). */
export async function refuseCode(deps: Deps, now: number, client: Client, userId: number): Promise<never> {
  await record(deps.db, now, client, { type: 'login_failed', targetId: userId, detail: 'bad_code' });
  throw refuse('badCode');
}
