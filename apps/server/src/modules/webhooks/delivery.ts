import { type Database, isMysql, isPostgres } from '@api-users/db';
import type { Kysely } from 'kysely';
import { Webhook } from 'standardwebhooks';
import { postWebhook } from './send.js';

export interface DeliverySettings {
  /** How often each instance looks for due deliveries; 0 turns delivery off. */
  pollIntervalMs: number;
  timeoutMs: number;
  allowPrivate: boolean;
}

/** Seconds from one failed attempt to the next (Standard Webhooks' schedule), then ten hours until a day has gone. */
const BACKOFF_SECONDS = [5, 300, 1800, 7200, 18_000, 36_000];
/** A delivery is given up a day after its event. */
const GIVE_UP_AFTER_MS = 24 * 3600_000;
const BATCH = 20;

/** The wait before attempt `attempts + 1`, ±10% so that many failed deliveries do not all come back at once. */
function backoffMs(attempts: number, random = Math.random): number {
  const base = (BACKOFF_SECONDS[Math.min(attempts - 1, BACKOFF_SECONDS.length - 1)] ?? 36_000) * 1000;
  return Math.round(base * (0.9 + 0.2 * random()));
}

/**
 * Claims due deliveries for this instance: pending, due, and not held by another. On MySQL and PostgreSQL the rows are locked
 * with SKIP LOCKED, so instances claiming at once take different rows; SQLite has one writer at a time anyway.
 * The claim is a lease: an instance that dies mid-send leaves rows another takes once it runs out.
 */
async function claim(db: Kysely<Database>, now: number, leaseMs: number): Promise<number[]> {
  return db.transaction().execute(async (trx) => {
    let due = trx
      .selectFrom('webhook_deliveries')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]))
      .orderBy('next_attempt_at')
      .limit(BATCH);
    if (isMysql(trx) || isPostgres(trx)) due = due.forUpdate().skipLocked();
    const ids = (await due.execute()).map((row) => Number(row.id));
    if (ids.length > 0) {
      await trx
        .updateTable('webhook_deliveries')
        .set({ lease_until: now + leaseMs })
        .where('id', 'in', ids)
        .execute();
    }
    return ids;
  });
}

/** One attempt at one delivery, and what it left: delivered, tried again later, or given up. */
async function attempt(db: Kysely<Database>, id: number, clock: () => number, settings: DeliverySettings) {
  const row = await db
    .selectFrom('webhook_deliveries')
    .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'webhook_deliveries.endpoint_id')
    .select([
      'webhook_deliveries.message_id',
      'webhook_deliveries.payload',
      'webhook_deliveries.attempts',
      'webhook_deliveries.created_at',
      'webhook_endpoints.url',
      'webhook_endpoints.secret',
      'webhook_endpoints.previous_secret',
      'webhook_endpoints.previous_secret_until',
      'webhook_endpoints.enabled',
    ])
    .where('webhook_deliveries.id', '=', id)
    .executeTakeFirst();
  if (!row) return;
  const now = clock();
  if (!row.enabled) {
    // A disabled endpoint keeps its events until it is enabled again (or removed).
    await db
      .updateTable('webhook_deliveries')
      .set({ lease_until: null, next_attempt_at: now + 60_000 })
      .where('id', '=', id)
      .execute();
    return;
  }
  const timestamp = new Date(now);
  // Within a rotation's grace period the old secret signs too: Standard Webhooks lists signatures space-separated.
  const secrets = [row.secret];
  if (row.previous_secret !== null && Number(row.previous_secret_until) > now) secrets.push(row.previous_secret);
  const signature = secrets.map((secret) => new Webhook(secret).sign(row.message_id, timestamp, row.payload)).join(' ');
  const headers = {
    'webhook-id': row.message_id,
    'webhook-timestamp': String(Math.floor(now / 1000)),
    'webhook-signature': signature,
  };
  const attempts = row.attempts + 1;
  let outcome: { status: number | null; latencyMs: number | null; error: string | null };
  try {
    const sent = await postWebhook(new URL(row.url), headers, row.payload, settings);
    outcome = {
      status: sent.status,
      latencyMs: sent.latencyMs,
      error: sent.status < 300 ? null : `HTTP ${sent.status}`,
    };
  } catch (err) {
    outcome = {
      status: null,
      latencyMs: null,
      error: (err instanceof Error ? err.message : String(err)).slice(0, 200),
    };
  }
  const done = clock();
  const delivered = outcome.error === null;
  const next = done + backoffMs(attempts);
  const givenUp = !delivered && next > Number(row.created_at) + GIVE_UP_AFTER_MS;
  await db
    .updateTable('webhook_deliveries')
    .set({
      status: delivered ? 'delivered' : givenUp ? 'failed' : 'pending',
      attempts,
      next_attempt_at: delivered || givenUp ? done : next,
      lease_until: null,
      last_status: outcome.status,
      last_error: outcome.error,
      last_latency_ms: outcome.latencyMs,
      delivered_at: delivered ? done : null,
    })
    .where('id', '=', id)
    .execute();
}

/** Deliveries waiting to be sent (or tried again) and given up, for metrics: the index on status serves it. */
export async function deliveryBacklog(db: Kysely<Database>): Promise<{ pending: number; failed: number }> {
  const rows = await db
    .selectFrom('webhook_deliveries')
    .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
    .where('status', 'in', ['pending', 'failed'])
    .groupBy('status')
    .execute();
  const count = (status: string) => Number(rows.find((row) => row.status === status)?.n ?? 0);
  return { pending: count('pending'), failed: count('failed') };
}

/**
 * The delivery loop of this instance: every `pollIntervalMs`, claim what is due and send it, one tick at a
 * time (tracked, so shutdown waits for a send under way). At least once: a row is marked only after its
 * attempt, so a crash in between sends it again, with the same webhook-id.
 */
export function startWebhookDelivery(
  deps: { db: Kysely<Database>; clock: () => number; inFlight: { track<T>(run: () => Promise<T>): Promise<T> } },
  settings: DeliverySettings,
  log: { error(obj: object, msg: string): void },
): () => void {
  if (settings.pollIntervalMs <= 0) return () => {};
  let running = false;
  const tick = async () => {
    // Held twice as long as an attempt may take: a row claimed by an instance that died is free again soon after.
    const ids = await claim(deps.db, deps.clock(), settings.timeoutMs * 2);
    await Promise.all(ids.map((id) => attempt(deps.db, id, deps.clock, settings)));
  };
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    deps.inFlight
      .track(tick)
      .catch((err: unknown) => log.error({ err }, 'webhook delivery failed; trying again next tick'))
      .finally(() => {
        running = false;
      });
  }, settings.pollIntervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
