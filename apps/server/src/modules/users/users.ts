import { ADMIN, type OutputOf, type ParsedInputOf, USER, type User, type UserRole } from '@api-users/contract';
import { type Database, prepared } from '@api-users/db';
import type { Kysely, Selectable } from 'kysely';
import type { Deps } from '../../deps.js';
import { AppError } from '../../errors.js';
import type { Caller } from '../auth/guard.js';
import { pageOf } from '../paging.js';

/** The columns that make up the public view; the hash is never selected with them. */
export const publicColumns = ['id_user', 'user_name', 'login', 'user_role', 'created_at', 'disabled'] as const;
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
    disabled: Number(row.disabled) === 1,
  };
}

/** The answer for an account id that names no account, wherever one is looked up. */
export const userNotFound = (id: number) => new AppError('NOT_FOUND', `No user with id ${id}`);

/** USERS_READABLE_BY=admins: only admins read other accounts. */
function assertMayRead(deps: Deps, caller: Caller, id?: number): void {
  if (deps.config.usersReadableBy === 'admins' && caller.role !== ADMIN && id !== caller.userId) {
    throw new AppError('FORBIDDEN', 'Only admins may read other accounts');
  }
}

type ListValues = {
  take: number;
  after: number | undefined;
  role: number | undefined;
  disabled: number | undefined;
  q: string | undefined;
};

/**
 * Keyset pagination on the primary key: every page costs the same, however deep. `role` and `disabled`
 * each have an index that orders by id within a value; `q` has none (no B-tree index serves "contains"): it
 * scans in id order until a page is full (bench/README.md measures it).
 */
const usersPage = prepared((db: Kysely<Database>, v: ListValues) => {
  let query = db.selectFrom('users').select(publicColumns).orderBy('id_user').limit(v.take);
  if (v.after !== undefined) query = query.where('id_user', '>', v.after);
  if (v.role !== undefined) query = query.where('user_role', '=', v.role);
  if (v.disabled !== undefined) query = query.where('disabled', '=', v.disabled);
  const q = v.q;
  if (q !== undefined) {
    // instr, not LIKE: nothing in q is a wildcard, and both databases have it. Both sides are folded (logins
    // are stored folded; names have a folded copy), so the comparison is exact on MySQL and SQLite alike.
    query = query.where((eb) =>
      eb.or([
        eb(eb.fn('instr', ['login', eb.val(q)]), '>', 0),
        eb(eb.fn('instr', ['user_name_search', eb.val(q)]), '>', 0),
      ]),
    );
  }
  return query;
});

export async function listUsers(
  deps: Deps,
  input: ParsedInputOf<'listUsers'>,
  caller: Caller,
): Promise<OutputOf<'listUsers'>> {
  assertMayRead(deps, caller);
  const rows = await usersPage(deps.db, {
    take: input.limit + 1,
    after: input.cursor ? Number(input.cursor) : undefined,
    role: input.role,
    disabled: input.disabled === undefined ? undefined : Number(input.disabled),
    q: input.q,
  });
  return pageOf(rows, input.limit, toUser, (row) => String(row.id_user));
}

const userRow = prepared((db: Kysely<Database>, v: { id: number }) =>
  db.selectFrom('users').select(publicColumns).where('id_user', '=', v.id),
);

async function publicUser(deps: Deps, id: number): Promise<User | undefined> {
  const [row] = await userRow(deps.db, { id });
  return row && toUser(row);
}

export async function userById(deps: Deps, input: ParsedInputOf<'userById'>, caller: Caller): Promise<User> {
  assertMayRead(deps, caller, input.id);
  const user = await publicUser(deps, input.id);
  if (!user) throw userNotFound(input.id);
  return user;
}

/** The caller's own account. The guard has just seen it exist; one deleted since is a revoked token. */
export async function me(deps: Deps, caller: Caller): Promise<User> {
  const user = await publicUser(deps, caller.userId);
  if (!user) throw new AppError('TOKEN_REVOKED', 'The token has been revoked');
  return user;
}

/** Whether there is no account yet (the dashboard's first-run form). */
export async function setup(deps: Deps): Promise<OutputOf<'setup'>> {
  const anyone = await deps.db.selectFrom('users').select('id_user').limit(1).executeTakeFirst();
  return { first_run: anyone === undefined };
}
