import { closeSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  type LogEvent,
  MysqlDialect,
  type MysqlPool,
  type MysqlPoolConnection,
  PostgresDialect,
  SqliteAdapter,
  type SqliteDatabase,
  SqliteDialect,
} from 'kysely';
import { createPool, type ExecuteValues, type Pool, type PoolConnection } from 'mysql2';
import pg from 'pg';
import type { Database } from './schema.js';

export type Dialect = 'mysql' | 'postgres' | 'sqlite';

export const DEFAULT_DATABASE_URL = 'sqlite:./data/api-users.sqlite';

/** Connections of a pool at one moment, for metrics. */
export interface PoolUse {
  /** The most connections the pool opens. */
  max: number;
  /** Connections lent to a query or transaction now. */
  inUse: number;
  /** Requests for a connection waiting for one to come free. */
  waiting: number;
}

export interface DatabaseHandle {
  db: Kysely<Database>;
  /** How the pool's connections are used now; undefined for SQLite (one connection, no pool). */
  poolUse(): PoolUse | undefined;
}

export interface ConnectOptions {
  /** MySQL and PostgreSQL pool size. */
  poolSize?: number;
  /**
   * Bound on a lock wait or a statement, after which it fails with an error `isUnavailable` recognises.
   * MySQL/MariaDB and PostgreSQL: set on every new connection (none when absent); SQLite: the busy timeout (5 s
   * when absent).
   */
  statementTimeoutSeconds?: number;
  /** Statements every new MySQL connection runs after its own set-up (tests use it to switch server modes on). MySQL only. */
  sessionStatements?: string[];
  /** Called after every statement with its duration (kysely's log hook): statement metrics. */
  onQuery?: (event: LogEvent) => void;
}

/**
 * `mysql://user:pass@host:port/db`, `postgres://user:pass@host:port/db` (or `postgresql://`), or `sqlite:path`
 * (`sqlite::memory:` for a private in-memory database).
 */
export function dialectOf(url: string): Dialect {
  if (url.startsWith('mysql://')) return 'mysql';
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return 'postgres';
  if (url.startsWith('sqlite:')) return 'sqlite';
  throw new Error('DATABASE_URL must start with mysql://, postgres:// or sqlite:');
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
 * cost; keep the prepared statements by SQL text instead (the oldest out first when full: the app issues a
 * few dozen, so a hit is not worth reordering for). Statements are only run to completion (`all`/`run`),
 * never held open across awaits, so sharing one is safe.
 */
function withStatementCache(sqlite: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    prepare(sql) {
      const cached = statements.get(sql);
      if (cached) return cached;
      const statement = sqlite.prepare(sql);
      if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value as string);
      statements.set(sql, statement);
      return statement;
    },
    close: () => sqlite.close(),
  };
}

type Callback = (err: Error | null, result?: unknown) => void;
/** kysely's pool callback as its driver uses it: no connection comes with an error. */
type ConnectionCallback = (error: unknown, connection?: MysqlPoolConnection) => void;

/**
 * The session settings of a new MySQL connection: lock waits (row and metadata locks) and statements are
 * bounded, so a held lock costs a request seconds, not innodb's default 50 s. MariaDB bounds every
 * statement (`max_statement_time`, seconds); MySQL only SELECTs (`max_execution_time`, ms). The numbers
 * are written into the SQL: SET refuses the DOUBLE that mysql2 binds a number as.
 */
function sessionSetUp(mariadb: boolean, timeoutSeconds: number | undefined): string[] {
  if (timeoutSeconds === undefined) return [];
  const statementBound = mariadb
    ? `max_statement_time = ${timeoutSeconds}`
    : `max_execution_time = ${timeoutSeconds * 1000}`;
  return [
    `SET SESSION innodb_lock_wait_timeout = ${timeoutSeconds}, lock_wait_timeout = ${timeoutSeconds}, ${statementBound}`,
  ];
}

/**
 * kysely's MysqlDialect runs every query through mysql2's `query(sql, values)`, which splices the values
 * into the SQL text on the client, escaping quotes with backslashes: on a server whose sql_mode has
 * NO_BACKSLASH_ESCAPES a value can close its string literal (SQL injection), and the SQL of a failed
 * statement, values included, lands on the error (and in logs). mysql2 has no switch for this, so this
 * pool hands kysely connections whose `query` runs a server-side prepared statement (`execute`): values
 * travel apart from the SQL and are never parsed as SQL, whatever the server's modes. Statements without
 * values (BEGIN, COMMIT, DDL, some of which cannot be prepared) keep `query`: there is nothing to splice.
 */
