import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../test-support/spawn-server.js';
import { restClient } from './support/http.js';
import { uniqueLogin } from './support/server.js';

/**
 * The Dockerfile, built and run with podman. No base image can be pulled on the machines this runs on, so the
 * node:20 images are stood in for by one made from Debian's packages (deploy/local-node-image.sh). podman runs
 * here as root with runc (crun refuses this machine's hybrid cgroups) and with limits no higher than the
 * machine's own (the default ones are refused).
 */
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PODMAN = ['--runtime', 'runc'];
const LIMITS = ['--ulimit', 'nofile=1024:1024', '--ulimit', 'nproc=1000:1000'];
const BASE = 'localhost/api-users-node:20';
const run = (command: string, args: string[]): SpawnSyncReturns<string> =>
  spawnSync(command, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
const podman = (...args: string[]) => run('podman', [...PODMAN, ...args]);

const missing = [
  process.getuid?.() === 0 ? null : 'not root',
  run('podman', ['--version']).status === 0 ? null : 'podman is not installed',
  run('runc', ['--version']).status === 0 ? null : 'runc is not installed',
  run('mmdebstrap', ['--version']).status === 0 ? null : 'mmdebstrap is not installed',
].filter((why) => why !== null);
if (missing.length > 0) console.warn(`[api-users] the container image test skipped: ${missing.join('; ')}`);

const ok = (result: SpawnSyncReturns<string>) => {
  if (result.status !== 0) throw new Error(`exit ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout.trim();
};

describe.skipIf(missing.length > 0)('the container image (Dockerfile, podman)', () => {
  const tag = 'localhost/api-users:test';
  const volume = `api-users-test-${randomBytes(4).toString('hex')}`;
  const containers: string[] = [];
  afterAll(() => {
    for (const name of containers) podman('rm', '--force', name);
    podman('volume', 'rm', '--force', volume);
  });

  async function start(port: number) {
    const name = `api-users-test-${randomBytes(4).toString('hex')}`;
    containers.push(name);
    ok(
      podman(
        'run',
        '--detach',
        '--name',
        name,
        '--network',
        'host',
        ...LIMITS,
        '--volume',
        `${volume}:/data`,
        '--env',
        `PORT=${port}`,
        '--env',
        `JWT_SECRET=${randomBytes(24).toString('hex')}`,
        '--env',
        'WEBAUTHN_RP_ID=localhost',
        '--env',
        `WEBAUTHN_ORIGINS=http://localhost:${port}`,
        tag,
      ),
    );
    const url = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 200; i++) {
      const ready = await fetch(`${url}/readyz`).then(
        (r) => r.ok,
        () => false,
      );
      if (ready) return { name, url };
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`the container did not become ready:\n${podman('logs', name).stdout}`);
  }

  it('builds, runs as a non-root user on its data volume, passes its health check, and stops cleanly on SIGTERM', async () => {
    ok(run('bash', ['deploy/local-node-image.sh']));
    ok(
      podman(
        'build',
        '--format',
        'docker',
        '--network',
        'host',
        ...LIMITS,
        '--build-arg',
        `NODE_BUILD_IMAGE=${BASE}`,
        '--build-arg',
        `NODE_RUNTIME_IMAGE=${BASE}`,
        '--tag',
        tag,
        '.',
      ),
    );
    const image = JSON.parse(ok(podman('image', 'inspect', tag)))[0];
    expect(image.Config.User).toBe('node');
    expect(image.Config.StopSignal).toBe('SIGTERM');
    expect(image.Healthcheck.Test).toEqual(['CMD', 'node', '-e', expect.stringContaining('/readyz')]);
    expect(Object.keys(image.Config.Volumes)).toEqual(['/data']);

    const port = await freePort();
    const first = await start(port);
    expect(ok(podman('exec', first.name, 'id', '-u'))).toBe('1000');
    expect(podman('healthcheck', 'run', first.name).status).toBe(0);
    const api = restClient(first.url);
    const login = uniqueLogin('image');
    const { tokens } = await api.signUp(login, 'a fine long password');
    expect((await api.call('GET', '/me', { token: tokens.access_token })).body.login).toBe(login);

    // SIGTERM reaches node (PID 1): it drains, closes the database and exits 0.
    ok(podman('stop', '--time', '20', first.name));
    expect(ok(podman('inspect', first.name, '--format', '{{.State.ExitCode}}'))).toBe('0');
    expect(podman('logs', first.name).stdout).toContain('SIGTERM: draining requests and closing the database');

    // The account is in the volume: a new container on it signs the same user in.
    const second = await start(port);
    expect((await restClient(second.url).login(login, 'a fine long password')).status).toBe(200);
  }, 900_000);
});
