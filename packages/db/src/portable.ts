/** The few statements that differ between MySQL, PostgreSQL and SQLite, each written once for all three. */
import { type Insertable, type Kysely, MysqlAdapter, PostgresAdapter, sql } from 'kysely';
import type { Database } from './schema.js';

// biome-ignore lint/suspicious/noExplicitAny: asked of a database of any schema type (migrations included)
type AnyDb = Kysely<any>;

export const isPostgres = (db: AnyDb): boolean => db.getExecutor().adapter instanceof PostgresAdapter;
export const isMysql = (db: AnyDb): boolean => db.getExecutor().adapter instanceof MysqlAdapter;

/**
 * Inserts one account and returns its id (a login taken meanwhile fails as a unique violation): MySQL reports
 * the id as the insert id, PostgreSQL only through RETURNING (which SQLite has too).
 */
export async function insertUserRow(db: Kysely<Database>, row: Insertable<Database['users']>): Promise<number> {
  if (isMysql(db)) return Number((await db.insertInto('users').values(row).executeTakeFirstOrThrow()).insertId);
  return (await db.insertInto('users').values(row).returning('id_user').executeTakeFirstOrThrow()).id_user;
}

/**
 * After rows were inserted with ids of their own (the Flask import keeps its ids): PostgreSQL's identity
 * sequence does not move past them as MySQL's and SQLite's counters do, so the next new account would be given
 * a taken id. Moves it to the highest id there is.
 */
export async function afterExplicitUserIds(db: Kysely<Database>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`select setval(pg_get_serial_sequence('users', 'id_user'), (select max(id_user) from users))`.execute(db);
}

/**
 * A text column compared in code-point order (prefix ranges, search.ts): MySQL's utf8mb4_bin and SQLite's BINARY
 * compare so already; PostgreSQL compares by the database's collation unless the comparison says "C" (the
 * migration 0012 indexes both searched columns so).
 */
export const inCodePointOrder = (db: AnyDb, column: 'login' | 'user_name_search') =>
  isPostgres(db) ? sql<string>`${sql.ref(column)} collate "C"` : sql<string>`${sql.ref(column)}`;
