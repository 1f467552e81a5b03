import { ADMIN, USER, type User, type UserRole } from '@api-users/contract';
import { type Database, prepared, substringPosition } from '@api-users/db';
import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { Caller, Deps, Handler } from '../../core/context.js';
import { refuse, userNotFound } from '../../core/errors.js';
import { pageOf } from '../paging.js';

/** The columns that make up the public view; the hash is never selected with them. */
/** The columns that make up the public view; the email is read only to say whether there is a confirmed one. */
export const publicColumns = ['id_user', 'user_name', 'login', 'user_role', 'created_at', 'disabled', 'email'] as const;
type PublicRow = Pick<Selectable<Database['users']>, (typeof publicColumns)[number]>;

/**
 * The new `credentials_version` of an account whose password, role or disabled flag changes: a sign-in that
 * read the old one opens no session (sessions.ts, startSession).
 */
export const credentialsChanged = (eb: ExpressionBuilder<Database, 'users'>) => eb('credentials_version', '+', 1);

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
    email_verified: row.email !== null,
  };
}

/** USERS_READABLE_BY=admins: only admins read other accounts. */
function assertMayRead(ctx: Deps & { caller: Caller }, id?: number): void {
  if (ctx.config.usersReadableBy === 'admins' && ctx.caller.role !== ADMIN && id !== ctx.caller.userId) {
    throw refuse('othersReadOnlyByAdmins');
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
    // A substring position, not LIKE: nothing in q is a wildcard. Both sides are folded (logins are stored
    // folded; names have a folded copy), so the comparison is exact on every database.
    const position = substringPosition(db);
    query = query.where((eb) =>
      eb.or([
        eb(eb.fn(position, ['login', eb.val(q)]), '>', 0),
        eb(eb.fn(position, ['user_name_search', eb.val(q)]), '>', 0),
      ]),
    );
  }
  return query;
});

export const listUsers: Handler<'listUsers'> = async (ctx, input) => {
  assertMayRead(ctx);
  const rows = await usersPage(ctx.db, {
    take: input.limit + 1,
    after: input.cursor ? Number(input.cursor) : undefined,
    role: input.role,
    disabled: input.disabled === undefined ? undefined : Number(input.disabled),
    q: input.q,
  });
  return pageOf(rows, input.limit, toUser, (row) => String(row.id_user));
};

const userRow = prepared((db: Kysely<Database>, v: { id: number }) =>
  db.selectFrom('users').select(publicColumns).where('id_user', '=', v.id),
);

async function publicUser(db: Kysely<Database>, id: number): Promise<User | undefined> {
  const [row] = await userRow(db, { id });
  return row && toUser(row);
}

export const userById: Handler<'userById'> = async (ctx, input) => {
  assertMayRead(ctx, input.id);
  const user = await publicUser(ctx.db, input.id);
  if (!user) throw userNotFound(input.id);
  return user;
};

/** The caller's own account. The guard has just seen it exist; one deleted since is a revoked token. */
export const getMe: Handler<'getMe'> = async (ctx) => {
  const user = await publicUser(ctx.db, ctx.caller.userId);
  if (!user) throw refuse('tokenRevoked');
  return user;
};

/** Whether there is no account yet (the dashboard's first-run form). */
export const setup: Handler<'setup'> = async (ctx) => {
  const anyone = await ctx.db.selectFrom('users').select('id_user').limit(1).executeTakeFirst();
  return { first_run: anyone === undefined };
};

/** Throws NOT_FOUND unless there is an account with this id. */
export async function assertUserExists(db: Kysely<Database>, id: number): Promise<void> {
  const user = await db.selectFrom('users').select('id_user').where('id_user', '=', id).executeTakeFirst();
  if (!user) throw userNotFound(id);
}
