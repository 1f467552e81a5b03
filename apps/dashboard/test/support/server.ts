import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Adapted from packages/sdk/test/support/server.ts: the built server, as `pnpm start` runs it.
const SERVER_MAIN = fileURLToPath(new URL('../../../server/dist/main.js', import.meta.url));
const DASHBOARD_INDEX = fileURLToPath(new URL('../../dist/index.html', import.meta.url));

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

/** A port nothing listens on right now: the server takes no PORT=0, so one is picked for it. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** The built server serving the built dashboard, on its own SQLite file, once /healthz answers. */
export async function startServer(): Promise<RunningServer> {
  for (const built of [SERVER_MAIN, DASHBOARD_INDEX]) {
    if (!existsSync(built)) {
      throw new Error(`${built} is missing: run \`pnpm exec turbo run build\` first`);
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'api-users-dashboard-'));
  const port = await freePort();
  const child = spawn(process.execPath, [SERVER_MAIN], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      JWT_SECRET: 'dashboard-test-secret-that-is-at-least-32-characters',
      HOST: '127.0.0.1',
      PORT: String(port),
      DATABASE_URL: `sqlite:${join(dir, 'api.sqlite')}`,
      LOG_LEVEL: 'warn',
      // The suite signs up and logs in far more often than a person would.
      RATE_LIMIT_PER_ADDRESS: '0',
      RATE_LIMIT_PER_LOGIN: '0',
    },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await exited(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForHealth(url, child, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url, stop };
}

async function waitForHealth(url: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}: ${stderr()}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server did not answer ${url}/healthz within 20 s: ${stderr()}`);
}

/** SIGTERM (the server drains and closes its database), then wait for the exit. */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
