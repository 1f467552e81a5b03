import type { UserRole } from '@api-users/contract';
import { type Database, nameForSearch } from '@api-users/db';
import type { Insertable } from 'kysely';
import type { PasswordHasher } from '../../core/context.js';

export type NewUserRow = Insertable<Database['users']> & { created_at: number };

/** The row of a new account: its password hashed, its name's search copy made. */
export async function newUserRow(
  passwords: PasswordHasher,
  user: { user_name: string; login: string; password: string; user_role: UserRole },
  now: number,
): Promise<NewUserRow> {
  return {
    user_name: user.user_name,
    user_name_search: nameForSearch(user.user_name),
    login: user.login,
    password_hash: await passwords.hash(user.password),
    user_role: user.user_role,
    created_at: now,
  };
}
