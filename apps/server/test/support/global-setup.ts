import { createConnection } from 'mysql2/promise';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Server URL (no database) of the MySQL the tests may create databases on; null when unreachable. */
    mysqlServerUrl: string | null;
  }
}

const url = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

/** Probes MySQL once for the whole run: in CI it must be there; elsewhere its half of the suite skips, saying why. */
export default async function setup(project: TestProject): Promise<void> {
  try {
    const conn = await createConnection({ uri: url, connectTimeout: 3000 });
    await conn.end();
    project.provide('mysqlServerUrl', url);
  } catch (err) {
    const why = `cannot connect to ${url} (${(err as { code?: string }).code ?? String(err)})`;
    if (process.env.CI) throw new Error(`MySQL is required in CI: ${why}`);
    console.warn(`\n[api-users] MySQL tests skipped: ${why}. Set TEST_MYSQL_URL to run them.\n`);
    project.provide('mysqlServerUrl', null);
  }
}
