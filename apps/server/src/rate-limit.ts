import { Redis } from 'ioredis';
import { AppError } from './errors.js';

/** Fixed-window counters: `hit` counts one attempt under `key` and says how many the window holds so far. */
export interface RateLimitStore {
  hit(key: string, windowMs: number): Promise<{ count: number; resetInMs: number }>;
  close(): Promise<void>;
}

export interface RateLimitSettings {
  windowSeconds: number;
  /** Attempts per window from one client address, per operation; 0 turns the check off. */
  perAddress: number;
  /** Attempts per window at one login (login and register); 0 turns the check off. */
  perLogin: number;
}

/** In-process counters: right for one instance; several instances should share Redis. */
export function memoryStore(clock: () => number = Date.now): RateLimitStore {
  const windows = new Map<string, { count: number; resetAt: number }>();
  let lastSweep = clock();
  return {
    async hit(key, windowMs) {
      const now = clock();
      if (now - lastSweep > windowMs) {
        // Drop finished windows now and then, so memory stays bounded by the keys of one window.
        for (const [k, w] of windows) if (w.resetAt <= now) windows.delete(k);
        lastSweep = now;
      }
      let w = windows.get(key);
      if (!w || w.resetAt <= now) {
        w = { count: 0, resetAt: now + windowMs };
        windows.set(key, w);
      }
      w.count++;
      return { count: w.count, resetInMs: w.resetAt - now };
    },
    async close() {
      windows.clear();
    },
  };
}

/** Counters in Redis, shared by every instance: INCR, with the expiry set by the window's first hit. */
export function redisStore(url: string, keyPrefix: string): RateLimitStore {
  const redis = new Redis(url, { keyPrefix, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  // Connection problems surface per hit (and are logged there); this only keeps ioredis from crashing the process.
  redis.on('error', () => {});
  return {
    async hit(key, windowMs) {
      const results = await redis.multi().incr(key).pexpire(key, windowMs, 'NX').pttl(key).exec();
      const count = Number(results?.[0]?.[1]);
      const ttl = Number(results?.[2]?.[1]);
      return { count, resetInMs: ttl > 0 ? ttl : windowMs };
    },
    async close() {
      redis.disconnect();
    },
  };
}

export interface RateLimiter {
  /** Counts an attempt under `key`; throws RATE_LIMITED (with a retry delay) past `limit` (0: no limit). */
  check(key: string, limit: number): Promise<void>;
}

export function createRateLimiter(
  store: RateLimitStore,
  settings: RateLimitSettings,
  onStoreError: (err: unknown) => void,
): RateLimiter {
  const windowMs = settings.windowSeconds * 1000;
  return {
    async check(key, limit) {
      if (limit <= 0) return;
      let hit: { count: number; resetInMs: number };
      try {
        hit = await store.hit(`rl:${key}`, windowMs);
      } catch (err) {
        // Fail open: an unreachable counter store must not lock every user out of signing in.
        onStoreError(err);
        return;
      }
      if (hit.count > limit) {
        const retryAfter = Math.max(1, Math.ceil(hit.resetInMs / 1000));
        throw new AppError('RATE_LIMITED', `Too many attempts; try again in ${retryAfter} s`, undefined, retryAfter);
      }
    },
  };
}
