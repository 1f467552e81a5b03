import { spawnServer } from '../../../../test-support/spawn-server.js';

export { freePort } from '../../../../test-support/spawn-server.js';

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/** The built server as a child process on its own SQLite file, with short-lived access tokens. */
export async function startServer(): Promise<RunningServer> {
  const server = await spawnServer({ LOG_LEVEL: 'warn', ACCESS_TOKEN_TTL: '60' });
  return { url: server.url, stop: server.stop };
}