function preparedStatementPool(pool: Pool, options: ConnectOptions, use: Omit<PoolUse, 'max'>): MysqlPool {
  const adapted = new WeakMap<PoolConnection, MysqlPoolConnection>();
  const run = (raw: PoolConnection, sql: string, values: unknown[], callback?: Callback) =>
    values.length > 0 ? raw.execute(sql, values as ExecuteValues[], callback) : raw.query(sql, callback);
  /** Runs a new connection's session set-up in order; the first failure ends it. */
  const setUp = (raw: PoolConnection, done: (err: Error | null) => void) => {
    raw.query('SELECT VERSION() AS version', (err, rows) => {
      if (err) return done(err);
      const version = String((rows as { version?: unknown }[])[0]?.version);
      const statements = [
        ...sessionSetUp(/mariadb/i.test(version), options.statementTimeoutSeconds),
        ...(options.sessionStatements ?? []),
      ];
      const next = (i: number) => {
        const statement = statements[i];
        if (statement === undefined) return done(null);
        raw.query(statement, (e) => (e ? done(e) : next(i + 1)));
      };
      next(0);
    });
  };
  return {
    getConnection(kyselyCallback) {
      // kysely's type asks for a connection even with an error; its driver reads none then.
      const connectionCallback = kyselyCallback as ConnectionCallback;
      use.waiting++;
      const callback: ConnectionCallback = (error, connection) => {
        use.waiting--;
        if (connection) use.inUse++;
        connectionCallback(error, connection);
      };
      pool.getConnection((err, raw) => {
        if (err) return callback(err);
        const known = adapted.get(raw);
        if (known) return callback(null, known);
        setUp(raw, (setUpErr) => {
          if (setUpErr) {
            raw.destroy();
            return callback(setUpErr);
          }
          // One wrapper per connection: kysely keys its own per-connection state on the object it gets.
          const connection = {
            query: (sql: string, values: unknown[], cb?: Callback) => run(raw, sql, values, cb),
            release: () => {
              use.inUse--;
              raw.release();
            },
          } as MysqlPoolConnection;
          adapted.set(raw, connection);
          callback(null, connection);
        });
      });
    },
    end: (callback) => pool.end(callback),
  };
}

/** PostgreSQL's type id of BIGINT, which node-postgres returns as a string unless told otherwise. */
const INT8_OID = 20;

/**
 * A node-postgres pool that outlives the connections the server ends (a restart, a failover, a terminated
 * backend). Such a connection emits 'error', and an unhandled 'error' event would end the process: on the pool
 * while the connection is idle, on the connection itself while it is lent out between two statements. The
 * statement in flight fails with an error `isUnavailable` recognises; the pool drops the broken connection
 * when it comes back. Every pool of PostgreSQL connections (the app's, the rate-limit store's) is one of these.
 */
export function postgresPool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/**
 * The app's pool. BIGINT columns (epoch milliseconds, counts) come back as numbers, as on the other
 * databases: every one the app keeps is below 2^53. The statement and lock bounds are connection parameters,
 * so every connection of the pool starts with them.
 */
function appPostgresPool(url: string, max: number, timeoutSeconds: number | undefined): pg.Pool {
  const bounds =
    timeoutSeconds === undefined
      ? {}
      : { statement_timeout: timeoutSeconds * 1000, lock_timeout: timeoutSeconds * 1000 };
  return postgresPool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 5000,
    ...bounds,
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? Number : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
}

/** PostgreSQL's refusal of a prepared statement whose result columns changed since (a migration widened one). */
const planChanged = (err: unknown): boolean =>
  (err as { code?: unknown }).code === '0A000' && /cached plan must not change result type/.test(String(err));

/**
 * The app's pool as kysely sees it: outside transactions each client runs its statements as named (server-side
 * prepared) ones, so PostgreSQL parses a statement once per connection and then only binds and executes it (one
 * write instead of several per statement), as the MySQL pool does with `execute`. The first
 * STATEMENT_CACHE_SIZE distinct statements get names for the life of the process; later ones run unnamed, so no
 * connection holds an unbounded set. A migration that changes a statement's result columns (another instance's,
 * during a rolling upgrade) makes PostgreSQL refuse the old preparation: the statement then runs unnamed, and
 * the connection is closed when it comes back, so the next one prepares afresh. Statements inside a
 * transaction run unnamed: a refusal there would abort the transaction.
 */
