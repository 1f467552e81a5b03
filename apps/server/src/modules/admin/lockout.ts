import type { Handler } from '../../core/context.js';
import { userNotFound } from '../../core/errors.js';
import { record } from '../audit/audit.js';

/** The login of an account, which the sign-in limits count under; NOT_FOUND when there is no such account. */
async function loginOf(ctx: Parameters<Handler<'getUserLockout'>>[0], id: number): Promise<string> {
  const user = await ctx.db.selectFrom('users').select('login').where('id_user', '=', id).executeTakeFirst();
  if (!user) throw userNotFound(id);
  return user.login;
}

export const getUserLockout: Handler<'getUserLockout'> = async (ctx, input) => {
  const retryAfter = await ctx.signInLimits.blockedFor(await loginOf(ctx, input.id));
  return { locked: retryAfter !== null, retry_after: retryAfter };
};

/** Clears the account's count of wrong passwords from everywhere; the admin's act is recorded either way. */
export const liftUserLockout: Handler<'liftUserLockout'> = async (ctx, input) => {
  const lifted = await ctx.signInLimits.lift(await loginOf(ctx, input.id));
  const event = { type: 'lockout_lifted', actorId: ctx.caller.userId, targetId: input.id } as const;
  await record(ctx.db, ctx.clock(), ctx.client, { ...event, detail: lifted ? null : 'not_locked' });
  return { lifted };
};
