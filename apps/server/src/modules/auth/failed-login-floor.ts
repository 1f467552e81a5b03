import type { Database } from '@api-users/db';
import type { Kysely } from 'kysely';
import type { FailedLoginFloor } from '../../core/context.js';
import { slowestLegacyVerifyMs } from './legacy-hashes.js';

// A wrong password against an imported werkzeug hash costs a pbkdf2 or scrypt run (tens to hundreds of ms)
// where any other failed login costs one argon2 verify (about 14 ms). While any imported hash is still
// stored, every failed login is therefore answered no sooner than a floor set above the dearest legacy
// verification this service accepts, measured on this machine at start: how long a refusal took then says
// nothing about the account. A busy machine slows legacy verifications past that: so the floor also rises
// to 1.25 × the slowest refusal seen lately (each refusal's own time, before any wait), and falls back once
// a minute passes without one. With no legacy hash stored (never imported, or every one replaced at its
// owner's first login) there is no floor and refusals come as fast as argon2 allows.

/** The floor over the calibration run: room for the noise of a busy machine. */
const MARGIN = 1.5;
/** The floor over the slowest refusal seen in the last minute or so. */
const SEEN_MARGIN = 1.25;

/**
 * Imported accounts whose hash is still werkzeug's (the only way one gets into the table). Walks the import's
 * own table, so a database that never imported pays nothing. The prefixes are the two accepted methods.
 */
async function anyLegacyHashStored(db: Kysely<Database>): Promise<boolean> {
  const row = await db
    .selectFrom('flask_import')
    .innerJoin('users', 'users.id_user', 'flask_import.user_id')
    .select('users.id_user')
    .where((eb) =>
      eb.or([eb('users.password_hash', 'like', 'pbkdf2:%'), eb('users.password_hash', 'like', 'scrypt:%')]),
    )
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Checks once before resolving (so the first request already gets the floor it needs), then every
 * `recheckSeconds`; an import into a running database is picked up within that time. A failed check keeps
 * the last answer.
 */
export async function startFailedLoginFloor(
  db: Kysely<Database>,
  onError: (err: unknown) => void,
  recheckSeconds = 60,
): Promise<FailedLoginFloor> {
  let base = 0;
  let calibrated: number | undefined;
  /** The slowest refusal (its own time, before any wait) in this interval and in the one before. */
  let slowestNow = 0;
  let slowestBefore = 0;
  const floor = () => (base === 0 ? 0 : Math.max(base, Math.ceil(SEEN_MARGIN * Math.max(slowestNow, slowestBefore))));
  const refresh = async () => {
    if (await anyLegacyHashStored(db)) {
      calibrated ??= Math.ceil(MARGIN * (await slowestLegacyVerifyMs()));
      base = calibrated;
    } else {
      base = 0;
    }
  };
  await refresh();
  const timer = setInterval(() => {
    slowestBefore = slowestNow;
    slowestNow = 0;
    refresh().catch(onError);
  }, recheckSeconds * 1000);
  timer.unref();
  return {
    get ms() {
      return floor();
    },
    async wait(startedAt) {
      const took = performance.now() - startedAt;
      slowestNow = Math.max(slowestNow, took);
      const until = startedAt + floor();
      // Timers may fire a millisecond early; the floor is a promise of "no sooner".
      while (performance.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, Math.ceil(until - performance.now())));
      }
    },
    refresh,
    stop: () => clearInterval(timer),
  };
}
