import { ADMIN, type AuthMethod, type Operation } from '@api-users/contract';
import { type Database, inTransaction, isUniqueViolation } from '@api-users/db';
import type { Kysely } from 'kysely';
import type { Caller, Client, Deps, Handler } from '../../core/context.js';
import { refuse } from '../../core/errors.js';
import { record } from '../audit/audit.js';
import { endSessionsOf } from '../sessions/sessions.js';
import { refusePassword } from '../users/password-check.js';
import { assertUserExists } from '../users/users.js';
import { voidChallenges } from './challenges.js';
import { recoveryCodesLeft, replaceRecoveryCodes } from './recovery-codes.js';
import { hasSecondFactor, hasTotp, refuseCode, type SecondFactor, spendSecondFactor } from './second-factor.js';
import { newTotp, totpStep } from './totp.js';

type Signed = Deps & { caller: Caller; client: Client };

/** What a session signed in with a second factor says of itself (RFC 8176): a password, and a one-time code. */
export const WITH_CODE: AuthMethod[] = ['pwd', 'otp'];

/**
 * The code of a check that asks for the password again (a password change, a passkey added or removed): none
 * when the account has no authenticator app; else `code` is required, and spent. Null when it has no app.
 */
export async function checkCode(ctx: Signed, code: string | undefined, now: number): Promise<SecondFactor | null> {
  const userId = ctx.caller.userId;
  if (!(await hasTotp(ctx.db, userId))) return null;
  if (code === undefined) {
    throw refuse('invalidRequest', [
      {
        path: 'code',
        message: 'Required: this account has a second factor (an authenticator code or a recovery code)',
      },
    ]);
  }
  return (await spendSecondFactor(ctx.db, userId, code, now)) ?? refuseCode(ctx, now, ctx.client, userId);
}

/** The caller's password, checked as at sign-in (same cost, same refusal); the time it was checked at. */
export async function checkPassword(ctx: Signed, password: string): Promise<number> {
  const started = performance.now();
  const { userId } = ctx.caller;
  const user = await ctx.db
    .selectFrom('users')
    .select('password_hash')
    .where('id_user', '=', userId)
    .executeTakeFirst();
  const ok = await ctx.passwords.verify(user?.password_hash ?? null, password);
  const now = ctx.clock();
  if (!user || !ok) {
    const event = { actorId: userId, targetId: userId, detail: 'bad_password' } as const;
    return refusePassword(ctx, started, now, ctx.client, event, 'confirmation');
  }
  return now;
}

/** A change of the authenticator app: only with one on, and with the password and a code (spent) checked. */
async function reauthenticate(ctx: Signed, input: { password: string; code: string }): Promise<number> {
  if (!(await hasTotp(ctx.db, ctx.caller.userId))) throw refuse('mfaNotEnabled');
  const now = await checkPassword(ctx, input.password);
  await checkCode(ctx, input.code, now);
  return now;
}

/** An account's authenticator app and its recovery codes. */
async function removeTotp(db: Kysely<Database>, userId: number): Promise<void> {
  await db.deleteFrom('totp_factors').where('user_id', '=', userId).execute();
  await db.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
}

export const getMfa: Handler<'getMfa'> = async (ctx) => {
  const { userId } = ctx.caller;
  const totp = await hasTotp(ctx.db, userId);
  const passkeys = await ctx.db
    .selectFrom('passkeys')
    .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
    .where('user_id', '=', userId)
    .executeTakeFirstOrThrow();
  return {
    totp,
    recovery_codes_left: totp ? await recoveryCodesLeft(ctx.db, userId) : 0,
    passkeys: Number(passkeys.n),
  };
};

/**
 * A new secret waits for its first code; one started before and not confirmed is replaced. Two starts at once
 * both insert: the loser retries once, replacing the winner's (the app scanned last is the one confirmed).
 */
export const startTotp: Handler<'startTotp'> = async (ctx) => {
  const { userId } = ctx.caller;
  const user = await ctx.db.selectFrom('users').select('login').where('id_user', '=', userId).executeTakeFirst();
  if (!user) throw refuse('sessionEnded');
  const enrolment = newTotp(ctx.config.totpIssuer, user.login);
  const now = ctx.clock();
  const start = () =>
    inTransaction(ctx.db, async (trx) => {
      if (await hasTotp(trx, userId)) throw refuse('mfaAlreadyEnabled');
      await trx.deleteFrom('totp_factors').where('user_id', '=', userId).execute();
      await trx
        .insertInto('totp_factors')
        .values({ user_id: userId, secret: enrolment.secret, created_at: now, confirmed_at: null, last_step: null })
        .execute();
      await record(trx, now, ctx.client, { type: 'mfa_started', actorId: userId, targetId: userId });
    });
  await start().catch((err: unknown) => {
    if (isUniqueViolation(err)) return start();
    throw err;
  });
  return enrolment;
};

