import { createHash, randomBytes } from 'node:crypto';
import { REST_PREFIX, TRPC_PREFIX } from '@api-users/contract';
import { Redis } from 'ioredis';
import { sql } from 'kysely';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { createTestDatabase, type TestDatabase } from './support/databases.js';
import { call, type Reply, restClient } from './support/http.js';
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

async function redisReachable(): Promise<boolean> {
  const redis = new Redis('redis://127.0.0.1:6379', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

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
