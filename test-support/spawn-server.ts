import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { TEST_SETTINGS } from './settings.js';

/**
 * The built server as a process of its own, as production runs it: for the server's tests that need real
 * signals, and for the suites of the SDK, the dashboard and the release.
 */
const SERVER_MAIN = fileURLToPath(new URL('../apps/server/dist/main.js', import.meta.url));
/** What the root package's scripts run: the build (turbo's cache when nothing changed), then the command. */
export const LAUNCHER = fileURLToPath(new URL('../scripts/built.mjs', import.meta.url));

/** A port nothing listens on right now: the server takes no PORT=0, so one is picked for it. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });

export interface ServerProcess {
  url: string;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr so far. */
  output: () => string;
  /** Resolves once the output holds `text` `n` times; rejects after 5 s. */
  logged(text: string, n?: number): Promise<void>;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
  /** SIGTERM (the server drains and closes its database), the exit, and the temporary database removed. */
  stop(): Promise<void>;
}

/**
 * Starts the server with test settings (rate limits off: suites sign in far more often than people do)
 * overridden by `env` (an undefined value removes the setting), on a temporary SQLite file unless `env` names a
 * DATABASE_URL; resolves once /healthz answers. `asStarted`: through the launcher `pnpm start` runs.
 */
export async function spawnServer(
  env: Record<string, string | undefined> = {},
  { asStarted = false } = {},
): Promise<ServerProcess> {
  if (!existsSync(SERVER_MAIN)) {
    throw new Error(`${SERVER_MAIN} is missing: run \`pnpm exec turbo run build --filter=@api-users/server...\` first`);
  }
  const dir = env.DATABASE_URL ? undefined : mkdtempSync(join(tmpdir(), 'api-users-'));
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const settings: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '',
    ...TEST_SETTINGS,
    HOST: '127.0.0.1',
    PORT: String(port),
    ...(dir ? { DATABASE_URL: `sqlite:${join(dir, 'api.sqlite')}` } : {}),
    ...env,
  };
  const child = spawn(process.execPath, asStarted ? [LAUNCHER, SERVER_MAIN] : [SERVER_MAIN], {
    env: Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: unknown) => {
    output += String(chunk);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  const logged = async (text: string, n = 1) => {
    for (let i = 0; i < 500; i++) {
      if (output.split(text).length - 1 >= n) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`the server did not log "${text}" ${n} times:\n${output}`);
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) break;
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, child, output: () => output, logged, exited, stop };
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  await stop();
  throw new Error(`the server did not start:\n${output}`);
}
