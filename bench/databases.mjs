// Bench databases: create/drop, migrate with the project's own migrations, seed users fast.
import { mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, migrateToLatest, nameForSearch } from '@api-users/db';
import { requireFromDb } from './lib.mjs';

const mysql = requireFromDb('mysql2/promise');
const pg = requireFromDb('pg');
const SQLite = requireFromDb('better-sqlite3');

/** Server URLs (no database) the bench makes its databases on. */
const SERVERS = {
  mysql: process.env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306',
  postgres: process.env.BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
};

/** A constant, well-formed but useless hash: seeded users are never logged in. */
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$YmVuY2hzZWVkc2FsdA$Ck6NBQ3hNw1Jm0XyWJ4pXwQfHkC6GJjVw1pXyS0mV1o';
const CREATED_AT_BASE = Date.UTC(2026, 0, 1);
const BATCH = 5000;

let tempDir;
function sqliteTempDir() {
  tempDir ??= join(tmpdir(), `apiu-bench-${process.pid}`);
  mkdirSync(tempDir, { recursive: true });
  return tempDir;
}

export function removeTempDir() {
  if (tempDir) rmSync(tempDir, { recursive: true, force: true });
}

/** A server URL (`mysql://root@127.0.0.1:3306`, `postgres://…/postgres`) with another database -> a DATABASE_URL. */
function mysqlUrlFor(base, database) {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs statements on the PostgreSQL server over a connection of its own; returns the last one's rows. */
async function onPostgres(url, ...statements) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    let rows = [];
    for (const statement of statements) rows = (await client.query(statement)).rows;
    return rows;
  } finally {
    await client.end();
  }
}

/** The database server's name and version, e.g. `MySQL server 10.11.19-MariaDB`; throws when it cannot be reached. */
export async function databaseVersion(dialect) {
  if (dialect === 'sqlite') {
    const db = new SQLite(':memory:');
    try {
      return `SQLite ${db.prepare('select sqlite_version() as v').get().v}`;
    } finally {
      db.close();
    }
  }
  if (dialect === 'postgres') {
    const [row] = await onPostgres(SERVERS.postgres, 'SHOW server_version');
    return `PostgreSQL ${row.server_version}`;
  }
  if (dialect !== 'mysql') throw new Error(`unknown dialect ${dialect}`);
  const conn = await mysql.createConnection({ uri: mysqlUrlFor(SERVERS.mysql, ''), connectTimeout: 3000 });
  try {
    const [rows] = await conn.query('SELECT VERSION() AS v');
    return `MySQL server ${rows[0].v}`;
  } finally {
    await conn.end();
  }
}

/** Where `dialect`'s server is, for a line saying it was skipped. */
export const serverOf = (dialect) => SERVERS[dialect] ?? 'this machine';

/**
 * A fresh, empty database for one dialect: returns { url, drop() }. MySQL and PostgreSQL get
 * `CREATE DATABASE <name>`, SQLite a file in a temporary directory.
 */
export async function createDatabase(dialect, name) {
  if (dialect === 'sqlite') {
    const file = join(sqliteTempDir(), `${name}.sqlite`);
    const dropFiles = () => {
      for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
    };
    dropFiles();
    return { url: `sqlite:${file}`, file, drop: async () => dropFiles() };
  }
  if (dialect === 'postgres') {
    const dropIt = () => onPostgres(SERVERS.postgres, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await dropIt();
    await onPostgres(SERVERS.postgres, `CREATE DATABASE "${name}" ENCODING 'UTF8' TEMPLATE template0`);
    return { url: mysqlUrlFor(SERVERS.postgres, name), drop: dropIt };
  }
  const admin = async (statement) => {
    const conn = await mysql.createConnection({ uri: mysqlUrlFor(SERVERS.mysql, '') });
    try {
      await conn.query(statement);
    } finally {
      await conn.end();
    }
  };
  await admin(`DROP DATABASE IF EXISTS \`${name}\``);
  await admin(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  return { url: mysqlUrlFor(SERVERS.mysql, name), drop: () => admin(`DROP DATABASE IF EXISTS \`${name}\``) };
}

/** One admin in every thousand users, so the role filter has a rare value to find. */
const userRow = (id) => [
  `Bench User ${id}`,
  nameForSearch(`Bench User ${id}`),
  `u${String(id).padStart(8, '0')}`,
  DUMMY_HASH,
  id % 1000 === 0 ? 1 : 2,
  CREATED_AT_BASE + id * 1000,
];

/**
 * Applies the project's migrations, then inserts users 1..count (ids explicit, so later registrations get
 * count+1 onwards). Returns the seconds the insert took.
 */
export async function migrateAndSeed(dialect, url, count) {
  const handle = connect(url);
  try {
    await migrateToLatest(handle.db);
  } finally {
    await handle.db.destroy();
  }
  const t0 = process.hrtime.bigint();
  if (dialect === 'sqlite') seedSqlite(url.slice('sqlite:'.length), count);
  else if (dialect === 'postgres') await seedPostgres(url, count);
  else await seedMysql(url, count);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function seedSqlite(file, count) {
  const db = new SQLite(file);
  try {
    db.pragma('journal_mode = WAL');
    const insert = db.prepare(
      'INSERT INTO users (id_user, user_name, user_name_search, login, password_hash, user_role, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const batch = db.transaction((from, to) => {
      for (let id = from; id <= to; id++) insert.run(id, ...userRow(id));
    });
    for (let from = 1; from <= count; from += BATCH * 20) batch(from, Math.min(count, from + BATCH * 20 - 1));
    db.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    db.close();
  }
}

/**
 * The same rows as userRow, made by the server from generate_series (no round trip per batch); then the id
 * counter is moved past them, as the Flask import does.
 */
async function seedPostgres(url, count) {
  await onPostgres(
    url,
    `INSERT INTO users (id_user, user_name, user_name_search, login, password_hash, user_role, created_at)
     SELECT id, 'Bench User ' || id, 'bench user ' || id, 'u' || lpad(id::text, 8, '0'), '${DUMMY_HASH}',
            CASE WHEN id % 1000 = 0 THEN 1 ELSE 2 END, ${CREATED_AT_BASE} + id * 1000::bigint
     FROM generate_series(1, ${Number(count)}) AS id`,
    `SELECT setval(pg_get_serial_sequence('users', 'id_user'), ${Number(count)})`,
    'ANALYZE users',
  );
}

/** Multi-row INSERTs of BATCH rows, two connections in parallel; unique checks off (the data is unique by construction). */
async function seedMysql(url, count) {
  const pool = mysql.createPool({ uri: url, connectionLimit: 2, charset: 'utf8mb4_bin' });
  try {
    let next = 1;
    const worker = async () => {
      const conn = await pool.getConnection();
      try {
        await conn.query('SET SESSION unique_checks = 0, foreign_key_checks = 0');
        while (next <= count) {
          const from = next;
          const to = Math.min(count, from + BATCH - 1);
          next = to + 1;
          const rows = [];
          for (let id = from; id <= to; id++) rows.push([id, ...userRow(id)]);
          await conn.query(
            'INSERT INTO users (id_user, user_name, user_name_search, login, password_hash, user_role, created_at) VALUES ?',
            [rows],
          );
        }
      } finally {
        conn.release();
      }
    };
    await Promise.all([worker(), worker()]);
  } finally {
    await pool.end();
  }
}
