import { connect, isUnavailable, migrateToLatest } from '@api-users/db';
import { sql } from 'kysely';
import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { describeError } from '../src/http/errors.js';
import {
  createTestDatabase,
  describeEachDatabase,
  failingTrigger,
  rowCounts,
  type TestDatabase,
} from './support/databases.js';
import { restClient } from './support/http.js';
import { isolatedServerForTest, type TestServer, uniqueLogin } from './support/server.js';

const mysqlUrl = inject('mysqlServerUrl');

/** Every row of the users table as stored, hashes left out. */
async function storedUsers(server: TestServer) {
  return server.app.database.db
    .selectFrom('users')
    .select(['user_name', 'login', 'user_role'])
    .orderBy('id_user')
    .execute();
}

/** No log line carries a password or an argon2 hash. */
function expectCleanLogs(server: TestServer, password: string) {
  for (const line of server.logs) {
    expect(line).not.toContain(password);
    expect(line).not.toMatch(/\$argon2/);
  }
}

describe.skipIf(mysqlUrl === null)('a MySQL session with NO_BACKSLASH_ESCAPES [mysql]', () => {
  it('stores quotes, backslashes and an injection payload exactly as sent, in every string field', async () => {
    const server = await isolatedServerForTest(
      'mysql',
      {},
      { database: { sessionStatements: ["SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')"] } },
    );
    const { database } = server;
    const { mode } = await sql<{ mode: string }>`select @@sql_mode as mode`
      .execute(server.app.database.db)
      .then((r) => r.rows[0] ?? { mode: '' });
    expect(mode).toContain('NO_BACKSLASH_ESCAPES');

    const api = restClient(server.url);
    const victim = await api.signUp(uniqueLogin('victim'));
    const payloads = [
      // The reviewer's payload: under this mode, client-side escaping let it insert an admin row with the victim's hash.
      `p',0x70776e31,(select h from(select password_hash h from users where id_user=${victim.user.id_user})t),1,0)#`,
      'back\\slash \\\' o\'brien \\\\ "quoted" \\',
      "'; drop table users; -- \\",
    ];
    const expected = [{ user_name: victim.user.user_name, login: victim.user.login, user_role: 2 }];
    for (const payload of payloads) {
      const login = uniqueLogin('quote');
      // As user_name and as password: accepted, stored and checked exactly.
      const reg = await api.register({ user_name: payload, login, password: `${payload} long enough` });
      expect(reg.status).toBe(201);
      expect(reg.body.user_name).toBe(payload);
      expected.push({ user_name: payload, login, user_role: 2 });
      expect((await api.login(login, `${payload} long enough`)).status).toBe(200);
      expect((await api.login(login, `${payload} long enougH`)).status).toBe(401);
      // As a login: refused by validation before any SQL, on register and login alike.
      const before = await rowCounts(database.url);
      expect(
        (await api.register({ user_name: 'Someone', login: payload, password: 'a fine long password' })).status,
      ).toBe(400);
      expect((await api.login(payload, 'a fine long password')).status).toBe(400);
      expect(await rowCounts(database.url)).toEqual(before);
    }
    expect(await storedUsers(server)).toEqual(expected);
  });
});

describe.skipIf(mysqlUrl === null)('a slow statement [mysql]', () => {
  it('is cut off at DB_STATEMENT_TIMEOUT with an error that answers 503 DB_UNAVAILABLE', async () => {
    const server = await isolatedServerForTest('mysql', { DB_STATEMENT_TIMEOUT: '1' });
    const slow = sql`select count(*) as n from information_schema.columns a, information_schema.columns b,
                     information_schema.columns c`;
    const started = Date.now();
    const err = await slow.execute(server.app.database.db).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(4000);
    expect(describeError(err)).toMatchObject({ status: 503, body: { code: 'DB_UNAVAILABLE' } });
  });
});

/** Holds the write lock a registration of `login` needs, from a connection of its own, until released. */
async function holdLock(database: TestDatabase, login: string): Promise<() => Promise<void>> {
  if (database.dialect === 'sqlite') {
    // kysely's SQLite driver has one connection: a transaction begun by hand stays open on it.
    const { db } = connect(database.url);
    await sql`begin immediate`.execute(db);
    return async () => {
      await sql`rollback`.execute(db);
      await db.destroy();
    };
  }
  if (database.dialect === 'postgres') {
    const other = new pg.Client({ connectionString: database.url });
    await other.connect();
    await other.query('BEGIN');
    await other.query(
      'INSERT INTO users (user_name, login, password_hash, user_role, created_at) VALUES ($1, $2, $3, 2, 0)',
      ['Holder', login, 'not a hash'],
    );
    return async () => {
      await other.query('ROLLBACK');
      await other.end();
    };
  }
  const other = await createConnection({ uri: database.url });
  await other.query('BEGIN');
  // An uncommitted row with the same login: the registration's INSERT waits for its lock.
  await other.execute(
    'INSERT INTO users (user_name, login, password_hash, user_role, created_at) VALUES (?, ?, ?, 2, 0)',
    ['Holder', login, 'not a hash'],
  );
  return async () => {
    await other.query('ROLLBACK');
    await other.end();
  };
}

