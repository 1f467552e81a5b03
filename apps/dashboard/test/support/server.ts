import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { spawnServer } from '../../../../test-support/spawn-server.js';

const DASHBOARD_INDEX = fileURLToPath(new URL('../../dist/index.html', import.meta.url));

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/** The built server serving the built dashboard, as `pnpm start` runs it, on its own SQLite file. */
export async function startServer(): Promise<RunningServer> {
  if (!existsSync(DASHBOARD_INDEX))
    throw new Error(`${DASHBOARD_INDEX} is missing: run \`pnpm exec turbo run build\` first`);
  const server = await spawnServer({ LOG_LEVEL: 'warn' });
  return { url: server.url, stop: server.stop };
}