/** The first code of the app being enrolled turns it on (only the secret that code was read from). */
export const confirmTotp: Handler<'confirmTotp'> = async (ctx, input) => {
  const { userId } = ctx.caller;
  const pending = await ctx.db
    .selectFrom('totp_factors')
    .select(['secret', 'confirmed_at'])
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!pending) throw refuse('mfaNotStarted');
  if (pending.confirmed_at !== null) throw refuse('mfaAlreadyEnabled');
  const now = await checkPassword(ctx, input.password);
  const step = await totpStep(pending.secret, input.code, now, null);
  if (step === null) return refuseCode(ctx, now, ctx.client, userId);
  const recovery_codes = await inTransaction(ctx.db, async (trx) => {
    const confirmed = await trx
      .updateTable('totp_factors')
      .set({ confirmed_at: now, last_step: step })
      .where('user_id', '=', userId)
      .where('secret', '=', pending.secret)
      .where('confirmed_at', 'is', null)
      .executeTakeFirst();
    // Started again (another secret) or confirmed by a concurrent request since the read.
    if (confirmed.numUpdatedRows !== 1n) throw refuse('badCode');
    const codes = await replaceRecoveryCodes(trx, userId);
    await record(trx, now, ctx.client, { type: 'mfa_enabled', actorId: userId, targetId: userId });
    return codes;
  });
  return { recovery_codes };
};

export const disableMfa: Handler<'disableMfa'> = async (ctx, input) => {
  const { userId } = ctx.caller;
  const now = await reauthenticate(ctx, input);
  await inTransaction(ctx.db, async (trx) => {
    await removeTotp(trx, userId);
    await record(trx, now, ctx.client, { type: 'mfa_disabled', actorId: userId, targetId: userId });
  });
  return { msg: 'Authenticator app turned off' };
};

export const regenerateRecoveryCodes: Handler<'regenerateRecoveryCodes'> = async (ctx, input) => {
  const { userId } = ctx.caller;
  const now = await reauthenticate(ctx, input);
  const recovery_codes = await inTransaction(ctx.db, async (trx) => {
    const codes = await replaceRecoveryCodes(trx, userId);
    await record(trx, now, ctx.client, { type: 'recovery_codes_regenerated', actorId: userId, targetId: userId });
    return codes;
  });
  return { recovery_codes };
};

/**
 * For a user who lost the app, the codes and the passkeys: every factor goes, the sign-ins waiting for one, and
 * the sessions, in one transaction.
 */
export const removeUserMfa: Handler<'removeUserMfa'> = async (ctx, input) => {
  await assertUserExists(ctx.db, input.id);
  const now = ctx.clock();
  await inTransaction(ctx.db, async (trx) => {
    if (!(await hasSecondFactor(trx, input.id))) throw refuse('mfaNotEnabled');
    await removeTotp(trx, input.id);
    await trx.deleteFrom('passkeys').where('user_id', '=', input.id).execute();
    await voidChallenges(trx, input.id);
    await endSessionsOf(trx, input.id, now);
    await record(trx, now, ctx.client, { type: 'mfa_removed', actorId: ctx.caller.userId, targetId: input.id });
  });
  return { msg: 'Second factors removed; the account’s sessions have ended' };
};

/**
 * MFA_REQUIRED_FOR_ADMINS: an admin without a second factor may call only the operations that enrol one. A
 * session signed in with a code shows a factor by its `amr`; any other asks the database (one may have been
 * enrolled since).
 */
export async function assertMayAct(deps: Deps, caller: Caller | null, op: Operation): Promise<void> {
  if (!deps.config.mfaRequiredForAdmins || op.beforeMfa || caller?.role !== ADMIN) return;
  if (caller.claims.amr?.some((method) => method !== 'pwd')) return;
  if (!(await hasSecondFactor(deps.db, caller.userId))) throw refuse('mfaEnrolmentRequired');
}
