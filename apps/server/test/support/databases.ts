import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type Dialect } from '@api-users/db';
import { createConnection } from 'mysql2/promise';
import { describe, inject } from 'vitest';
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

/** Runs a suite once per database: SQLite always, MySQL when reachable (global setup says why when not). */
export function describeEachDatabase(title: string, suite: (dialect: Dialect) => void): void {
  const mysql = inject('mysqlServerUrl') !== null;
  describe(`${title} [sqlite]`, () => suite('sqlite'));
  describe.skipIf(!mysql)(`${title} [mysql]`, () => suite('mysql'));
}

/** The password hash stored for a login, read over a connection of its own. */
export async function storedHash(url: string, login: string): Promise<string> {
  const { db } = connect(url);
  try {
    const row = await db
      .selectFrom('users')
      .select('password_hash')
      .where('login', '=', login)
      .executeTakeFirstOrThrow();
    return row.password_hash;
  } finally {
    await db.destroy();
  }
}

/** Row counts of every table, to show a rejected request wrote nothing. */
export async function rowCounts(url: string): Promise<Record<string, number>> {
  const { db } = connect(url);
  try {
    const counts: Record<string, number> = {};
    for (const table of [
      'users',
      'sessions',
      'revoked_tokens',
      'admin_bootstrap',
      'flask_import',
      'audit_events',
    ] as const) {
      const row = await db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    return counts;
  } finally {
    await db.destroy();
  }
}

/** The newest audit event, to check what a request recorded. */
export async function lastAuditEvent(url: string) {
  const { db } = connect(url);
  try {
    return await db.selectFrom('audit_events').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirst();
  } finally {
    await db.destroy();
  }
}

/** How many audit events of each type there are. */
export async function auditCountsByType(url: string): Promise<Record<string, number>> {
  const { db } = connect(url);
  try {
    const rows = await db
      .selectFrom('audit_events')
      .select((eb) => ['type', eb.fn.countAll<number>().as('n')])
      .groupBy('type')
      .execute();
    return Object.fromEntries(rows.map((row) => [row.type, Number(row.n)]));
  } finally {
    await db.destroy();
  }
}
