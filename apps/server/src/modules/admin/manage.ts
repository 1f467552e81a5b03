import { ADMIN, USER, type User } from '@api-users/contract';
import { type Database, inTransaction, nameForSearch } from '@api-users/db';
import type { Kysely } from 'kysely';
import { type Context, type Handler, publicColumns } from '../../core/context.js';
import { refuse, userNotFound } from '../../core/errors.js';
import { record } from '../audit/audit.js';
import { checkCode, checkPassword } from '../mfa/mfa.js';
import { endSessionsOf } from '../sessions/sessions.js';
import { assertAcceptablePassword } from '../users/password-policy.js';
import { credentialsChanged, toUser } from '../users/users.js';

/**
 * Takes the admins lock for the rest of the transaction: an UPDATE of its row, which the next transaction to
 * take it waits for. Every change that can remove an enabled admin (demote, disable, delete) takes it before
 * it reads anything, so "is there another enabled admin?" and the change it allows happen as one step:
 * of two concurrent demotions of the last two admins, the second sees the first done and is refused. On
 * MySQL the transaction's snapshot starts at its first read, after the lock; on SQLite the UPDATE takes the
 * database's write lock.
 */
async function lockAdmins(trx: Kysely<Database>): Promise<void> {
  await trx
    .updateTable('locks')
    .set((eb) => ({ version: eb('version', '+', 1) }))
    .where('name', '=', 'admins')
    .execute();
}

/** Refuses to take the last enabled admin's rights away; call with the admins lock held. */
async function assertNotLastAdmin(
  trx: Kysely<Database>,
  target: { id_user: number; user_role: number; disabled: number },
) {
  if (target.user_role !== ADMIN || Number(target.disabled) === 1) return;
  const other = await trx
    .selectFrom('users')
    .select('id_user')
    .where('user_role', '=', ADMIN)
    .where('disabled', '=', 0)
    .where('id_user', '!=', target.id_user)
    .limit(1)
    .executeTakeFirst();
  if (!other) throw refuse('lastAdmin');
}

/**
 * Renames, re-roles, disables or enables an account, with its audit events in the same transaction. Demoting
 * or disabling ends its sessions, so its tokens stop working on every instance at once.
 */
export const updateUser: Handler<'updateUser'> = async (ctx, input) => {
  const { caller, client } = ctx;
  const { id, ...change } = input;
  const now = ctx.clock();
  const demotes = change.user_role === USER;
  const disables = change.disabled === true;
  return inTransaction(ctx.db, async (trx) => {
    if (demotes || disables) await lockAdmins(trx);
    const before = await trx.selectFrom('users').select(publicColumns).where('id_user', '=', id).executeTakeFirst();
    if (!before) throw userNotFound(id);
    if (demotes || disables) await assertNotLastAdmin(trx, before);
    const was = toUser(before);
    const after: User = {
      ...was,
      user_name: change.user_name ?? was.user_name,
      user_role: change.user_role ?? was.user_role,
      disabled: change.disabled ?? was.disabled,
    };
    if (after.user_name !== was.user_name || after.user_role !== was.user_role || after.disabled !== was.disabled) {
      const credentials = after.user_role !== was.user_role || after.disabled !== was.disabled;
      await trx
        .updateTable('users')
        .set((eb) => ({
          user_name: after.user_name,
          user_name_search: nameForSearch(after.user_name),
          user_role: after.user_role,
          disabled: after.disabled ? 1 : 0,
          ...(credentials ? { credentials_version: credentialsChanged(eb) } : {}),
        }))
        .where('id_user', '=', id)
        .execute();
    }
    const event = { actorId: caller.userId, targetId: id };
    if (after.user_name !== was.user_name) await record(trx, now, client, { type: 'renamed', ...event });
    if (after.user_role !== was.user_role) {
      await record(trx, now, client, {
        type: 'role_changed',
        ...event,
        detail: after.user_role === ADMIN ? 'admin' : 'user',
      });
    }
    if (after.disabled !== was.disabled) {
      await record(trx, now, client, { type: after.disabled ? 'disabled' : 'enabled', ...event });
    }
    if ((demotes && was.user_role === ADMIN) || (disables && !was.disabled)) await endSessionsOf(trx, id, now);
    return after;
  });
};

/** Removes the account; its sessions go with it (foreign key), its audit events stay. */
export const deleteUser: Handler<'deleteUser'> = async (ctx, input) => {
  await removeAccount(ctx, input.id);
  return { msg: `User ${input.id} deleted` };
};

/**
 * The owner removes their own account, once their password (and a code, with an app on) is checked. Here, not
 * in users, because the last-admin rule and its lock live here.
 */
export const deleteMe: Handler<'deleteMe'> = async (ctx, input) => {
  const now = await checkPassword(ctx, input.password);
  await checkCode(ctx, input.code, now);
  await removeAccount(ctx, ctx.caller.userId);
  return { msg: 'Your account has been deleted' };
};

/** Deletes an account (cascading to what it owns) and records it, unless it is the last enabled admin. */
async function removeAccount(ctx: Context<'deleteUser' | 'deleteMe'>, id: number): Promise<void> {
  const now = ctx.clock();
  await inTransaction(ctx.db, async (trx) => {
    await lockAdmins(trx);
    const target = await trx
      .selectFrom('users')
      .select(['id_user', 'user_role', 'disabled'])
      .where('id_user', '=', id)
      .executeTakeFirst();
    if (!target) throw userNotFound(id);
    await assertNotLastAdmin(trx, target);
    await trx.deleteFrom('users').where('id_user', '=', id).execute();
    await record(trx, now, ctx.client, { type: 'deleted', actorId: ctx.caller.userId, targetId: id });
  });
}

/** An admin sets a password (the password rules apply); every session of the account ends. */
export const setUserPassword: Handler<'setUserPassword'> = async (ctx, input) => {
  const { caller, client } = ctx;
  const target = await ctx.db.selectFrom('users').select('login').where('id_user', '=', input.id).executeTakeFirst();
  if (!target) throw userNotFound(input.id);
  assertAcceptablePassword(input.new_password, 'new_password', target);
  const password_hash = await ctx.passwords.hash(input.new_password);
  const now = ctx.clock();
  await inTransaction(ctx.db, async (trx) => {
    const updated = await trx
      .updateTable('users')
      .set((eb) => ({ password_hash, credentials_version: credentialsChanged(eb) }))
      .where('id_user', '=', input.id)
      .executeTakeFirst();
    if (updated.numUpdatedRows !== 1n) throw userNotFound(input.id);
    await endSessionsOf(trx, input.id, now);
    await record(trx, now, client, { type: 'password_set', actorId: caller.userId, targetId: input.id });
  });
  // A new password makes the guesses that brought about a block moot: the block goes.
  await ctx.signInLimits.lift(target.login);
  return { msg: 'Password set; the account’s sessions have ended' };
};
