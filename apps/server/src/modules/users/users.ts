import { ADMIN, type OutputOf, type ParsedInputOf, USER, type User, type UserRole } from '@api-users/contract';
import type { Database } from '@api-users/db';
import type { Selectable } from 'kysely';
import type { Deps } from '../../deps.js';
import { AppError } from '../../errors.js';

/** The columns that make up the public view; the hash is never selected with them. */
const publicColumns = ['id_user', 'user_name', 'login', 'user_role', 'created_at'] as const;
type PublicRow = Pick<Selectable<Database['users']>, (typeof publicColumns)[number]>;

/** A `user_role` column value as the contract's role. */
export const roleOf = (column: number): UserRole => (column === ADMIN ? ADMIN : USER);

export function toUser(row: PublicRow): User {
  return {
    id_user: Number(row.id_user),
    user_name: row.user_name,
    login: row.login,
    user_role: roleOf(row.user_role),
    created_at: new Date(Number(row.created_at)).toISOString(),
  };
}

/** Keyset pagination on the primary key: every page costs the same, however deep. */
export async function listUsers(deps: Deps, input: ParsedInputOf<'listUsers'>): Promise<OutputOf<'listUsers'>> {
  let query = deps.db
    .selectFrom('users')
    .select(publicColumns)
    .orderBy('id_user')
    .limit(input.limit + 1);
  if (input.cursor) query = query.where('id_user', '>', Number(input.cursor));
  const rows = await query.execute();
  const page = rows.slice(0, input.limit);
  const last = page.at(-1);
  return {
    items: page.map(toUser),
    next_cursor: rows.length > input.limit && last ? String(last.id_user) : null,
  };
}

export async function userById(deps: Deps, input: ParsedInputOf<'userById'>): Promise<User> {
  const row = await deps.db
    .selectFrom('users')
    .select(publicColumns)
    .where('id_user', '=', input.id)
    .executeTakeFirst();
  if (!row) throw new AppError('NOT_FOUND', `No user with id ${input.id}`);
  return toUser(row);
}
