import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort, type ServerProcess, spawnServer } from '../../../test-support/spawn-server.js';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { call, restClient } from './support/http.js';
import { redisReachable, TEST_REDIS_URL } from './support/redis.js';
import { uniqueLogin } from './support/server.js';

/** The HAProxy configuration shipped for compose (deploy/haproxy.cfg), run here with three local instances. */
const SHIPPED_CONFIG = new URL('../../../deploy/haproxy.cfg', import.meta.url);
const PASSWORD = 'a fine long password';

const missing = [
  spawnSync('haproxy', ['-v']).status === 0 ? null : 'haproxy is not installed (Debian package haproxy)',
  inject('mysqlServerUrl') === null ? 'MySQL is not reachable' : null,
  (await redisReachable()) ? null : `Redis is not reachable at ${TEST_REDIS_URL}`,
].filter((why) => why !== null);
if (missing.length > 0) console.warn(`[api-users] three instances behind HAProxy skipped: ${missing.join('; ')}`);

/** deploy/haproxy.cfg with its bind port and its instances replaced by local ones. */
function localConfig(port: number, instancePorts: number[]): string {
  const shipped = readFileSync(SHIPPED_CONFIG, 'utf8');
  const servers = instancePorts.map((p, i) => `  server api${i + 1} 127.0.0.1:${p} check`).join('\n');
  const config = shipped
    .replace(/^ {2}bind :\d+$/m, `  bind 127.0.0.1:${port}`)
    .replace(/(^ {2}server .*\n?)+/m, `${servers}\n`)
    // Checks every 200 ms here, so the test need not wait seconds for an instance to leave or rejoin.
    .replace(/^ {2}default-server .*$/m, '  default-server inter 200ms fall 2 rise 2');
  if (!config.includes(`127.0.0.1:${port}`) || !config.includes(servers)) {
    throw new Error('deploy/haproxy.cfg no longer has the bind and server lines this test replaces');
  }
  return config;
}

/** HAProxy's `show stat` (CSV), over its stats socket. */
const showStat = (socketPath: string) =>
  new Promise<string>((resolve) => {
    let text = '';
    const socket = createConnection(socketPath, () => socket.end('show stat\n'));
    socket.on('data', (chunk) => {
      text += String(chunk);
    });
    socket.on('close', () => resolve(text));
    socket.on('error', () => resolve(''));
  });

