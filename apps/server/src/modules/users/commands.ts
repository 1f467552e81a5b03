import { ADMIN } from '@api-users/contract';
import { type Database, insertUserRow, inTransaction, isUniqueViolation } from '@api-users/db';
import type { Kysely } from 'kysely';
import type { PasswordHasher } from '../../core/context.js';
import { type Origin, record } from '../audit/audit.js';
import { newUserRow } from './create.js';
import { assertAcceptablePassword } from './password-policy.js';
import { credentialsChanged } from './users.js';

/** How the audit log names changes made by the command line: no client address, no actor. */
const CLI_ORIGIN: Origin = { userAgent: 'api-users admin CLI' };

export class CommandError extends Error {}

/** Creates an admin account directly in the database (the way out when no admin can sign in). */
export async function createAdmin(
  db: Kysely<Database>,
  passwords: PasswordHasher,
  user: { login: string; user_name: string; password: string },
  now: number,
): Promise<number> {
  assertAcceptablePassword(user.password, 'password', { login: user.login });
  const row = await newUserRow(passwords, { ...user, user_role: ADMIN }, now);
  try {
    return await inTransaction(db, async (trx) => {
      const id = await insertUserRow(trx, row);
      await record(trx, now, CLI_ORIGIN, { type: 'register', targetId: id });
      return id;
    });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    throw new CommandError(`The login ${user.login} is taken; \`admin promote --login ${user.login}\` makes it admin`);
  }
}

/** Makes an existing account an enabled admin; returns its id. */
export async function promoteAdmin(db: Kysely<Database>, login: string, now: number): Promise<number> {
  return inTransaction(db, async (trx) => {
    const user = await trx
      .selectFrom('users')
      .select(['id_user', 'user_role', 'disabled'])
      .where('login', '=', login)
      .executeTakeFirst();
    if (!user) throw new CommandError(`No account has the login ${login}`);
    await trx
      .updateTable('users')
      .set((eb) => ({ user_role: ADMIN, disabled: 0, credentials_version: credentialsChanged(eb) }))
      .where('id_user', '=', user.id_user)
      .execute();
    if (user.user_role !== ADMIN) {
      await record(trx, now, CLI_ORIGIN, { type: 'role_changed', targetId: user.id_user, detail: 'admin' });
    }
    if (Number(user.disabled) === 1) await record(trx, now, CLI_ORIGIN, { type: 'enabled', targetId: user.id_user });
    return user.id_user;
  });
}