describeEachDatabase('database errors', (dialect) => {
  it('answers 503 DB_UNAVAILABLE within DB_STATEMENT_TIMEOUT while a lock is held, and recovers', async () => {
    const server = await isolatedServerForTest(dialect, { DB_STATEMENT_TIMEOUT: '1' });
    const { database } = server;
    const api = restClient(server.url);
    const login = uniqueLogin('locked');
    const password = 'a password held up by a lock';
    const release = await holdLock(database, login);
    try {
      const started = Date.now();
      const res = await api.register({ user_name: 'Locked Out', login, password });
      expect(res.status).toBe(503);
      expect(res.body.code).toBe('DB_UNAVAILABLE');
      // The bound is 1 s; the default lock wait is 50 s on MySQL, and the old busy timeout 5 s on SQLite.
      expect(Date.now() - started).toBeLessThan(4000);
    } finally {
      await release();
    }
    // The client's 503 is an operator's warning, naming the operation.
    const warned = server.logs.map((line) => JSON.parse(line)).filter((entry) => entry.level === 40);
    expect(warned).toContainEqual(
      expect.objectContaining({
        operation: 'register',
        msg: 'database unavailable: 503',
        requestId: expect.any(String),
      }),
    );
    expect((await api.register({ user_name: 'Locked Out', login, password })).status).toBe(201);
    expectCleanLogs(server, password);
  });

  it('logs a failed statement without its values: no password or hash in any log line', async () => {
    const server = await isolatedServerForTest(dialect);
    const { db } = server.app.database;
    await failingTrigger(db, dialect, 'BEFORE INSERT', 'users', 'refused by the test trigger');
    const password = 'a password that must stay secret';
    const res = await restClient(server.url).register({
      user_name: 'Refused',
      login: uniqueLogin('refused'),
      password,
    });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ code: 'INTERNAL', msg: 'Internal server error' });
    const logged = server.logs.filter((line) => line.includes('refused by the test trigger'));
    expect(logged).toHaveLength(1);
    // MySQL errors carry their SQL: with placeholders only, the values having travelled apart.
    if (dialect === 'mysql') expect(logged[0]).toContain('values (?, ?, ?, ?, ?, ?)');
    expectCleanLogs(server, password);
  });
});

describe.skipIf(mysqlUrl === null)('a deadlock [mysql]', () => {
  it('is retried: the request that InnoDB chose as the victim still succeeds, once', async () => {
    const server = await isolatedServerForTest('mysql');
    const { database } = server;
    const other = await createConnection({ uri: database.url });
    onTestFinished(() => other.end());
    const api = restClient(server.url);
    const admin = await api.signUp(uniqueLogin('deadlock.admin'), 'a fine long password', 1);
    const target = await api.signUp(uniqueLogin('deadlock.target'));
    const id = target.user.id_user;
    await other.query('CREATE TABLE ballast (n INT)');

    // The other transaction holds the target's session rows and is the heavier one (InnoDB rolls back the
    // lighter side of a deadlock), so the server's transaction is the one chosen to fail.
    await other.query('BEGIN');
    await other.query(`INSERT INTO ballast (n) VALUES ${Array.from({ length: 500 }, (_, n) => `(${n})`).join(',')}`);
    await other.execute('SELECT sid FROM sessions WHERE user_id = ? FOR UPDATE', [id]);
    // Setting a password locks the user's row, then waits for those session rows...
    const answer = api.call('POST', `/users/${id}/password`, {
      token: admin.tokens.access_token,
      json: { new_password: 'the new long password' },
    });
    await waitForLockWait(other, database);
    // ...and the other transaction now asks for the user's row: a cycle.
    await other.execute('SELECT id_user FROM users WHERE id_user = ? FOR UPDATE', [id]);
    await other.query('ROLLBACK');

    const res = await answer;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await api.login(target.user.login, 'the new long password')).status).toBe(200);
    const [events] = await other.query("SELECT COUNT(*) AS n FROM audit_events WHERE type = 'password_set'");
    expect(events).toEqual([{ n: 1 }]);
  });
});

