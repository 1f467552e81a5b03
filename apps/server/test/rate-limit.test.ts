import { createHash, randomBytes } from 'node:crypto';
import { REST_PREFIX, TRPC_PREFIX } from '@api-users/contract';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from './support/databases.js';
import { call, type Reply, restClient } from './support/http.js';
import { redisReachable } from './support/redis.js';
import {
  isolatedServerForTest,
  startIsolatedServer,
  startServer,
  type TestServer,
  uniqueLogin,
} from './support/server.js';

/** The password policy alone, small enough to reach in a test; the per-address attempt limit is off. */
const passwordLimits = {
  RATE_LIMIT_PER_ADDRESS: '0',
  RATE_LIMIT_FAILURES_PER_ACCOUNT_ADDRESS: '3',
  RATE_LIMIT_FAILURES_PER_ADDRESS: '100',
  RATE_LIMIT_FAILURES_PER_ACCOUNT: '6',
};
const PASSWORD = 'the owner knows this one';

/** One login attempt over REST (or tRPC), sent from `from` (a loopback address standing for one client). */
const login = (server: TestServer, from: string, user: string, password: string, path = `${REST_PREFIX}/login`) =>
  call(server.url, 'POST', path, { json: { login: user, password }, from });

const statuses = (replies: Reply[]) => replies.map((r) => r.status);

async function attempts(n: number, attempt: (i: number) => Promise<Reply>): Promise<Reply[]> {
  const replies: Reply[] = [];
  for (let i = 0; i < n; i++) replies.push(await attempt(i));
  return replies;
}

function expectRateLimited(reply: Reply): void {
  expect(reply.status).toBe(429);
  const body = reply.body.error?.data ?? reply.body;
  expect(body).toMatchObject({ code: 'RATE_LIMITED', msg: expect.stringMatching(/try again in \d+ s/) });
  expect(Number(reply.headers.get('retry-after'))).toBeGreaterThan(0);
}

async function registerOwner(server: TestServer): Promise<string> {
  const owner = uniqueLogin('owner');
  const res = await restClient(server.url).register({ user_name: 'Owner', login: owner, password: PASSWORD });
  expect(res.status).toBe(201);
  return owner;
}

describe('rate limiting: attempts per client address', () => {
  it('answers 429 with Retry-After past the limit, on REST and tRPC alike, for that address only', async () => {
    const server = await startIsolatedServer('sqlite', { RATE_LIMIT_PER_ADDRESS: '4', RATE_LIMIT_WINDOW: '60' });
    onTestFinished(() => server.close());
    const paths = [`${REST_PREFIX}/login`, `${TRPC_PREFIX}/auth.login`];
    const replies = await attempts(6, (i) => login(server, '127.0.0.2', uniqueLogin(), 'whatever1', paths[i % 2]));
    expect(statuses(replies)).toEqual([401, 401, 401, 401, 429, 429]);
    expectRateLimited(await login(server, '127.0.0.2', uniqueLogin(), 'whatever1', paths[0]));
    expectRateLimited(await login(server, '127.0.0.2', uniqueLogin(), 'whatever1', paths[1]));
    // Another client, and another operation from the same client, each have their own budget.
    expect((await login(server, '127.0.0.3', uniqueLogin(), 'whatever1')).status).toBe(401);
    const refresh = await attempts(5, () =>
      call(server.url, 'POST', `${REST_PREFIX}/refresh`, { token: 'x', from: '127.0.0.2' }),
    );
    expect(statuses(refresh)).toEqual([401, 401, 401, 401, 429]);
  });

  it('counts an IPv6 client by its /64, as one subscriber holds it whole', async () => {
    const server = await startIsolatedServer('sqlite', { RATE_LIMIT_PER_ADDRESS: '3', TRUST_PROXY: 'true' });
    onTestFinished(() => server.close());
    const from = (address: string) =>
      call(server.url, 'POST', `${REST_PREFIX}/login`, {
        json: { login: uniqueLogin(), password: 'whatever1' },
        headers: { 'x-forwarded-for': address },
      });
    const sameSubnet = [
      '2001:db8:1:2::1',
      '2001:db8:1:2:aaaa:bbbb:cccc:dddd',
      '2001:db8:1:2:0:0:0:3',
      '2001:db8:1:2::4',
    ];
    const replies = [];
    for (const address of sameSubnet) replies.push(await from(address));
    expect(statuses(replies)).toEqual([401, 401, 401, 429]);
    expect((await from('2001:db8:1:3::1')).status).toBe(401);
  });
});

