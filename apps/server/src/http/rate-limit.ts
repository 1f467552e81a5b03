import { createHmac } from 'node:crypto';
import { postgresPool } from '@api-users/db';
import { Redis } from 'ioredis';
import ipaddr from 'ipaddr.js';
import { createPool } from 'mysql2';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterMySQL,
  RateLimiterPostgres,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { SignInLimits } from '../core/context.js';
import { AppError } from '../core/errors.js';

export interface RateLimitSettings {
  /** `memory` (one instance), or shared by every instance: `redis`, or `mysql`/`postgres` (the app's database). */
  store: 'memory' | 'redis' | 'mysql' | 'postgres';
  redisUrl: string;
  redisPrefix: string;
  /** The `address` policy: attempts per client address per operation and window; 0 turns it off. */
  windowSeconds: number;
  perAddress: number;
  /** The `password` policy: wrong passwords counted over this window (each limit: 0 turns it off). */
  failureWindowSeconds: number;
  /** At one account from one address; a correct password resets it. */
  failuresPerAccountAddress: number;
  /** From one address, whatever the account (password spraying). */
  failuresPerAddress: number;
  /**
   * At one account from every address together: the much higher ceiling on a distributed guess. It stops only
   * clients the account does not know: a client with a device token of the account has its own count instead.
   */
  failuresPerAccount: number;
  /** At one account from one client that signed in to it before (its device token), wherever it is. */
  failuresPerDevice: number;
  /** The `email` policy: mails to one address over this window (0 turns it off). */
  emailWindowSeconds: number;
  perEmail: number;
}

export interface RateLimiter {
  /** One attempt at `operation` from `address` (the `address` policy); RATE_LIMITED past the limit. */
  attempt(operation: string, address: string): Promise<void>;
  /** One mail from `operation` to `email` (the `email` policy); RATE_LIMITED past the limit. */
  mailTo(operation: string, email: string): Promise<void>;
  /**
   * Runs `check`, an operation that checks `account`'s password (the `password` policy): refused with
   * RATE_LIMITED while a failure count is at its limit; a BAD_CREDENTIALS, WRONG_PASSWORD or BAD_CODE answer counts as a
   * failure, a success clears the account's count at this address, and any other outcome counts nothing.
   */
  guardPassword<T>(
    operation: string,
    account: string,
    address: string,
    check: () => Promise<T>,
    /** The id of a device token of this account the request carries: a client the account knows. */
    device?: string,
  ): Promise<T>;
  /** The account-wide ceiling of sign-ins, as handlers see it. */
  signInLimits: SignInLimits;
  close(): Promise<void>;
}

/**
 * The client an address stands for: an IPv6 address by its /64, which one subscriber usually holds whole
 * (as @fastify/rate-limit and express-rate-limit key it). Addresses arrive in one written form (client.ts:
 * an IPv4-mapped one as IPv4); anything else (X-Forwarded-For text, with TRUST_PROXY on) counts as it is.
 */
function subscriberOf(address: string): string {
  if (!ipaddr.isValid(address) || ipaddr.parse(address).kind() !== 'ipv6') return address;
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address}/64`).toString()}/64`;
}

/**
 * The account a password or code check is about: an account by its id (the caller's, changing their own
 * password; a sign-in challenge's), or the `login` a sign-in names, whether or not such a user exists.
 */
export const accountOf = (of: { userId: number } | { login: string }): string =>
  'userId' in of ? `user:${of.userId}` : loginAccount(of.login);

const loginAccount = (login: string) => `login:${login}`;
/** The operation whose account-wide ceiling is the sign-in block (the name it is counted under). */
const SIGN_IN = 'login';

type CounterFactory = (name: string, points: number, seconds: number) => Promise<RateLimiterAbstract>;
interface Store {
  counter: CounterFactory;
  close(): Promise<void>;
}

function memoryStore(): Store {
  return {
    counter: async (keyPrefix, points, duration) => new RateLimiterMemory({ keyPrefix, points, duration }),
    close: async () => {},
  };
}

