import type { Deps, Settings } from '../../core/context.js';
import { CLOCK_TOLERANCE_MS } from './tokens.js';

/** Rows deleted per statement: small enough that no purge holds locks long enough to stall sign-ins. */
const BATCH = 500;

/** How long an ended session is kept after its revocation (its access tokens are refused either way). */
const KEEP_REVOKED_MS = 24 * 3600 * 1000;

type PurgeDeps = Pick<Deps, 'db' | 'clock'> & { config: Pick<Settings, 'auditRetentionSeconds'> };

/**
 * Deletes revocation rows whose token has expired anyway, sessions that expired or ended a day ago, expired
 * sign-in challenges, WebAuthn ceremonies and mailed links, and audit
 * events older than AUDIT_RETENTION (none when it is 0). "Expired" means past `exp` plus the clock tolerance,
 * since verification accepts a token that long: a revocation purged at `exp` would let a logged-out token
 * work again for those seconds. Works in small batches (select ids, then delete them: portable to MySQL and
 * SQLite, neither of which takes LIMIT in every DELETE form). Safe to run from every instance at once.
 */
export async function purgeExpired(deps: PurgeDeps): Promise<{
  sessions: number;
  revokedTokens: number;
  mfaChallenges: number;
  ceremonies: number;
  emailTokens: number;
  auditEvents: number;
}> {
  const { db } = deps;
  const now = deps.clock();
  const expiredBefore = now - CLOCK_TOLERANCE_MS;
  const sessions = await inBatches(
    () =>
      db
        .selectFrom('sessions')
        .select('sid as id')
        .where((eb) => eb.or([eb('expires_at', '<', expiredBefore), eb('revoked_at', '<', now - KEEP_REVOKED_MS)]))
        .limit(BATCH)
        .execute(),
    (ids) => db.deleteFrom('sessions').where('sid', 'in', ids).executeTakeFirst(),
  );
  const revokedTokens = await inBatches(
    () =>
      db
        .selectFrom('revoked_tokens')
        .select('jti as id')
        .where('expires_at', '<', expiredBefore)
        .limit(BATCH)
        .execute(),
    (ids) => db.deleteFrom('revoked_tokens').where('jti', 'in', ids).executeTakeFirst(),
  );
  const mfaChallenges = await inBatches(
    () => db.selectFrom('mfa_challenges').select('id').where('expires_at', '<', now).limit(BATCH).execute(),
    (ids) => db.deleteFrom('mfa_challenges').where('id', 'in', ids).executeTakeFirst(),
  );
  const ceremonies = await inBatches(
    () => db.selectFrom('webauthn_ceremonies').select('id').where('expires_at', '<', now).limit(BATCH).execute(),
    (ids) => db.deleteFrom('webauthn_ceremonies').where('id', 'in', ids).executeTakeFirst(),
  );
  const emailTokens = await inBatches(
    () => db.selectFrom('email_tokens').select('id').where('expires_at', '<', now).limit(BATCH).execute(),
    (ids) => db.deleteFrom('email_tokens').where('id', 'in', ids).executeTakeFirst(),
  );
  const retentionMs = deps.config.auditRetentionSeconds * 1000;
  const auditEvents =
    retentionMs === 0
      ? 0
      : await inBatches(
          () =>
            db
              .selectFrom('audit_events')
              .select('id')
              .where('at', '<', now - retentionMs)
              .limit(BATCH)
              .execute(),
          (ids) => db.deleteFrom('audit_events').where('id', 'in', ids).executeTakeFirst(),
        );
  return { sessions, revokedTokens, mfaChallenges, ceremonies, emailTokens, auditEvents };
}

/** Selects a batch of ids, deletes them, and again until a batch comes back short; returns how many went. */
async function inBatches<Id extends string | number>(
  select: () => Promise<{ id: Id }[]>,
  remove: (ids: Id[]) => Promise<{ numDeletedRows: bigint }>,
): Promise<number> {
  let deleted = 0;
  for (;;) {
    const ids = (await select()).map((row) => row.id);
    if (ids.length > 0) deleted += Number((await remove(ids)).numDeletedRows);
    if (ids.length < BATCH) return deleted;
  }
}

/** Runs the purge every `intervalSeconds` (0: never), off the request path; a failed run is logged and retried next time. */
export function schedulePurge(
  deps: PurgeDeps & { inFlight: { track<T>(run: () => Promise<T>): Promise<T> } },
  intervalSeconds: number,
  log: { info(obj: object, msg: string): void; error(obj: object, msg: string): void },
): () => void {
  if (intervalSeconds <= 0) return () => {};
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    if (running !== undefined) return;
    // Tracked like a request, so shutdown lets a purge finish before it closes the database.
    running = deps.inFlight
      .track(() => purgeExpired(deps))
      .then(
        (counts) => {
          if (Object.values(counts).some((n) => n > 0)) {
            log.info(counts, 'purged expired sessions, revocations, sign-in challenges and old audit events');
          }
        },
        (err: unknown) => log.error({ err }, 'purge failed'),
      )
      .finally(() => {
        running = undefined;
      });
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