describe('rate limiting: wrong passwords', () => {
  it("never lets an attacker's failures from one address stop the owner's login from another; the attacker's address is limited", async () => {
    const server = await startIsolatedServer('sqlite', passwordLimits);
    onTestFinished(() => server.close());
    const owner = await registerOwner(server);
    const attacker = await attempts(12, () => login(server, '127.0.0.2', owner, 'a wrong guess'));
    expect(statuses(attacker)).toEqual([401, 401, 401, ...Array(9).fill(429)]);
    for (const reply of attacker.slice(3)) expectRateLimited(reply);
    // The attacker's address stays locked out of that account, even with the right password, on both transports.
    expectRateLimited(await login(server, '127.0.0.2', owner, PASSWORD));
    expectRateLimited(await login(server, '127.0.0.2', owner, PASSWORD, `${TRPC_PREFIX}/auth.login`));
    // The owner, from another address, signs in at once: the refused attempts did not count towards the
    // per-account ceiling (six), which they would have passed.
    expect((await login(server, '127.0.0.3', owner, PASSWORD)).status).toBe(200);
  });

  it('clears the run of failures at an address on a correct password', async () => {
    const server = await startIsolatedServer('sqlite', { ...passwordLimits, RATE_LIMIT_FAILURES_PER_ACCOUNT: '100' });
    onTestFinished(() => server.close());
    const owner = await registerOwner(server);
    const typos = [];
    for (let round = 0; round < 3; round++) {
      typos.push(...(await attempts(2, () => login(server, '127.0.0.4', owner, 'a typo of mine'))));
      typos.push(await login(server, '127.0.0.4', owner, PASSWORD));
    }
    expect(statuses(typos)).toEqual([401, 401, 200, 401, 401, 200, 401, 401, 200]);
  });

  it('stops one address spraying a password over many accounts', async () => {
    const server = await startIsolatedServer('sqlite', { ...passwordLimits, RATE_LIMIT_FAILURES_PER_ADDRESS: '4' });
    onTestFinished(() => server.close());
    const owner = await registerOwner(server);
    const spray = await attempts(5, () => login(server, '127.0.0.5', uniqueLogin('victim'), 'Summer2024!'));
    expect(statuses(spray)).toEqual([401, 401, 401, 401, 429]);
    expectRateLimited(spray[4] as Reply);
    expect((await login(server, '127.0.0.6', owner, PASSWORD)).status).toBe(200);
  });

  it('holds an account only after failures from many addresses (the per-account ceiling)', async () => {
    const server = await startIsolatedServer('sqlite', passwordLimits);
    onTestFinished(() => server.close());
    const owner = await registerOwner(server);
    const replies = [];
    // Three failures from each of two addresses reach the ceiling of six; no single address could.
    for (const from of ['127.0.0.7', '127.0.0.8']) {
      replies.push(...(await attempts(3, () => login(server, from, owner, 'a distributed guess'))));
    }
    expect(statuses(replies)).toEqual([401, 401, 401, 401, 401, 401]);
    expectRateLimited(await login(server, '127.0.0.9', owner, 'a distributed guess'));
  });
});

