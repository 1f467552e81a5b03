import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Dialect } from '@api-users/db';
import { sql } from 'kysely';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';
// The type of `inject('mysqlServerUrl')`, for suites of other packages that use these helpers.
import type {} from './global-setup.js';

export interface TestDatabase {
  dialect: Dialect;
  url: string;
  drop(): Promise<void>;
}

/** A fresh, empty database of its own for one test file, so files run in parallel without sharing rows. */
export async function createTestDatabase(dialect: Dialect): Promise<TestDatabase> {
  const name = `apiu_${process.pid}_${randomBytes(4).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'api-users-'));
    return {
      dialect,
      url: `sqlite:${join(dir, `${name}.sqlite`)}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  }
  if (dialect === 'postgres') return createPostgresDatabase(name);
  const server = inject('mysqlServerUrl');
  if (!server) throw new Error('MySQL is not available');
  const admin = await createConnection({ uri: server });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  await admin.end();
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    dialect,
    url: url.toString(),
    async drop() {
      const conn = await createConnection({ uri: server });
      await conn.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await conn.end();
    },
  };
}

/** Runs statements on the PostgreSQL server the tests were given, over a connection of their own. */
async function onPostgresServer(...statements: string[]): Promise<void> {
  const server = inject('postgresServerUrl');
  if (!server) throw new Error('PostgreSQL is not available');
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

async function createPostgresDatabase(name: string): Promise<TestDatabase> {
  // UTF-8 whatever the server's default; collation "C" is not asked for: the app must not depend on one.
  await onPostgresServer(`CREATE DATABASE "${name}" ENCODING 'UTF8' TEMPLATE template0`);
  const url = new URL(inject('postgresServerUrl') as string);
  url.pathname = `/${name}`;
  return {
    dialect: 'postgres',
    url: url.toString(),
    // WITH (FORCE): a server still draining its pool does not keep the database from going.
    drop: () => onPostgresServer(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

/** A database of its own for the suite, made before its tests and dropped after them (filled in by then). */
export function useTestDatabase(dialect: Dialect): TestDatabase {
  const database = {} as TestDatabase;
  beforeAll(async () => {
    Object.assign(database, await createTestDatabase(dialect));
  });
  afterAll(() => database.drop());
  return database;
}

/** Whether the tests can make databases of this kind here (global setup says why when not). */
const hasDatabase = (dialect: Dialect): boolean =>
  dialect === 'sqlite' ||
  (dialect === 'mysql' ? inject('mysqlServerUrl') !== null : inject('postgresServerUrl') !== null);

/** Runs a suite once per database: SQLite always, MySQL and PostgreSQL when reachable. */
export function describeEachDatabase(title: string, suite: (dialect: Dialect) => void): void {
  for (const dialect of ['sqlite', 'mysql', 'postgres'] as const) {
    describe.skipIf(!hasDatabase(dialect))(`${title} [${dialect}]`, () => suite(dialect));
  }
}

/**
 * A trigger that makes every `event` on `table` (`BEFORE INSERT`, `BEFORE UPDATE`) fail with `message`, in the
 * dialect's own words; returns its removal.
 */
export async function failingTrigger(
  db: Db,
  dialect: Dialect,
  event: 'BEFORE INSERT' | 'BEFORE UPDATE',
  table: string,
  message: string,
): Promise<() => Promise<void>> {
  const name = `fail_${randomBytes(4).toString('hex')}`;
  const on = sql.raw(`${event} ON ${table}`);
  const id = sql.raw(name);
  if (dialect === 'postgres') {
    await sql`CREATE FUNCTION ${id}() RETURNS trigger LANGUAGE plpgsql AS ${sql.raw(`$$ BEGIN RAISE EXCEPTION '${message}'; END $$`)}`.execute(
      db,
    );
    await sql`CREATE TRIGGER ${id} ${on} FOR EACH ROW EXECUTE FUNCTION ${id}()`.execute(db);
    return async () => {
      await sql`DROP TRIGGER ${id} ON ${sql.raw(table)}`.execute(db);
      await sql`DROP FUNCTION ${id}`.execute(db);
    };
  }
  await (dialect === 'mysql'
    ? sql`CREATE TRIGGER ${id} ${on} FOR EACH ROW SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = ${sql.lit(message)}`
    : sql`CREATE TRIGGER ${id} ${on} BEGIN SELECT RAISE(ABORT, ${sql.lit(message)}); END`
  ).execute(db);
  return async () => {
    await sql`DROP TRIGGER ${id}`.execute(db);
  };
}

const TABLES = [
  'users',
  'sessions',
  'revoked_tokens',
  'admin_bootstrap',
  'flask_import',
  'audit_events',
  'totp_factors',
  'recovery_codes',
  'mfa_challenges',
] as const;
type Db = ReturnType<typeof connect>['db'];

/** Row counts of every table, to show a rejected request wrote nothing. */
async function countRows(db: Db): Promise<Record<(typeof TABLES)[number], number>> {
  const counts = await Promise.all(
    TABLES.map((table) =>
      db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    ),
  );
  return Object.fromEntries(TABLES.map((table, i) => [table, Number(counts[i]?.n)])) as Record<
    (typeof TABLES)[number],
    number
  >;
}

/** The newest audit event, to check what a request recorded. */
const newestAuditEvent = (db: Db) =>
  db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();

/** How many audit events of each type there are. */
async function auditEventsByType(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('audit_events')
    .select((eb) => ['type', eb.fn.countAll<number>().as('n')])
    .groupBy('type')
    .execute();
  return Object.fromEntries(rows.map((row) => [row.type, Number(row.n)]));
}

/** The password hash stored for a login. */
const hashOf = async (db: Db, login: string): Promise<string> =>
  (await db.selectFrom('users').select('password_hash').where('login', '=', login).executeTakeFirstOrThrow())
    .password_hash;

/**
 * Reads a suite's database over one connection of its own, opened at first use and closed after the suite:
 * what a request wrote, checked without the server's help.
 */
export function databaseReader(url: () => string) {
  let handle: Db | undefined;
  const db = () => {
    handle ??= connect(url()).db;
    return handle;
  };
  afterAll(() => handle?.destroy());
  return {
    rowCounts: () => countRows(db()),
    lastAuditEvent: () => newestAuditEvent(db()),
    auditCountsByType: () => auditEventsByType(db()),
    /** Any other read, over the same connection. */
    read: <T>(query: (db: Db) => Promise<T>) => query(db()),
  };
}

/** Runs one read over a connection of its own (for databases made within a test). */
async function once<T>(url: string, read: (db: Db) => Promise<T>): Promise<T> {
  const { db } = connect(url);
  try {
    return await read(db);
  } finally {
    await db.destroy();
  }
}

export const rowCounts = (url: string) => once(url, countRows);
export const lastAuditEvent = (url: string) => once(url, newestAuditEvent);
export const storedHash = (url: string, login: string) => once(url, (db) => hashOf(db, login));