function namedStatementPool(pool: pg.Pool): pg.Pool {
  const names = new Map<string, string>();
  const nameOf = (sql: string): string | undefined => {
    let name = names.get(sql);
    if (name === undefined && names.size < STATEMENT_CACHE_SIZE) {
      name = `apiu_${names.size}`;
      names.set(sql, name);
    }
    return name;
  };
  const wrappers = new WeakMap<pg.PoolClient, pg.PoolClient>();
  const wrap = (client: pg.PoolClient): pg.PoolClient => {
    let inTransaction = false;
    let stale = false;
    const query = async (text: string, values: unknown[]) => {
      if (/^(begin|start transaction)\b/i.test(text)) inTransaction = true;
      else if (/^(commit|rollback)\b/i.test(text)) inTransaction = false;
      const name = inTransaction ? undefined : nameOf(text);
      if (name === undefined) return client.query({ text, values });
      try {
        return await client.query({ text, values, name });
      } catch (err) {
        if (!planChanged(err)) throw err;
        stale = true;
        return client.query({ text, values });
      }
    };
    // kysely calls only query(sql, values) and release(discard); everything else is the client's own.
    return Object.create(client, {
      query: {
        value: (sql: unknown, values: unknown[] = []) =>
          typeof sql === 'string' ? query(sql, values) : client.query(sql as never, values),
      },
      release: { value: (discard?: boolean | Error) => client.release(stale || discard) },
    }) as pg.PoolClient;
  };
  // kysely calls only connect() and end(); both run on the pool itself (its methods keep state on `this`).
  return Object.create(pool, {
    end: { value: () => pool.end() },
    connect: {
      value: async () => {
        const client = await pool.connect();
        let wrapped = wrappers.get(client);
        if (!wrapped) {
          wrapped = wrap(client);
          wrappers.set(client, wrapped);
        }
        return wrapped;
      },
    },
  }) as pg.Pool;
}

export function connect(url: string, options: ConnectOptions = {}): DatabaseHandle {
  const dialect = dialectOf(url);
  const log = options.onQuery ? { log: options.onQuery } : {};
  const max = options.poolSize ?? 10;
  const timeoutSeconds = options.statementTimeoutSeconds;
  if (timeoutSeconds !== undefined && (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1)) {
    throw new Error('statementTimeoutSeconds: a whole number');
  }
  if (dialect === 'postgres') {
    const pool = appPostgresPool(url, max, timeoutSeconds);
    return {
      db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: namedStatementPool(pool) }), ...log }),
      poolUse: () => ({ max, inUse: pool.totalCount - pool.idleCount, waiting: pool.waitingCount }),
    };
  }
  if (dialect === 'mysql') {
    const pool = createPool({
      uri: url,
      connectionLimit: max,
      // How long opening a connection may take before the query fails (then 503 DB_UNAVAILABLE).
      connectTimeout: 5000,
      charset: 'utf8mb4_bin',
      supportBigNumbers: true,
      // Epoch-millisecond BIGINTs fit in a double; return them as numbers, not strings.
      bigNumberStrings: false,
      timezone: 'Z',
      // Prepared statements kept per connection; the server caps them for all clients together.
      maxPreparedStatements: STATEMENT_CACHE_SIZE,
    });
    const use = { inUse: 0, waiting: 0 };
    return {
      db: new Kysely<Database>({
        dialect: new MysqlDialect({ pool: preparedStatementPool(pool, options, use) }),
        ...log,
      }),
      poolUse: () => ({ max, ...use }),
    };
  }
  const path = url.slice('sqlite:'.length);
  if (path !== ':memory:') {
    mkdirSync(dirname(path), { recursive: true });
    // Created readable by its owner only; SQLite gives the -wal and -shm files the database file's mode.
    closeSync(openSync(path, 'a', 0o600));
  }
  const sqlite = new SQLite(path);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${(timeoutSeconds ?? 5) * 1000}`);
  return {
    db: new Kysely<Database>({
      dialect: new TransactionalDdlSqliteDialect({ database: withStatementCache(sqlite) }),
      ...log,
    }),
    poolUse: () => undefined,
  };
}
