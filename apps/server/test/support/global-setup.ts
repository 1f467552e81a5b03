import { createConnection } from 'mysql2/promise';
import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server URL (no database) of the MySQL the tests may create databases on; null when unreachable. */
    mysqlServerUrl: string | null;
    /** URL of a PostgreSQL database the tests may create databases from; null when unreachable. */
    postgresServerUrl: string | null;
  }
}

const mysqlUrl = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const postgresUrl = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Probes each database server once for the whole run: in CI both must be there; elsewhere the half of the
 * suite that needs a missing one skips, saying why in one line.
 */
export default async function setup(project: TestProject): Promise<void> {
  project.provide(
    'mysqlServerUrl',
    await probe('MySQL', 'TEST_MYSQL_URL', mysqlUrl, async () => {
      await (await createConnection({ uri: mysqlUrl, connectTimeout: 3000 })).end();
    }),
  );
  project.provide(
    'postgresServerUrl',
    await probe('PostgreSQL', 'TEST_POSTGRES_URL', postgresUrl, async () => {
      const client = new pg.Client({ connectionString: postgresUrl, connectionTimeoutMillis: 3000 });
      await client.connect();
      await client.end();
    }),
  );
}

async function probe(name: string, variable: string, url: string, connect: () => Promise<void>) {
  try {
    await connect();
    return url;
  } catch (err) {
    const why = `cannot connect to ${url} (${(err as { code?: string }).code ?? String(err)})`;
    if (process.env.CI) throw new Error(`${name} is required in CI: ${why}`);
    console.warn(`\n[api-users] ${name} tests skipped: ${why}. Set ${variable} to run them.\n`);
    return null;
  }
}
