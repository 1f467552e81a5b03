import { randomBytes } from 'node:crypto';
import { parseOptions } from '@node-rs/argon2';
import type { PasswordHasher } from '../../core/context.js';
import { Argon2Pool } from './argon2-pool.js';
import { isLegacyHash, verifyLegacyHash } from './legacy-hashes.js';

export interface Argon2Params {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/** OWASP Password Storage Cheat Sheet: argon2id, 19 MiB, 2 iterations, 1 lane. */
export const OWASP_ARGON2: Argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

/** The numeric value of @node-rs/argon2's const enum Algorithm.Argon2id (const enums cannot cross module bounds). */
const ARGON2ID = 2;

/** Hashing threads: as many as libuv's default pool, which argon2's own async functions would use. */
const HASHING_THREADS = 4;

export function createPasswordHasher(params: Argon2Params = OWASP_ARGON2): PasswordHasher {
  const options = { ...params, algorithm: ARGON2ID };
  const pool = new Argon2Pool(HASHING_THREADS);
  const hash = (password: string) => pool.hash(password, options);
  // Made at once, so the first unknown login takes no longer than any other.
  const dummy = hash(randomBytes(18).toString('base64'));
  return {
    hash,
    async verify(stored, password) {
      if (stored !== null && isLegacyHash(stored)) return verifyLegacyHash(stored, password);
      // No account, or one with no usable hash (the import's marker): the same work as a wrong password.
      if (stored === null || !stored.startsWith('$argon2')) {
        await pool.verify(await dummy, password);
        return false;
      }
      try {
        return await pool.verify(stored, password);
      } catch {
        return false;
      }
    },
    needsRehash(stored) {
      try {
        const p = parseOptions(stored);
        return (
          p.algorithm !== ARGON2ID ||
          p.memoryCost !== params.memoryCost ||
          p.timeCost !== params.timeCost ||
          p.parallelism !== params.parallelism
        );
      } catch {
        return true;
      }
    },
    close: () => pool.close(),
    queued: () => pool.queueSize,
  };
}
