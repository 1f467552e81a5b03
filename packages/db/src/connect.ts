import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, MysqlDialect, SqliteAdapter, type SqliteDatabase, SqliteDialect } from 'kysely';
import { createPool } from 'mysql2';
import type { Database } from './schema.js';

export type Dialect = 'mysql' | 'sqlite';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/api-users.sqlite';

export interface DatabaseHandle {
  db: Kysely<Database>;
  dialect: Dialect;
}

export interface ConnectOptions {
  /** MySQL pool size. */
  poolSize?: number;
  /** How long a query may wait for a MySQL connection before failing (ms). */
  connectTimeoutMs?: number;
}

/** `mysql://user:pass@host:port/db` or `sqlite:path` (`sqlite::memory:` for a private in-memory database). */
export function dialectOf(url: string): Dialect {
  if (url.startsWith('mysql://')) return 'mysql';
  if (url.startsWith('sqlite:')) return 'sqlite';
  throw new Error('DATABASE_URL must start with mysql:// or sqlite:');
}

/**
 * SQLite runs DDL inside transactions, but kysely's adapter says it does not, so its migrator would run
 * migrations unguarded. Declaring it makes each migration run atomic: of two processes migrating one file,
 * the loser's transaction fails on the write lock instead of half-applying a migration the winner applied.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class TransactionalDdlSqliteDialect extends SqliteDialect {
  override createAdapter(): SqliteAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

/** Distinct SQL texts whose prepared statements are kept; the app issues a few dozen. */
const STATEMENT_CACHE_SIZE = 200;

/**
 * kysely prepares every query anew, and for short queries better-sqlite3's parsing is a large share of the
 * cost; keep the prepared statements by SQL text instead (least recently used out first). Statements are
 * only run to completion (`all`/`run`), never held open across awaits, so sharing one is safe.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    prepare(sql) {
      let statement = statements.get(sql);
      if (statement) {
        statements.delete(sql);
      } else {
        statement = sqlite.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
      }
      statements.set(sql, statement);
      return statement;
    },
    close: () => sqlite.close(),
  };
}

export function connect(url: string, options: ConnectOptions = {}): DatabaseHandle {
  const dialect = dialectOf(url);
  if (dialect === 'mysql') {
    const pool = createPool({
      uri: url,
      connectionLimit: options.poolSize ?? 10,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      charset: 'utf8mb4_bin',
      supportBigNumbers: true,
      // Epoch-millisecond BIGINTs fit in a double; return them as numbers, not strings.
      bigNumberStrings: false,
      timezone: 'Z',
    });
    return { db: new Kysely<Database>({ dialect: new MysqlDialect({ pool }) }), dialect };
  }
  const path = url.slice('sqlite:'.length);
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return {
    db: new Kysely<Database>({ dialect: new TransactionalDdlSqliteDialect({ database: withStatementCache(sqlite) }) }),
    dialect,
  };
}