/** Resolves once HAProxy's health checks see every instance up. */
async function waitUntilAllUp(socketPath: string, instances: number) {
  for (let i = 0; i < 200; i++) {
    const stat = await showStat(socketPath);
    const up = stat.split('\n').filter((line) => /^instances,api\d+,/.test(line) && line.includes(',UP,'));
    if (up.length === instances) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('HAProxy did not see every instance up');
}

describe.skipIf(missing.length > 0)('three instances on one MySQL, Redis rate limits, behind HAProxy', () => {
  let database: TestDatabase;
  let dir: string;
  let haproxy: ChildProcess;
  let proxyUrl: string;
  let socketPath: string;
  const instancePorts: number[] = [];
  const instances: ServerProcess[] = [];
  let env: Record<string, string>;

  const startInstance = (i: number) => spawnServer({ ...env, PORT: String(instancePorts[i]) });

  beforeAll(async () => {
    database = await createTestDatabase('mysql');
    dir = mkdtempSync(join(tmpdir(), 'api-users-haproxy-'));
    env = {
      DATABASE_URL: database.url,
      RATE_LIMIT_STORE: 'redis',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: `apiu-test-${randomBytes(4).toString('hex')}:`,
      // HAProxy is the only proxy; the address it forwards is the client's for the rate limits.
      TRUST_PROXY: '127.0.0.1',
      RATE_LIMIT_FAILURES_PER_ACCOUNT_ADDRESS: '3',
      WEBHOOK_POLL_INTERVAL: '0',
    };
    for (let i = 0; i < 3; i++) instancePorts.push(await freePort());
    // One first, so the migrations are applied once; then the other two.
    instances.push(await startInstance(0));
    instances.push(...(await Promise.all([startInstance(1), startInstance(2)])));
    const port = await freePort();
    socketPath = join(dir, 'haproxy.sock');
    const config = localConfig(port, instancePorts).replace(
      /^global\n/m,
      `global\n  stats socket ${socketPath} mode 600 level admin\n`,
    );
    writeFileSync(join(dir, 'haproxy.cfg'), config);
    haproxy = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
    proxyUrl = `http://127.0.0.1:${port}`;
    await waitUntilAllUp(socketPath, 3);
  }, 60_000);

  afterAll(async () => {
    haproxy?.kill('SIGKILL');
    await Promise.all(instances.map((instance) => instance.stop()));
    await database?.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('loses no request but those in flight on an instance killed under load, and no session; one restarts', async () => {
    const api = restClient(proxyUrl);
    const clients = await Promise.all(
      Array.from({ length: 6 }, async () => {
        const login = uniqueLogin('behind.proxy');
        const { user, tokens } = await api.signUp(login, PASSWORD);
        return { id: user.id_user as number, tokens, failed: false, requests: 0 };
      }),
    );
    const failures: { afterKill: number; error: string; read: boolean }[] = [];
    let running = true;
    let killedAt = 0;
    let diedAt = 0;
    /** Each client: reads with its access token, and renews its pair every third request. */
    const load = clients.map(async (client) => {
      while (running) {
        client.requests++;
        const refresh = client.requests % 3 === 0;
        try {
          const res = refresh
            ? await api.call('POST', '/refresh', { token: client.tokens.refresh_token })
            : await api.call('GET', `/users/${client.id}`, { token: client.tokens.access_token });
          if (res.status !== 200) throw new Error(`${res.status} ${JSON.stringify(res.body)}`);
          if (refresh) client.tokens = res.body;
        } catch (err) {
          // Only a renewal in flight on the killed instance may fail (its connection closes; it is never sent twice).
          failures.push({ afterKill: killedAt === 0 ? -1 : Date.now() - killedAt, error: String(err), read: !refresh });
          if (refresh) {
            // The renewal may have been made before the instance died: this client cannot know its pair.
            client.failed = true;
            return;
          }
        }
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const killed = instances[0] as ServerProcess;
    killedAt = Date.now();
    killed.child.kill('SIGKILL');
    await killed.exited;
    diedAt = Date.now() - killedAt;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    instances[0] = await startInstance(0);
    await waitUntilAllUp(socketPath, 3);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    running = false;
    await Promise.all(load);

    const total = clients.reduce((sum, c) => sum + c.requests, 0);
    expect(total).toBeGreaterThan(100);
    // Only renewals in flight on the killed instance failed: at most one per client (it stops there), when its
    // connections closed (a killed process's sockets close when it is gone, tens or hundreds of milliseconds after
    // SIGKILL on a busy machine; meanwhile requests wait there). Reads in flight, or sent on a kept-alive
    // connection to it that was already dead, went to another instance (deploy/haproxy.cfg retries reads).
    // Nothing failed before the kill, while HAProxy took the instance out, or while it rejoined.
    expect(failures.filter((failure) => failure.read)).toEqual([]);
    expect(failures.length, JSON.stringify(failures)).toBeLessThanOrEqual(clients.length);
    for (const failure of failures) expect(failure.afterKill, failure.error).toBeGreaterThanOrEqual(0);
    // Within a second of the process being gone (its sockets closed by then): none once HAProxy has it out.
    for (const failure of failures) expect(failure.afterKill, failure.error).toBeLessThan(diedAt + 1000);
    expect(clients.filter((c) => !c.failed).length).toBeGreaterThan(0);
    // Every session whose requests all came back is still live, on every instance.
    for (const client of clients.filter((c) => !c.failed)) {
      const renewed = await api.call('POST', '/refresh', { token: client.tokens.refresh_token });
      expect(renewed.status, JSON.stringify(renewed.body)).toBe(200);
      for (const instance of instances) {
        const read = await call(instance.url, 'GET', `/api/v1/users/${client.id}`, {
          token: renewed.body.access_token,
        });
        expect(read.status).toBe(200);
      }
    }
  }, 60_000);

  it('holds a revocation at once on every instance', async () => {
    const api = restClient(proxyUrl);
    const { user, tokens } = await api.signUp(uniqueLogin('revoked.everywhere'), PASSWORD);
    expect((await api.call('DELETE', '/logout', { token: tokens.access_token })).status).toBe(200);
    // Through the proxy (round robin over the three) and on each instance directly, at once.
    const reads = await Promise.all([
      ...Array.from({ length: 6 }, () => api.call('GET', `/users/${user.id_user}`, { token: tokens.access_token })),
      ...instances.map((i) => call(i.url, 'GET', `/api/v1/users/${user.id_user}`, { token: tokens.access_token })),
    ]);
    expect(reads.map((r) => r.body.code)).toEqual(reads.map(() => 'TOKEN_REVOKED'));
  });

  it('counts failed sign-ins across the instances (Redis), not per instance', async () => {
    const api = restClient(proxyUrl);
    const { user } = await api.signUp(uniqueLogin('limited.everywhere'), PASSWORD);
    // Round robin sends these to three instances; the limit is 3 per account and address in all.
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await api.login(user.login, 'not the password at all')).status);
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    // Even the right password now waits out the window, on whichever instance answers.
    expect((await api.login(user.login, PASSWORD)).status).toBe(429);
  });
});