function redisStore(url: string, prefix: string): Store {
  const redis = new Redis(url, { keyPrefix: prefix, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  // Connection problems surface per count (and are logged there); this only keeps ioredis from crashing the process.
  redis.on('error', () => {});
  return {
    counter: async (keyPrefix, points, duration) =>
      new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration, rejectIfRedisNotReady: true }),
    close: async () => redis.disconnect(),
  };
}

/** Counters in one table (`rate_limits`) of the app's MySQL database, which the limiter creates if missing. */
function mysqlStore(databaseUrl: string, poolSize: number): Store {
  const pool = createPool({ uri: databaseUrl, connectionLimit: poolSize, connectTimeout: 2000 });
  const dbName = decodeURIComponent(new URL(databaseUrl).pathname.slice(1));
  return {
    counter: (keyPrefix, points, duration) =>
      new Promise((resolve, reject) => {
        const options = { storeClient: pool, storeType: 'pool', dbName, tableName: 'rate_limits' };
        const limiter = new RateLimiterMySQL({ ...options, keyPrefix, points, duration }, (err) =>
          err ? reject(err) : resolve(limiter),
        );
      }),
    close: () => new Promise((resolve) => pool.end(() => resolve())),
  };
}

function postgresStore(databaseUrl: string, poolSize: number): Store {
  const pool = postgresPool({ connectionString: databaseUrl, max: poolSize, connectionTimeoutMillis: 2000 });
  return {
    counter: (keyPrefix, points, duration) =>
      new Promise((resolve, reject) => {
        const options = { storeClient: pool, storeType: 'pool', tableName: 'rate_limits' };
        const limiter = new RateLimiterPostgres({ ...options, keyPrefix, points, duration }, (err) =>
          err ? reject(err) : resolve(limiter),
        );
      }),
    close: () => pool.end(),
  };
}

/** The answers that count as a failed password or code attempt. */
const FAILED_ATTEMPTS: ReadonlySet<string> = new Set(['BAD_CREDENTIALS', 'WRONG_PASSWORD', 'BAD_CODE']);

/** A count of one thing under one key; refused once `points` are spent in the window. */
interface Count {
  limiter: RateLimiterAbstract;
  key: string;
}

/**
 * RATE_LIMITED, saying whether it is the first refusal of its count and key within RATE_LIMIT_WINDOW: only
 * that one goes in the audit log, so a client hammering at a limit (no password check, no cost to it) cannot
 * grow the log by a row a request.
 */
export class RateLimitRefusal extends AppError {
  constructor(
    msBeforeNext: number,
    readonly firstInWindow: boolean,
  ) {
    const retryAfter = Math.max(1, Math.ceil(msBeforeNext / 1000));
    super('RATE_LIMITED', `Too many attempts; try again in ${retryAfter} s`, undefined, retryAfter);
  }
}

/**
 * The limiter on its store. A store that cannot be reached fails open (each miss logged through
 * `onStoreError`): an outage of the counters must not lock every user out of signing in. A store that
 * cannot set itself up at start (the MySQL table) fails the start instead.
 */