describeEachDatabase('rate limiting: no lockout an attacker can aim', (dialect) => {
  const limits = { ...passwordLimits, RATE_LIMIT_FAILURES_PER_DEVICE: '3' };

  /** Two wrong passwords from each of three addresses (127.0.<net>.1-3): the account's ceiling (six) is reached. */
  async function attackFromMany(server: TestServer, owner: string, net = 1) {
    for (const from of [1, 2, 3].map((host) => `127.0.${net}.${host}`)) {
      expect(statuses(await attempts(2, () => login(server, from, owner, 'a distributed guess')))).toEqual([401, 401]);
    }
  }
  const signIn = (server: TestServer, from: string, owner: string, password: string, device_token?: string) =>
    call(server.url, 'POST', `${REST_PREFIX}/login`, { json: { login: owner, password, device_token }, from });

  it('keeps the account open to a client that signed in before (its device token), and lets an admin see and lift the block', async () => {
    const server = await isolatedServerForTest(dialect, limits);
    const api = restClient(server.url);
    const admin = await api.signUp(uniqueLogin('lock.admin'), PASSWORD, 1);
    const asAdmin = { token: admin.tokens.access_token };
    const owner = await registerOwner(server);
    const ownerId = (await signIn(server, '127.0.0.20', owner, PASSWORD)).body;
    const device = ownerId.device_token as string;
    expect(device).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    const id = (await api.call('GET', '/me', { token: ownerId.access_token })).body.id_user;

    await attackFromMany(server, owner);
    // Clients the account does not know are refused, the right password too, from any address...
    expectRateLimited(await signIn(server, '127.0.0.24', owner, PASSWORD));
    // ...and so is a device token of another account, or a forged one.
    const other = await registerOwner(server);
    const othersDevice = (await signIn(server, '127.0.0.20', other, PASSWORD)).body.device_token;
    expectRateLimited(await signIn(server, '127.0.0.24', owner, PASSWORD, othersDevice));
    expectRateLimited(await signIn(server, '127.0.0.24', owner, PASSWORD, `${device.slice(0, -2)}AA`));
    // The owner's own client is not: the attack aimed at the account does not stop it, from anywhere.
    const known = await signIn(server, '127.0.0.25', owner, PASSWORD, device);
    expect(known.status).toBe(200);

    // Admins see which account is under attack: its block, and the refused attempts naming it.
    const locked = await api.call('GET', `/users/${id}/lockout`, asAdmin);
    expect(locked.body).toEqual({ locked: true, retry_after: expect.any(Number) });
    expect(locked.body.retry_after).toBeGreaterThan(0);
    const refused = await api.call('GET', `/audit?type=login_failed&target_id=${id}`, asAdmin);
    expect(refused.body.items.map((e: { detail: string }) => e.detail)).toContain('rate_limited');

    // An admin lifts it (recorded); a client it does not know signs in again.
    expect((await api.call('DELETE', `/users/${id}/lockout`, asAdmin)).body).toEqual({ lifted: true });
    expect((await api.call('GET', `/users/${id}/lockout`, asAdmin)).body).toEqual({ locked: false, retry_after: null });
    const lifted = await api.call('GET', `/audit?type=lockout_lifted&target_id=${id}`, asAdmin);
    expect(lifted.body.items).toHaveLength(1);
    expect((await signIn(server, '127.0.0.24', owner, PASSWORD)).status).toBe(200);
  });

  it('gives a known client a small budget of its own, and lifts the block on a password set or changed', async () => {
    const server = await isolatedServerForTest(dialect, limits);
    const api = restClient(server.url);
    const admin = await api.signUp(uniqueLogin('lock.admin'), PASSWORD, 1);
    const owner = await registerOwner(server);
    const first = (await signIn(server, '127.0.0.30', owner, PASSWORD)).body;
    const id = (await api.call('GET', '/me', { token: first.access_token })).body.id_user;
    // A device token is no key: wrong passwords with it are counted, three before it is refused too.
    const guesses = await attempts(4, () => signIn(server, '127.0.0.31', owner, 'not it', first.device_token));
    expect(statuses(guesses)).toEqual([401, 401, 401, 429]);

    await attackFromMany(server, owner);
    expectRateLimited(await signIn(server, '127.0.0.32', owner, PASSWORD));
    // An admin's new password lifts the block: the guesses were at the old one.
    const reset = await api.call('POST', `/users/${id}/password`, {
      token: admin.tokens.access_token,
      json: { new_password: 'set by an admin today' },
    });
    expect(reset.status).toBe(200);
    const again = (await signIn(server, '127.0.0.32', owner, 'set by an admin today')).body;
    expect(again.access_token).toEqual(expect.any(String));

    await attackFromMany(server, owner, 2);
    expectRateLimited(await signIn(server, '127.0.0.33', owner, 'set by an admin today'));
    // So does the owner's own change, made from a session they already had.
    const changed = await api.call('POST', '/me/password', {
      token: again.access_token,
      json: { current_password: 'set by an admin today', new_password: 'changed by the owner' },
    });
    expect(changed.status).toBe(200);
    expect((await signIn(server, '127.0.0.33', owner, 'changed by the owner')).status).toBe(200);
  });
});