describe.skipIf(inject('postgresServerUrl') === null)('a deadlock [postgres]', () => {
  it('is retried: the request PostgreSQL chose as the victim still succeeds, once', async () => {
    const server = await isolatedServerForTest('postgres');
    const other = new pg.Client({ connectionString: server.database.url });
    await other.connect();
    onTestFinished(() => other.end());
    const api = restClient(server.url);
    const admin = await api.signUp(uniqueLogin('deadlock.admin'), 'a fine long password', 1);
    const target = await api.signUp(uniqueLogin('deadlock.target'));
    const id = target.user.id_user;

    // PostgreSQL fails the transaction whose deadlock check runs first: the one that began waiting first,
    // here the server's.
    await other.query('BEGIN');
    await other.query('SELECT sid FROM sessions WHERE user_id = $1 FOR UPDATE', [id]);
    // Setting a password locks the user's row, then waits for those session rows...
    const answer = api.call('POST', `/users/${id}/password`, {
      token: admin.tokens.access_token,
      json: { new_password: 'the new long password' },
    });
    for (let tries = 0; ; tries++) {
      // Within a transaction, pg_stat_activity is read from a snapshot taken once, unless cleared.
      await other.query('SELECT pg_stat_clear_snapshot()');
      const waiting = await other.query(
        `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'update "sessions"%'`,
      );
      if (waiting.rowCount) break;
      if (tries > 200) throw new Error('no statement came to wait for the lock');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // ...and the other transaction now asks for the user's row: a cycle.
    await other.query('SELECT id_user FROM users WHERE id_user = $1 FOR UPDATE', [id]);
    await other.query('ROLLBACK');

    const res = await answer;
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect((await api.login(target.user.login, 'the new long password')).status).toBe(200);
    const events = await other.query("SELECT COUNT(*)::int AS n FROM audit_events WHERE type = 'password_set'");
    expect(events.rows).toEqual([{ n: 1 }]);
  });
});

describe.skipIf(inject('postgresServerUrl') === null)('a connection ended while lent out [postgres]', () => {
  it('fails the next statement as unavailable, and does not end the process', async () => {
    const database = await createTestDatabase('postgres');
    onTestFinished(() => database.drop());
    const { db } = connect(database.url);
    onTestFinished(() => db.destroy());
    const failed = await db.connection().execute(async (conn) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(conn);
      // Ended by the server between two statements (a restart, a failover, an administrator): node-postgres
      // emits 'error' on the connection itself, which nothing would handle while it is lent out.
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]?.pid]);
      await admin.end();
      await new Promise((resolve) => setTimeout(resolve, 200));
      return sql`select 1`.execute(conn).then(
        () => null,
        (err: unknown) => err,
      );
    });
    expect(isUnavailable(failed)).toBe(true);
  });
});

describe.skipIf(inject('postgresServerUrl') === null)('prepared statements [postgres]', () => {
  it('prepares each statement once per connection, and keeps working after a migration changed its result', async () => {
    const database = await createTestDatabase('postgres');
    onTestFinished(() => database.drop());
    const { db } = connect(database.url, { poolSize: 1 });
    onTestFinished(() => db.destroy());
    await migrateToLatest(db);
    const byId = () => db.selectFrom('users').select(['id_user', 'user_name']).where('id_user', '=', 1).execute();
    const prepared = async () =>
      (await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(db)).rows.map(
        (row) => row.statement,
      );
    await byId();
    await byId();
    // One connection: the statement is prepared on it, once (the listing's own statement is prepared too).
    expect((await prepared()).filter((statement) => statement.includes('"user_name"'))).toHaveLength(1);

    // Another instance widens a column its result holds (a rolling upgrade): PostgreSQL refuses the old plan.
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query('ALTER TABLE users ALTER COLUMN user_name TYPE varchar(300)');
    await admin.end();
    await expect(byId()).resolves.toEqual([]);
    // That connection was closed; its successor prepares again, and the statement keeps working.
    await expect(byId()).resolves.toEqual([]);
    await expect(byId()).resolves.toEqual([]);
  });
});

/** Resolves once the server's statement on the session rows runs (and so waits for their lock). */
async function waitForLockWait(conn: Awaited<ReturnType<typeof createConnection>>, database: TestDatabase) {
  const name = new URL(database.url).pathname.slice(1);
  for (let tries = 0; tries < 200; tries++) {
    const [rows] = await conn.execute(
      `SELECT 1 FROM information_schema.PROCESSLIST WHERE DB = ? AND INFO LIKE 'update \`sessions\`%'`,
      [name],
    );
    if ((rows as unknown[]).length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('no statement came to wait for the lock');
}
