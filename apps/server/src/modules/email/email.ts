import { inTransaction, isUniqueViolation } from '@api-users/db';
import type { Deps, Handler } from '../../core/context.js';
import { refuse } from '../../core/errors.js';
import { record } from '../audit/audit.js';
import { checkCode, checkPassword } from '../mfa/mfa.js';
import { endSessionsOf } from '../sessions/sessions.js';
import { assertAcceptablePassword } from '../users/password-policy.js';
import { credentialsChanged } from '../users/users.js';
import { issueEmailToken, liveEmailToken, pendingEmail, spendEmailToken, voidEmailTokens } from './email-tokens.js';

/** Refuses a flow that needs mail where none can go (production without SMTP), before it changes anything. */
export function assertCanMail(deps: Pick<Deps, 'mailer'>): void {
  if (!deps.mailer.available) throw refuse('mailUnavailable');
}

export const getEmail: Handler<'getEmail'> = async (ctx) => {
  const { userId } = ctx.caller;
  const user = await ctx.db.selectFrom('users').select('email').where('id_user', '=', userId).executeTakeFirst();
  return { email: user?.email ?? null, pending: await pendingEmail(ctx.db, userId, ctx.clock()) };
};

/**
 * The password (and a code) first: an address that can reset the password is as good as the password, so a
 * stolen access token must not set one. The new address gets the confirmation link, the current one a notice.
 */
export const changeEmail: Handler<'changeEmail'> = async (ctx, input) => {
  assertCanMail(ctx);
  const { userId } = ctx.caller;
  const now = await checkPassword(ctx, input.password);
  await checkCode(ctx, input.code, now);
  const { link, current } = await inTransaction(ctx.db, async (trx) => {
    const user = await trx.selectFrom('users').select('email').where('id_user', '=', userId).executeTakeFirstOrThrow();
    const issued = await issueEmailToken(trx, 'verify', userId, input.email, now);
    await record(trx, now, ctx.client, { type: 'email_change_requested', actorId: userId, targetId: userId });
    return { link: issued, current: user.email };
  });
  ctx.mailer.send({ kind: 'verify', to: input.email, ...link });
  if (current !== null && current !== input.email) ctx.mailer.send({ kind: 'email_change_notice', to: current });
  return { msg: 'A confirmation link was mailed to the new address; the change holds once it is followed' };
};

/**
 * The address becomes the account's in one transaction with the link spent; another account that confirmed it
 * first keeps it (409), and the link stays good for a second try. Reset links mailed to the old address stop.
 */
export const verifyEmail: Handler<'verifyEmail'> = async (ctx, input) => {
  const now = ctx.clock();
  const link = await liveEmailToken(ctx.db, 'verify', input.token, now);
  if (!link) throw refuse('linkInvalid');
  try {
    await inTransaction(ctx.db, async (trx) => {
      if (!(await spendEmailToken(trx, link.id, now))) throw refuse('linkInvalid');
      await trx.updateTable('users').set({ email: link.email }).where('id_user', '=', link.userId).execute();
      await voidEmailTokens(trx, 'reset', link.userId, now);
      await record(trx, now, ctx.client, { type: 'email_verified', actorId: link.userId, targetId: link.userId });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw refuse('emailTaken');
    throw err;
  }
  return { msg: 'Email address confirmed' };
};

const FORGOT_ANSWER = 'If that address is an account’s confirmed one, a link to set a new password is on its way';

/**
 * Answers at once and the same whatever the address: the lookup, the link and the mail all happen after the
 * answer, so neither its body nor its timing says whether the address is an account's. Only a confirmed
 * address of an enabled account gets a link.
 */
export const forgotPassword: Handler<'forgotPassword'> = async (ctx, input) => {
  assertCanMail(ctx);
  const now = ctx.clock();
  const { client } = ctx;
  ctx.later(async () => {
    const user = await ctx.db
      .selectFrom('users')
      .select(['id_user', 'disabled'])
      .where('email', '=', input.email)
      .executeTakeFirst();
    if (!user || user.disabled) return;
    const link = await inTransaction(ctx.db, async (trx) => {
      const issued = await issueEmailToken(trx, 'reset', user.id_user, input.email, now);
      await record(trx, now, client, { type: 'password_reset_requested', targetId: user.id_user });
      return issued;
    });
    ctx.mailer.send({ kind: 'reset', to: input.email, ...link });
  });
  return { msg: FORGOT_ANSWER };
};

/**
 * A new password from a mailed link: the rules apply, the link is spent with the change, every session ends
 * (so whoever held one is out), and the account's sign-in block goes (its owner proved the mailbox). A second
 * factor is still asked for at the next sign-in: the link replaces the password, not the factor.
 */
export const resetPassword: Handler<'resetPassword'> = async (ctx, input) => {
  const now = ctx.clock();
  const link = await liveEmailToken(ctx.db, 'reset', input.token, now);
  if (!link) throw refuse('linkInvalid');
  const user = await ctx.db.selectFrom('users').select(['login']).where('id_user', '=', link.userId).executeTakeFirst();
  if (!user) throw refuse('linkInvalid');
  assertAcceptablePassword(input.new_password, 'new_password', { login: user.login });
  const password_hash = await ctx.passwords.hash(input.new_password);
  await inTransaction(ctx.db, async (trx) => {
    if (!(await spendEmailToken(trx, link.id, now))) throw refuse('linkInvalid');
    await trx
      .updateTable('users')
      .set((eb) => ({ password_hash, credentials_version: credentialsChanged(eb) }))
      .where('id_user', '=', link.userId)
      .execute();
    await voidEmailTokens(trx, 'reset', link.userId, now);
    await endSessionsOf(trx, link.userId, now);
    await record(trx, now, ctx.client, { type: 'password_reset', actorId: link.userId, targetId: link.userId });
  });
  await ctx.signInLimits.lift(user.login);
  return { msg: 'Password set, and every session has ended: sign in with the new password' };
};
