import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect, type Dialect, migrateToLatest } from '@api-users/db';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import { type ImportReport, importFlaskUsers, NO_PASSWORD } from '../src/modules/flask-import/import.js';
import { openSource, parseSourceUrl } from '../src/modules/flask-import/source.js';
import {
  createTestDatabase,
  describeEachDatabase,
  rowCounts,
  storedHash,
  type TestDatabase,
  useTestDatabase,
} from './support/databases.js';
import { FLASK_PASSWORDS, FLASK_ROWS, loadFlaskFixture } from './support/flask-fixture.js';
import { restClient } from './support/http.js';
import { startServer, type TestServer, uniqueLogin } from './support/server.js';
import { claimsOf, headerOf } from './support/tokens.js';

const CLI = fileURLToPath(new URL('../dist/import-flask.js', import.meta.url));

/** What the import does with each of the 13 fixture rows on an empty database: [status, id here, role, detail]. */
const EXPECTED: Record<number, [string, number | null, number | null, RegExp]> = {
  1: ['imported', 1, 1, /^pbkdf2:sha256:260000 hash, replaced by argon2id at the first login$/],
  2: ['imported', 2, 2, /^pbkdf2:sha256:260000 hash/],
  3: ['imported', 3, 1, /^pbkdf2:sha256:150000 hash/],
  4: ['imported', 4, 1, /^pbkdf2:sha256:600000 hash/],
  5: ['imported', 5, 1, /^scrypt:32768:8:1 hash/],
  6: ['imported', 6, 2, /^pbkdf2:sha256:260000 hash, .*; user_role NULL imported as 2 \(user\)$/],
  7: ['imported', 7, 1, /^pbkdf2:sha256:260000 hash/],
  8: ['skipped', null, null, /^same login as Flask #7, the row the Flask login found/],
  9: ['skipped', null, null, /^"Maria\.Souza" and Flask #2's "maria\.souza" are one login here/],
  10: ['skipped', null, null, /^login refused here: Use letters a-z/],
  11: ['needs_password', 11, 1, /^the password column holds no hash this service accepts/],
  12: ['imported', 12, 1, /^pbkdf2:sha256:260000 hash/],
  13: ['skipped', null, null, /^login refused here: At least 3 characters$/],
};
const importable = Object.entries(EXPECTED)
  .filter(([, [status]]) => status === 'imported')
  .map(([id]) => Number(id));

function expectFreshImport(report: ImportReport): void {
  expect(report.rows.map((r) => r.flaskId)).toEqual(FLASK_ROWS.map((r) => r.id));
  for (const row of report.rows) {
    const [status, userId, role, detail] = EXPECTED[row.flaskId] ?? [];
    expect({ id: row.flaskId, status: row.status, userId: row.userId, role: row.role }).toEqual({
      id: row.flaskId,
      status,
      userId,
      role,
    });
    expect(row.detail).toMatch(detail as RegExp);
  }
  expect(report.revokedTokens).toBe(1);
}

describe.skipIf(inject('mysqlServerUrl') === null)('import from the Flask service (fixture in MariaDB)', () => {
  let flask: Awaited<ReturnType<typeof loadFlaskFixture>>;
  beforeAll(async () => {
    flask = await loadFlaskFixture();
  });
  afterAll(() => flask.drop());

  /** Opens the fixture, runs the import into `url` and closes both. */
  const runImport = async (url: string, dryRun: boolean, onProgress?: (done: number, total: number) => void) => {
    const source = await openSource(parseSourceUrl(flask.url));
    const { db } = connect(url);
    try {
      await migrateToLatest(db);
      return await importFlaskUsers(source, db, { dryRun, batchSize: 5, ...(onProgress ? { onProgress } : {}) });
    } finally {
      await Promise.all([source.close(), db.destroy()]);
    }
  };

  describeEachDatabase('into an empty database', (dialect: Dialect) => {
    const database = useTestDatabase(dialect);
    let server: TestServer | undefined;
    afterAll(() => server?.close());

    it('a dry run reports every row and writes nothing', async () => {
      const { db } = connect(database.url);
      await migrateToLatest(db);
      await db.destroy();
      const before = await rowCounts(database.url);
      expectFreshImport(await runImport(database.url, true));
      expect(await rowCounts(database.url)).toEqual(before);
    });

    it('imports in batches, reports every row, and keeps the hashes and ids', async () => {
      const progress: [number, number][] = [];
      const report = await runImport(database.url, false, (done, total) => progress.push([done, total]));
      expectFreshImport(report);
      expect(progress).toEqual([
        [5, 13],
        [10, 13],
        [13, 13],
      ]);
      const { db } = connect(database.url);
      try {
        const users = await db.selectFrom('users').selectAll().orderBy('id_user').execute();
        expect(users.map((u) => [u.id_user, u.login, u.user_role])).toEqual([
          [1, 'thecaasantos', 1],
          [2, 'maria.souza', 2],
          [3, 'ana', 1],
          [4, 'bruno', 1],
          [5, 'carla', 1],
          [6, 'nullrole', 2],
          [7, 'dup', 1],
          [11, 'plaintext', 1],
          [12, 'longname', 1],
        ]);
        expect(users.find((u) => u.id_user === 12)?.user_name).toBe('N'.repeat(128));
        for (const u of users) {
          const source = FLASK_ROWS.find((r) => r.id === u.id_user)?.stored;
          expect(u.password_hash).toBe(u.id_user === 11 ? NO_PASSWORD : source);
        }
        const imports = await db
          .selectFrom('flask_import')
          .select(['flask_id', 'user_id'])
          .orderBy('flask_id')
          .execute();
        expect(imports.map((r) => [Number(r.flask_id), r.user_id])).toEqual(users.map((u) => [u.id_user, u.id_user]));
      } finally {
        await db.destroy();
      }
    });

    it('a second run changes nothing and says so', async () => {
      const before = await rowCounts(database.url);
      const report = await runImport(database.url, false);
      expect(await rowCounts(database.url)).toEqual(before);
      for (const row of report.rows) {
        const [status, userId] = EXPECTED[row.flaskId] ?? [];
        if (status === 'skipped') {
          expect(row).toMatchObject({ status: 'skipped', userId: null });
          expect(row.detail).toMatch(EXPECTED[row.flaskId]?.[3] as RegExp);
        } else {
          expect(row).toMatchObject({ status: 'already_imported', userId });
          expect(row.detail).toBe(
            `imported earlier as id ${userId}${row.flaskId === 11 ? '; it still needs an admin-set password' : ''}`,
          );
        }
      }
    });

    it('while werkzeug hashes remain, every failed login waits out the floor', async () => {
      server = await startServer(database.url);
      const floor = server.app.deps.failedLogins.ms;
      expect(floor).toBeGreaterThan(0);
      const api = restClient(server.url);
      for (const [login, password] of [
        ['nobody.here', 'any password'],
        ['bruno', 'not brunos password'],
        ['plaintext', 'stored-unhashed'],
      ] as const) {
        const started = performance.now();
        const res = await api.login(login, password);
        expect(performance.now() - started).toBeGreaterThanOrEqual(floor);
        expect([res.status, res.body]).toEqual([401, { code: 'BAD_CREDENTIALS', msg: 'Wrong login or password' }]);
      }
    });

    it('each importable account logs in with its Flask password, and its hash becomes argon2id', async () => {
      const api = restClient((server as TestServer).url);
      for (const id of importable) {
        const login = FLASK_ROWS.find((r) => r.id === id)?.login.toLowerCase() as string;
        const password = FLASK_PASSWORDS[id] as string;
        const res = await api.login(login, password);
        expect([id, res.status]).toEqual([id, 200]);
        expect(await storedHash(database.url, login)).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
        expect((await api.login(login, password)).status).toBe(200);
      }
    });

    it('the rows not imported, and the account without a password, are refused as any other', async () => {
      const api = restClient((server as TestServer).url);
      const refused = { code: 'BAD_CREDENTIALS', msg: 'Wrong login or password' };
      // The later duplicate and the case twin: their login is the earlier row's, which their password does not open.
      for (const id of [8, 9, 11]) {
        const row = FLASK_ROWS.find((r) => r.id === id);
        const res = await api.login(row?.login as string, FLASK_PASSWORDS[id] as string);
        expect([id, res.status, res.body]).toEqual([id, 401, refused]);
      }
      expect((await api.login('plaintext', NO_PASSWORD)).body).toEqual(refused);
      // Logins our rules refuse are refused before any lookup, as every such login is.
      for (const id of [10, 13]) {
        const row = FLASK_ROWS.find((r) => r.id === id);
        const res = await api.login(row?.login as string, FLASK_PASSWORDS[id] as string);
        expect([id, res.status, res.body.code]).toEqual([id, 400, 'VALIDATION_FAILED']);
      }
    });

    it('gives the next new account the id after the highest imported one (kept ids move the id counter)', async () => {
      const res = await restClient((server as TestServer).url).register({
        user_name: 'After The Import',
        login: uniqueLogin('next.id'),
        password: 'a fine long password',
      });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.id_user).toBe(13);
    });

    it('once every werkzeug hash is replaced, failed logins no longer wait', async () => {
      const { failedLogins } = (server as TestServer).app.deps;
      await failedLogins.refresh();
      expect(failedLogins.ms).toBe(0);
    });
  });

  describeEachDatabase('into a database with accounts of its own', (dialect: Dialect) => {
    let database: TestDatabase;
    let server: TestServer;
    beforeAll(async () => {
      database = await createTestDatabase(dialect);
      server = await startServer(database.url);
    });
    afterAll(async () => {
      await server.close();
      await database.drop();
    });

    it('never merges into an existing login, and gives a taken id a new one after every kept id', async () => {
      const api = restClient(server.url);
      const own = await api.register({ user_name: 'Our Ana', login: 'ana', password: 'our own ana password' });
      expect(own.body.id_user).toBe(1);
      const report = await runImport(database.url, false);
      const byId = new Map(report.rows.map((r) => [r.flaskId, r]));
      expect(byId.get(3)).toMatchObject({
        status: 'skipped',
        detail: 'login "ana" already belongs to account id 1 here',
      });
      const moved = byId.get(1);
      expect(moved).toMatchObject({ status: 'imported', role: 1 });
      expect(moved?.detail).toMatch(/; id 1 is taken here: given a new id$/);
      expect(moved?.userId).toBeGreaterThan(12);
      // The old Flask password opens the moved account; ours still opens ours.
      const moved_login = await api.login('thecaasantos', FLASK_PASSWORDS[1] as string);
      expect(moved_login.status).toBe(200);
      expect((await api.login('ana', 'our own ana password')).status).toBe(200);
      expect((await api.login('ana', FLASK_PASSWORDS[3] as string)).status).toBe(401);
    });
  });

  describeEachDatabase('ids this service cannot keep', (dialect: Dialect) => {
    const database = useTestDatabase(dialect);
    /** Flask rows at 0 and below, at the top of a 32-bit INT and beyond it: each gets a new id. */
    const odd = [
      [0, 'zero.id'],
      [-7, 'negative.id'],
      [2_147_483_647, 'top.of.int'],
      [5_000_000_000, 'beyond.int'],
    ] as const;

    it('imports and reports every row, gives those a new id, and registration goes on afterwards', async () => {
      const { createConnection } = await import('mysql2/promise');
      const conn = await createConnection({ uri: flask.url });
      onTestFinished(async () => {
        await conn.query('DELETE FROM `User` WHERE login IN (?)', [odd.map(([, login]) => login)]);
        await conn.end();
      });
      // Without it, MySQL reads an id of 0 as "the next one".
      await conn.query("SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_AUTO_VALUE_ON_ZERO')");
      for (const [id, login] of odd) {
        await conn.execute(
          'INSERT INTO `User` (id_user, user_name, login, password, user_role) VALUES (?, ?, ?, ?, 2)',
          [id, `Odd ${login}`, login, FLASK_ROWS[1]?.stored as string],
        );
      }
      const [[{ n: total }]] = (await conn.query('SELECT COUNT(*) AS n FROM `User`')) as unknown as [[{ n: number }]];
      const report = await runImport(database.url, false);
      // Every row of the table is in the report, and the totals add up to it.
      expect(report.rows).toHaveLength(Number(total));
      const byLogin = new Map(report.rows.map((r) => [r.login, r]));
      for (const [id, login] of odd) {
        const row = byLogin.get(login);
        expect(row?.flaskId).toBe(id);
        expect(row?.status).toBe('imported');
        expect(row?.detail).toContain(`id ${id} is outside the ids kept (1 to 1,000,000,000): given a new id`);
        expect(row?.userId).toBeGreaterThan(0);
        expect(row?.userId).toBeLessThanOrEqual(1_000_000_000);
      }
      const server = await startServer(database.url);
      onTestFinished(() => server.close());
      const api = restClient(server.url);
      // Registration still works, and every imported account is reachable by its id.
      const newcomer = await api.signUp(uniqueLogin('after.import'));
      expect(newcomer.user.id_user).toBeLessThanOrEqual(1_000_000_000);
      for (const [, login] of odd) {
        const reply = await api.call('GET', `/users/${byLogin.get(login)?.userId}`, {
          token: newcomer.tokens.access_token,
        });
        expect(reply.body).toMatchObject({ login });
      }
      // The Flask id of each is kept beside the new one.
      const { db } = connect(database.url);
      onTestFinished(() => db.destroy());
      const kept = await db.selectFrom('flask_import').select(['flask_id', 'user_id']).execute();
      for (const [id, login] of odd) {
        expect(kept).toContainEqual({ flask_id: id, user_id: byLogin.get(login)?.userId });
      }
    });
  });

  describe('the command', () => {
    let database: TestDatabase;
    beforeAll(async () => {
      if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the server first`);
      database = await createTestDatabase('sqlite');
    });
    afterAll(() => database.drop());

    const run = (...args: string[]) => {
      const res = spawnSync(process.execPath, [CLI, ...args], {
        env: { PATH: process.env.PATH ?? '', DATABASE_URL: database.url },
        encoding: 'utf8',
      });
      return { code: res.status, out: res.stdout, err: res.stderr };
    };

    it('refuses a dry run on a database that needs migrations, changing nothing', () => {
      const res = run('--from', flask.url, '--dry-run');
      expect(res.code).toBe(1);
      expect(res.err.trim()).toMatch(/^DATABASE_URL's database needs migrations \(0001_initial, .*\); a dry run/);
    });

    it('prints one line per row, the totals, and progress on stderr', async () => {
      const res = run('--from', flask.url, '--batch-size', '10');
      expect(res.code).toBe(0);
      const lines = res.out.trim().split('\n');
      expect(lines).toHaveLength(15);
      expect(lines[0]).toBe(
        '#1 "thecaasantos": imported as id 1, role 1 (admin): pbkdf2:sha256:260000 hash, replaced by argon2id at the first login',
      );
      expect(lines[10]).toMatch(/^#11 "plaintext": imported as id 11, role 1 \(admin\), NEEDS AN ADMIN-SET PASSWORD: /);
      expect(lines[13]).toBe(
        '13 Flask users: 8 imported, 1 imported without a usable password (an admin must set one), 0 already imported, 4 skipped.',
      );
      expect(lines[14]).toBe(
        'revoked_tokens: 1 row(s) not imported (tokens the Flask service signed are refused here anyway).',
      );
      expect(res.err).toBe('10 of 13 Flask users handled\n13 of 13 Flask users handled\n');
      const dry = run('--from', flask.url, '--dry-run');
      expect(dry.code).toBe(0);
      expect(dry.out.split('\n')[0]).toBe('Dry run: nothing was written. An import would do this:');
      expect(dry.out).toContain('9 already imported, 4 skipped.');
    });

    it.each([
      ['not a URL', 'nonsense', /^--from must be a URL such as mysql:\/\//],
      ['another scheme', 'postgres://u:hunter2secret@127.0.0.1/flask', /^--from must be a mysql:\/\/ URL/],
      [
        'nothing listening',
        'mysql://root:hunter2secret@127.0.0.1:1/flask',
        /^cannot connect to the Flask database at mysql:\/\/root@127\.0\.0\.1:1\/flask: .*ECONNREFUSED/,
      ],
      [
        'wrong credentials',
        `mysql://nobody:hunter2secret@${new URL(inject('mysqlServerUrl') ?? 'mysql://x').host}/flask`,
        /^cannot connect to the Flask database at mysql:\/\/nobody@.*: Access denied for user 'nobody'/,
      ],
    ])('%s: one line, exit 1, no password', (_name, from, message) => {
      const res = run('--from', from);
      expect(res.code).toBe(1);
      expect(res.out).toBe('');
      expect(res.err.trim().split('\n')).toHaveLength(1);
      expect(res.err.trim()).toMatch(message);
      expect(res.err).not.toContain('hunter2secret');
    });
  });
});

