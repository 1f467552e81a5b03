import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Dialect } from '@api-users/db';
import { createConnection } from 'mysql2/promise';
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

/** A database of its own for the suite, made before its tests and dropped after them (filled in by then). */
export function useTestDatabase(dialect: Dialect): TestDatabase {
  const database = {} as TestDatabase;
  beforeAll(async () => {
    Object.assign(database, await createTestDatabase(dialect));
  });
  afterAll(() => database.drop());
  return database;
}

/** Runs a suite once per database: SQLite always, MySQL when reachable (global setup says why when not). */
export function describeEachDatabase(title: string, suite: (dialect: Dialect) => void): void {
  const mysql = inject('mysqlServerUrl') !== null;
  describe(`${title} [sqlite]`, () => suite('sqlite'));
  describe.skipIf(!mysql)(`${title} [mysql]`, () => suite('mysql'));
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