export async function createRateLimiter(
  settings: RateLimitSettings,
  /** Keys the store's keys (below), a secret of the deployment. */
  keySecret: Buffer,
  database: { url: string; poolSize: number },
  onStoreError: (err: unknown) => void,
): Promise<RateLimiter> {
  /**
   * Store keys are HMACs of what they count under a secret of the deployment: fixed-length hex that no store can
   * misread (the MySQL store splices keys into SQL on the client, which NO_BACKSLASH_ESCAPES could break), and
   * no login or address in the store, nor one that whoever reads it could find by hashing guesses.
   */
  const keyOf = (...parts: string[]) => createHmac('sha256', keySecret).update(parts.join('\0')).digest('hex');
  const store =
    settings.store === 'redis'
      ? redisStore(settings.redisUrl, settings.redisPrefix)
      : settings.store === 'mysql'
        ? mysqlStore(database.url, database.poolSize)
        : settings.store === 'postgres'
          ? postgresStore(database.url, database.poolSize)
          : memoryStore();
  const counter = (name: string, points: number, seconds: number) =>
    points > 0 ? store.counter(name, points, seconds) : Promise.resolve(undefined);
  const window = settings.failureWindowSeconds;
  const counters = Promise.all([
    counter('attempts', settings.perAddress, settings.windowSeconds),
    counter('fail-acct-addr', settings.failuresPerAccountAddress, window),
    counter('fail-addr', settings.failuresPerAddress, window),
    counter('fail-acct', settings.failuresPerAccount, window),
    counter('fail-device', settings.failuresPerDevice, window),
    counter('mail-to', settings.perEmail, settings.emailWindowSeconds),
    // Refusals already reported within the window, one point per count and key.
    store.counter('refused', 1, settings.windowSeconds),
  ]);
  const [attempts, pair, byAddress, byAccount, byDevice, mails, reported] = await counters.catch(
    async (err: unknown) => {
      await store.close();
      throw err;
    },
  );

  /** Whatever a store error did, the request goes on: logged, not limited. */
  const quietly = (action: Promise<unknown>) => action.catch(onStoreError);

  /** Whether `count` refused nothing else within the window (a store error counts as yes: better a row too many). */
  const firstRefusal = (count: Count) =>
    reported.consume(keyOf(count.limiter.keyPrefix, count.key)).then(
      () => true,
      (err: unknown) => {
        if (err instanceof RateLimiterRes) return false;
        onStoreError(err);
        return true;
      },
    );

  /** Spends one point of each count in order; the first refusal gives every point back and throws. */
  async function take(counts: Count[]): Promise<Count[]> {
    const taken: Count[] = [];
    for (const count of counts) {
      try {
        await count.limiter.consume(count.key);
        taken.push(count);
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) {
          onStoreError(err);
          continue;
        }
        // A refused attempt is not a failure: it must not bring any count closer to its limit.
        await Promise.all([...taken, count].map((c) => quietly(c.limiter.reward(c.key))));
        throw new RateLimitRefusal(err.msBeforeNext, await firstRefusal(count));
      }
    }
    return taken;
  }

  return {
    async attempt(operation, address) {
      if (attempts) await take([{ limiter: attempts, key: keyOf(operation, subscriberOf(address)) }]);
    },

    async mailTo(operation, email) {
      if (mails) await take([{ limiter: mails, key: keyOf(operation, email) }]);
    },

    async guardPassword(operation, account, address, check, device) {
      const client = subscriberOf(address);
      // A client the account knows (its device token) is held to its own count, wherever it is; any other to
      // the counts of its address and the account's ceiling, which an attack from many addresses can reach.
      const own =
        device === undefined
          ? pair && { limiter: pair, key: keyOf(operation, account, client) }
          : byDevice && { limiter: byDevice, key: keyOf(operation, account, device) };
      const counts = [
        own,
        byAddress && { limiter: byAddress, key: keyOf(operation, client) },
        device === undefined ? byAccount && { limiter: byAccount, key: keyOf(operation, account) } : undefined,
      ].filter((c): c is Count => c !== undefined);
      const taken = await take(counts);
      let outcome: 'success' | 'failure' | 'other' = 'other';
      try {
        const result = await check();
        outcome = 'success';
        return result;
      } catch (err) {
        if (err instanceof AppError && FAILED_ATTEMPTS.has(err.code)) outcome = 'failure';
        throw err;
      } finally {
        // Only a wrong password stays counted; a success also ends the run of failures of this client.
        if (outcome !== 'failure') {
          const settle = taken.map((c) =>
            outcome === 'success' && c === own ? c.limiter.delete(c.key) : c.limiter.reward(c.key),
          );
          await Promise.all(settle.map(quietly));
        }
      }
    },

    signInLimits: {
      async blockedFor(login) {
        if (!byAccount) return null;
        const state = await byAccount.get(keyOf(SIGN_IN, loginAccount(login)));
        if (!state || state.consumedPoints < settings.failuresPerAccount) return null;
        return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
      },
      async lift(login) {
        if (!byAccount) return false;
        const blocked = (await this.blockedFor(login)) !== null;
        await byAccount.delete(keyOf(SIGN_IN, loginAccount(login)));
        return blocked;
      },
    },

    close: () => store.close(),
  };
}
