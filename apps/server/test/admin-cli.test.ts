import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { connect } from '@api-users/db';
import { afterAll, expect, it } from 'vitest';
import { describeEachDatabase, useTestDatabase } from './support/databases.js';
import { restClient } from './support/http.js';
import { startServer, type TestServer } from './support/server.js';

const CLI = fileURLToPath(new URL('../dist/admin-cli.js', import.meta.url));
const PASSWORD = 'the keys to the kingdom';

/** Runs the built CLI on a database, with `stdin` as its standard input (a pipe, not a terminal). */
function admin(databaseUrl: string, args: string[], stdin = '') {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the server first`);
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { PATH: process.env.PATH ?? '', DATABASE_URL: databaseUrl },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  child.stdin.end(stdin);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
}

describeEachDatabase('admin CLI', (dialect) => {
  const database = useTestDatabase(dialect);
  let server: TestServer;
  afterAll(() => server?.close());

  it('creates an admin on an empty database, reading the password from stdin, and audits it', async () => {
    const created = await admin(
      database.url,
      ['create', '--login', 'Ops.Admin', '--name', 'Ops Admin'],
      `${PASSWORD}\n`,
    );
    expect(created).toMatchObject({ code: 0, stdout: 'Created the admin ops.admin (id 1)\n' });
    expect(created.stderr).not.toContain(PASSWORD);

    server = await startServer(database.url);
    const api = restClient(server.url);
    const pair = await api.login('ops.admin', PASSWORD);
    expect(pair.status).toBe(200);
    const me = await api.call('GET', '/me', { token: pair.body.access_token });
    expect(me.body).toMatchObject({ user_name: 'Ops Admin', login: 'ops.admin', user_role: 1, disabled: false });
    const events = await api.call('GET', '/audit', { token: pair.body.access_token });
    expect(events.body.items.at(-1)).toMatchObject({
      type: 'register',
      actor_id: null,
      target_id: 1,
      client_address: null,
      user_agent: 'api-users admin CLI',
    });
  });

  it('refuses a weak password, a taken login, a bad login and a missing one, saying why', async () => {
    expect(await admin(database.url, ['create', '--login', 'weak.one'], 'password1\n')).toMatchObject({
      code: 1,
      stderr: 'password: This password is one of the most commonly used; choose another\n',
    });
    expect(await admin(database.url, ['create', '--login', 'ops.admin'], `${PASSWORD}\n`)).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('The login ops.admin is taken'),
    });
    expect(await admin(database.url, ['create', '--login', 'x'])).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^login: /),
    });
    expect(await admin(database.url, ['create'])).toMatchObject({ code: 2, stderr: expect.stringContaining('Usage:') });
    expect(await admin(database.url, ['promote', '--login', 'nobody.here'])).toMatchObject({
      code: 1,
      stderr: 'No account has the login nobody.here\n',
    });
  });

  it('promotes a demoted, disabled account back to an enabled admin, and audits it', async () => {
    const api = restClient(server.url);
    const { user } = await api.signUp('lost.admin', PASSWORD);
    const { db } = connect(database.url);
    try {
      // As if every admin were gone: this one demoted and disabled behind the service's back.
      await db.updateTable('users').set({ user_role: 2, disabled: 1 }).where('id_user', '=', user.id_user).execute();
    } finally {
      await db.destroy();
    }
    expect(await admin(database.url, ['promote', '--login', 'Lost.Admin'])).toMatchObject({
      code: 0,
      stdout: `lost.admin (id ${user.id_user}) is now an enabled admin\n`,
    });
    const token = (await api.login('lost.admin', PASSWORD)).body.access_token;
    expect((await api.call('GET', '/me', { token })).body).toMatchObject({ user_role: 1, disabled: false });
    const events = await api.call('GET', `/audit?target_id=${user.id_user}`, { token });
    expect(
      events.body.items
        .slice(1, 3)
        .map((e: { type: string; detail: string | null; user_agent: string }) => [e.type, e.detail, e.user_agent]),
    ).toEqual([
      ['enabled', null, 'api-users admin CLI'],
      ['role_changed', 'admin', 'api-users admin CLI'],
    ]);
  });
});
