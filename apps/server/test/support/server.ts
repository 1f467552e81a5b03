import { Writable } from 'node:stream';
import type { Dialect } from '@api-users/db';
import { afterAll, beforeAll, onTestFinished } from 'vitest';
import { TEST_SECRET, TEST_SETTINGS, uniqueLogin } from '../../../../test-support/settings.js';
import { loadConfig } from '../../src/config.js';
import { type App, type AppOptions, buildApp } from '../../src/http/app.js';
import { createTestDatabase, type TestDatabase } from './databases.js';

export { TEST_SECRET, uniqueLogin };

export interface TestServer {
  url: string;
  app: App;
  /** Every log line the server wrote, to check that no secret reached them. */
  logs: string[];
  close(): Promise<void>;
}

/** A real server on a free loopback port over the given database URL; an undefined setting is removed. */
export async function startServer(
  databaseUrl: string,
  env: Record<string, string | undefined> = {},
  options: AppOptions = {},
): Promise<TestServer> {
  const config = loadConfig({ ...TEST_SETTINGS, DATABASE_URL: databaseUrl, ...env });
  const logs: string[] = [];
  const logStream = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const app = await buildApp(config, { ...options, logStream });
  const url = await app.fastify.listen({ port: 0, host: '127.0.0.1' });
  return { url, app, logs, close: () => app.fastify.close() };
}

export type IsolatedServer = TestServer & { database: TestDatabase };

/** A database of its own plus a server on it; `close` stops both. */
export async function startIsolatedServer(
  dialect: Dialect,
  env: Record<string, string | undefined> = {},
  options: AppOptions = {},
): Promise<IsolatedServer> {
  const database = await createTestDatabase(dialect);
  const server = await startServer(database.url, env, options).catch(async (err: unknown) => {
    await database.drop();
    throw err;
  });
  return {
    ...server,
    database,
    async close() {
      await server.close();
      await database.drop();
    },
  };
}

/** A server over a database of its own for the running test alone: both go when the test ends. */
export async function isolatedServerForTest(
  dialect: Dialect,
  env: Record<string, string | undefined> = {},
  options: AppOptions = {},
): Promise<IsolatedServer> {
  const server = await startIsolatedServer(dialect, env, options);
  onTestFinished(() => server.close());
  return server;
}

/**
 * The one set-up of most suites: a server over a database of its own, started before the suite's tests and
 * stopped (database dropped) after them. The object returned is filled in once it has started.
 */
export function useIsolatedServer(
  dialect: Dialect,
  env: Record<string, string> = {},
  options: AppOptions = {},
): IsolatedServer {
  const server = {} as IsolatedServer;
  beforeAll(async () => {
    Object.assign(server, await startIsolatedServer(dialect, env, options));
  });
  afterAll(() => server.close());
  return server;
}

/**
 * The token of the last mail of `kind` to `to` that a server without SMTP wrote to its log (development and
 * tests do); a mail sent after the answer (a forgotten password's) is waited for.
 */
export async function mailedToken(logs: string[], kind: string, to: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const line = logs.findLast((l) => l.includes(`"mail":"${kind}"`) && l.includes(`"to":"${to}"`));
    if (line) return decodeURIComponent(String(JSON.parse(line).link).split('token=')[1] ?? '');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no ${kind} mail to ${to} in the log`);
}
