import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { freePort } from '../../../test-support/spawn-server.js';

const VERDACCIO = createRequire(import.meta.url).resolve('verdaccio/bin/verdaccio');

export interface Registry {
  url: string;
  /**
   * An npm user config to publish with: the registry, a token, and a metadata cache of pnpm's own (pnpm keys
   * its cache by host and port, so a registry of an earlier run on the same port could answer for this one).
   */
  npmrc: string;
  stop(): Promise<void>;
}

/**
 * Verdaccio on 127.0.0.1 with its storage under `dir`: our packages are served only from what was published
 * to it (never proxied, so nothing published elsewhere can stand in), everything else from the npm registry.
 */
export async function startRegistry(dir: string): Promise<Registry> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  mkdirSync(join(dir, 'storage'), { recursive: true });
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `storage: ${join(dir, 'storage')}
auth:
  htpasswd:
    file: ${join(dir, 'htpasswd')}
uplinks:
  npmjs:
    url: https://registry.npmjs.org/
    timeout: 60s
    # Fetched once a run: the three package managers ask for the same metadata.
    maxage: 30m
packages:
  '@api-users/*':
    access: $all
    publish: $authenticated
  '**':
    access: $all
    proxy: npmjs
log: { type: stdout, format: json, level: warn }
`,
  );
  const child = spawn(process.execPath, [VERDACCIO, '--config', config, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: unknown) => {
    output += String(chunk);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`Verdaccio did not start:\n${output}`);
    }
    try {
      if ((await fetch(`${url}-/ping`)).ok) break;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }

  // The CouchDB-style sign-up every npm client uses (`npm adduser`): it answers with a token.
  const res = await fetch(`${url}-/user/org.couchdb.user:release`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'release', password: 'a long registry password' }),
  });
  const { token } = (await res.json()) as { token?: string };
  if (!res.ok || !token) throw new Error(`Verdaccio refused the sign-up: ${res.status}`);
  const npmrc = join(dir, '.npmrc');
  writeFileSync(
    npmrc,
    `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\ncache-dir=${join(dir, 'pnpm-cache')}\n`,
  );
  return { url, npmrc, stop };
}