describe('rate limiting: shared by several instances', () => {
  /** Two instances on one database and one counter store: failures on either count for both. */
  async function expectSharedLimits(database: TestDatabase, env: Record<string, string>): Promise<void> {
    const [a, b] = await Promise.all([
      startServer(database.url, { ...passwordLimits, ...env }),
      startServer(database.url, { ...passwordLimits, ...env }),
    ]);
    try {
      const owner = await registerOwner(a);
      const replies = [];
      for (const server of [a, b, a, b]) replies.push(await login(server, '127.0.0.2', owner, 'a wrong guess'));
      expect(statuses(replies)).toEqual([401, 401, 401, 429]);
      expect((await login(b, '127.0.0.3', owner, PASSWORD)).status).toBe(200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  }

  it('through Redis', async (ctx) => {
    if (!(await redisReachable())) {
      if (process.env.CI) throw new Error('Redis is required in CI at 127.0.0.1:6379');
      ctx.skip('Redis is not reachable at 127.0.0.1:6379');
    }
    const database = await createTestDatabase('sqlite');
    onTestFinished(() => database.drop());
    await expectSharedLimits(database, {
      RATE_LIMIT_STORE: 'redis',
      REDIS_PREFIX: `apiu-test-${randomBytes(4).toString('hex')}:`,
    });
  });

  it('keys its counters by HMAC: no login or address in the store, nor a digest of one to be guessed', async (ctx) => {
    if (!(await redisReachable())) {
      if (process.env.CI) throw new Error('Redis is required in CI at 127.0.0.1:6379');
      ctx.skip('Redis is not reachable at 127.0.0.1:6379');
    }
    const prefix = `apiu-test-${randomBytes(4).toString('hex')}:`;
    const server = await isolatedServerForTest('sqlite', {
      ...passwordLimits,
      RATE_LIMIT_PER_ADDRESS: '100',
      RATE_LIMIT_STORE: 'redis',
      REDIS_PREFIX: prefix,
    });
    const victim = uniqueLogin('hmac.victim');
    expect((await login(server, '127.0.0.2', victim, 'a wrong guess')).status).toBe(401);
    const redis = new Redis('redis://127.0.0.1:6379');
    onTestFinished(() => redis.disconnect());
    const keys = await redis.keys(`${prefix}*`);
    onTestFinished(async () => {
      if (keys.length > 0) await redis.del(...keys);
    });
    // What an unkeyed digest of each counted thing would be: what anyone reading the store could compute.
    const sha256 = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex');
    const guesses = [
      sha256('login', `login:${victim}`, '127.0.0.2'),
      sha256('login', `login:${victim}`),
      sha256('login', '127.0.0.2'),
    ];
    expect(keys.length).toBeGreaterThanOrEqual(3);
    for (const key of keys) {
      expect(key).not.toContain(victim);
      expect(key).not.toContain('127.0.0.2');
      for (const guess of guesses) expect(key).not.toContain(guess);
    }
  });

  it.skipIf(inject('mysqlServerUrl') === null)('through MySQL, without Redis', async () => {
    const database = await createTestDatabase('mysql');
    onTestFinished(() => database.drop());
    await expectSharedLimits(database, { RATE_LIMIT_STORE: 'mysql' });
  });

  /** A store that fails after start: every count fails, and sign-in goes on (unlimited, and logged). */
  async function expectFailOpen(
    database: TestDatabase,
    env: Record<string, string>,
    breakStore = async (_: TestServer) => {},
  ) {
    const server = await startServer(database.url, { ...passwordLimits, RATE_LIMIT_PER_ADDRESS: '2', ...env });
    try {
      await breakStore(server);
      const replies = await attempts(5, () => login(server, '127.0.0.2', 'no.such.user', 'whatever1'));
      expect(statuses(replies)).toEqual([401, 401, 401, 401, 401]);
      expect(server.logs.some((l) => l.includes('rate-limit store unavailable'))).toBe(true);
    } finally {
      await server.close();
      await database.drop();
    }
  }

  it.skipIf(inject('mysqlServerUrl') === null)('fails open, and logs it, when the MySQL store fails', async () => {
    // The counters' table, gone after start.
    await expectFailOpen(await createTestDatabase('mysql'), { RATE_LIMIT_STORE: 'mysql' }, async (server) => {
      await sql`drop table rate_limits`.execute(server.app.database.db);
    });
  });

  it('fails open, and logs it, when Redis cannot be reached', async () => {
    await expectFailOpen(await createTestDatabase('sqlite'), {
      RATE_LIMIT_STORE: 'redis',
      REDIS_URL: 'redis://127.0.0.1:1',
    });
  });
});
