import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createConnection } from 'mysql2/promise';
import { inject } from 'vitest';

/** The Flask service's database as shared/flask-legacy/legacy-users.sql creates it (a copy kept beside the tests). */
const FLASK_FIXTURE_SQL = readFileSync(new URL('../fixtures/flask-legacy-users.sql', import.meta.url), 'utf8');

/** Each fixture row's id_user, login and stored password column, read from the SQL itself. */
export const FLASK_ROWS = [
  ...FLASK_FIXTURE_SQL.matchAll(/VALUES \((\d+),'[^']*','([^']*)','([^']*)',(?:\d+|NULL)\);/g),
].map(([, id, login, password]) => ({ id: Number(id), login: login as string, stored: password as string }));

/** The plain passwords, from the table in shared/flask-legacy/README.md. */
export const FLASK_PASSWORDS: Record<number, string> = {
  1: 'slc89slo',
  2: 'correct horse battery',
  3: 'ana-password-2022',
  4: 'bruno-password-2023',
  5: 'carla-password-2024',
  6: 'null-role-password',
  7: 'first-dup-password',
  8: 'second-dup-password',
  9: 'case-twin-password',
  10: 'jose-silva-password',
  11: 'stored-unhashed',
  12: 'long-name-password',
  13: 'short-login-password',
};

/**
 * The fixture loaded into a MariaDB database of its own, created with the server's default collation as the
 * Flask app's `db.create_all()` left it; `drop` removes it.
 */
export async function loadFlaskFixture(): Promise<{ url: string; drop(): Promise<void> }> {
  const server = inject('mysqlServerUrl');
  if (!server) throw new Error('MySQL is not available');
  const name = `flask_${process.pid}_${randomBytes(4).toString('hex')}`;
  const conn = await createConnection({ uri: server, multipleStatements: true });
  try {
    await conn.query(`CREATE DATABASE \`${name}\``);
    await conn.query(`USE \`${name}\``);
    await conn.query(FLASK_FIXTURE_SQL);
  } finally {
    await conn.end();
  }
  const url = new URL(server);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = await createConnection({ uri: server });
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}
