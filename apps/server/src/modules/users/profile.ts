import { inTransaction, nameForSearch } from '@api-users/db';
import { type Handler, publicColumns } from '../../core/context.js';
import { refuse } from '../../core/errors.js';
import { record } from '../audit/audit.js';
import { toUser } from './users.js';

/** The caller renames their own account; an actual change is recorded with it. */
export const updateMe: Handler<'updateMe'> = async (ctx, input) => {
  const { userId } = ctx.caller;
  const now = ctx.clock();
  return inTransaction(ctx.db, async (trx) => {
    const before = await trx.selectFrom('users').select(publicColumns).where('id_user', '=', userId).executeTakeFirst();
    // The guard has just seen the account; one deleted since is a revoked token.
    if (!before) throw refuse('tokenRevoked');
    if (before.user_name !== input.user_name) {
      await trx
        .updateTable('users')
        .set({ user_name: input.user_name, user_name_search: nameForSearch(input.user_name) })
        .where('id_user', '=', userId)
        .execute();
      await record(trx, now, ctx.client, { type: 'renamed', actorId: userId, targetId: userId });
    }
    return toUser({ ...before, user_name: input.user_name });
  });
};
