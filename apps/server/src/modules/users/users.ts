import { ADMIN, USER, type User, type UserRole } from '@api-users/contract';
import { type Database, inCodePointOrder, prefixRange, prepared } from '@api-users/db';
import type { ExpressionBuilder, Kysely } from 'kysely';
import {
  type AccountReads,
  type Caller,
  type Deps,
  type Handler,
  type PublicRow,
  publicColumns,
} from '../../core/context.js';
import { refuse, userNotFound } from '../../core/errors.js';
import { pageOf } from '../paging.js';

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
};

/**
 * Keyset pagination on the primary key: every page costs the same, however deep. `role` and `disabled` each
 * have an index that orders by id within a value.
 */
const usersPage = prepared((db: Kysely<Database>, v: ListValues) => {
  let query = db.selectFrom('users').select(publicColumns).orderBy('id_user').limit(v.take);
  if (v.after !== undefined) query = query.where('id_user', '>', v.after);
  if (v.role !== undefined) query = query.where('user_role', '=', v.role);
  if (v.disabled !== undefined) query = query.where('disabled', '=', v.disabled);
  return query;
});

/** A search: the accounts whose login or folded name lies in the range of texts starting with `q`. */
type SearchValues = Omit<ListValues, 'after'> & { after: number } & ReturnType<typeof prefixRange>;

/** Accounts after the cursor, in id order, among which a search looks first. */
const SEARCH_WINDOW = 1000;

function startsWith(db: Kysely<Database>, column: 'login' | 'user_name_search', v: SearchValues) {
  const text = inCodePointOrder(db, column);
  return (eb: ExpressionBuilder<Database, 'users'>) =>
    v.to === undefined ? eb(text, '>=', v.from) : eb.and([eb(text, '>=', v.from), eb(text, '<', v.to)]);
}

/** The first page of matches among the next SEARCH_WINDOW accounts: a search that matches many fills it here. */
const searchNear = prepared((db: Kysely<Database>, v: SearchValues) => {
  let query = db
    .selectFrom((from) =>
      from
        .selectFrom('users')
        .select([...publicColumns, 'user_name_search'])
        .where('id_user', '>', v.after)
        .orderBy('id_user')
        .limit(SEARCH_WINDOW)
        .as('users'),
    )
    .select(publicColumns)
    .where((eb) => eb.or([startsWith(db, 'login', v)(eb), startsWith(db, 'user_name_search', v)(eb)]))
    .orderBy('id_user')
    .limit(v.take);
  if (v.role !== undefined) query = query.where('user_role', '=', v.role);
  if (v.disabled !== undefined) query = query.where('disabled', '=', v.disabled);
  return query;
});

/**
 * The matches after the cursor, found through the two prefix indexes (migration 0012), the first `2 × take` of
 * them in id order: read are only the matches, which searchNear found too few of to fill a page. UNION ALL, not
 * UNION: an account whose login and name both match comes twice (hence 2 × take), and dropping the second copy
 * here is cheaper than the database removing duplicates from every match before it sorts.
 */
const searchAll = prepared((db: Kysely<Database>, v: SearchValues & { take2: number }) => {
  const matchesOf = (column: 'login' | 'user_name_search') => {
    let query = db
      .selectFrom('users')
      .select('id_user')
      .where('id_user', '>', v.after)
      .where(startsWith(db, column, v));
    if (v.role !== undefined) query = query.where('user_role', '=', v.role);
    if (v.disabled !== undefined) query = query.where('disabled', '=', v.disabled);
    return query;
  };
  return db
    .selectFrom('users')
    .innerJoin(
      (join) =>
        join
          .selectFrom(matchesOf('login').unionAll(matchesOf('user_name_search')).as('matches'))
          .select('matches.id_user')
          .orderBy('matches.id_user')
          .limit(v.take2)
          .as('page'),
      (on) => on.onRef('page.id_user', '=', 'users.id_user'),
    )
    .select(publicColumns.map((column) => `users.${column}` as const))
    .orderBy('users.id_user');
});

/**
 * `q` is a prefix of the login or of the folded name. Two statements at most, each bounded whatever the data:
 * the next SEARCH_WINDOW accounts first (a prefix most accounts share fills its page there), else the matches
 * through their indexes (a rare prefix has few). Neither depends on a planner guessing how many accounts match,
 * which each database got wrong for a prefix whose accounts are clustered by id (bench/README.md).
 */
async function searchPage(db: Kysely<Database>, v: SearchValues) {
  const near = await searchNear(db, v);
  if (near.length === v.take) return near;
  const rows = await searchAll(db, { ...v, take2: 2 * v.take });
  return rows.filter((row, i) => row.id_user !== rows[i - 1]?.id_user).slice(0, v.take);
}

export const listUsers: Handler<'listUsers'> = async (ctx, input) => {
  assertMayRead(ctx);
  const values = {
    take: input.limit + 1,
    after: input.cursor ? Number(input.cursor) : undefined,
    role: input.role,
    disabled: input.disabled === undefined ? undefined : Number(input.disabled),
  };
  const rows =
    input.q === undefined
      ? await usersPage(ctx.db, values)
      : await searchPage(ctx.db, { ...values, after: values.after ?? 0, ...prefixRange(input.q) });
  return pageOf(rows, input.limit, toUser, (row) => String(row.id_user));
};

const userRow = prepared((db: Kysely<Database>, v: { id: number }) =>
  db.selectFrom('users').select(publicColumns).where('id_user', '=', v.id),
);

/** Account `id`: as the guard's statement read it along (accountReads), else read now. */
async function publicUser(ctx: Deps & { caller: Caller }, id: number): Promise<User | undefined> {
  const along = ctx.caller.readAlong;
  const row = along === undefined ? (await userRow(ctx.db, { id }))[0] : along;
  return row ? toUser(row) : undefined;
}

export const userById: Handler<'userById'> = async (ctx, input) => {
  assertMayRead(ctx, input.id);
  const user = await publicUser(ctx, input.id);
  if (!user) throw userNotFound(input.id);
  return user;
};

/** The caller's own account. The guard has just seen it exist; one deleted since is a revoked token. */
export const getMe: Handler<'getMe'> = async (ctx) => {
  const user = await publicUser(ctx, ctx.caller.userId);
  if (!user) throw refuse('tokenRevoked');
  return user;
};

/**
 * The account each of these operations reads, known from its input before the guard runs: the guard reads it in
 * its own statement (execute.ts), so the operation makes one round trip to the database, not two.
 */
export const accountReads: AccountReads = {
  userById: (input) => input.id,
  getMe: (_input, claims) => Number(claims.sub),
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