describeEachDatabase('what Flask allowed that our rules now do too', (dialect: Dialect) => {
  const database = useTestDatabase(dialect);

  it('names up to 128 characters, as the Flask table had', async () => {
    const server = await startServer(database.url);
    onTestFinished(() => server.close());
    const api = restClient(server.url);
    const ok = await api.register({ user_name: 'L'.repeat(128), login: 'long.name', password: 'a long enough one' });
    expect([ok.status, ok.body.user_name]).toEqual([201, 'L'.repeat(128)]);
    const tooLong = await api.register({ user_name: 'L'.repeat(129), login: 'longer.name', password: 'a long one' });
    expect([tooLong.status, tooLong.body.code]).toEqual([400, 'VALIDATION_FAILED']);
  });

  it("Flask's token settings: HS512, access tokens for 30 minutes", async () => {
    const server = await startServer(database.url, { JWT_ALGORITHM: 'HS512', ACCESS_TOKEN_TTL: '1800' });
    onTestFinished(() => server.close());
    const api = restClient(server.url);
    await api.register({ user_name: 'Token', login: 'token.user', password: 'a long enough one' });
    const pair = await api.login('token.user', 'a long enough one');
    expect(pair.body.expires_in).toBe(1800);
    const [header, payload] = [headerOf(pair.body.access_token), claimsOf(pair.body.access_token)];
    expect(header.alg).toBe('HS512');
    expect(payload.exp - payload.iat).toBe(1800);
  });
});
