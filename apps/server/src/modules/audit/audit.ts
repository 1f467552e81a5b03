import type { AuditEventType } from '@api-users/contract';
import type { Database } from '@api-users/db';
import type { Kysely } from 'kysely';
import type { Client, Handler } from '../../core/context.js';
import { pageOf } from '../paging.js';
import { enqueueWebhooks } from './outbox.js';

/** One event: what happened, who did it to which account, in which session. Never a secret. */
export interface AuditRecord {
  type: AuditEventType;
  actorId?: number | null;
  targetId?: number | null;
  sessionId?: string | null;
  /** A short word that qualifies the type (why a sign-in failed, which role was given). */
  detail?: string | null;
}

/** Where a change came from: a request's client, or a command (the admin CLI) that names itself. */
export type Origin = Partial<Client>;

/**
 * Appends one event, and the webhook deliveries it calls for (outbox.ts). Pass the transaction of the change it
 * records, so they are all written together or not at all.
 */
export async function record(db: Kysely<Database>, now: number, origin: Origin, event: AuditRecord): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      at: now,
      type: event.type,
      actor_id: event.actorId ?? null,
      target_id: event.targetId ?? null,
      session_id: event.sessionId ?? null,
      detail: event.detail ?? null,
      client_address: origin.ip ?? null,
      user_agent: origin.userAgent ?? null,
      request_id: origin.requestId ?? null,
    })
    .execute();
  await enqueueWebhooks(db, now, {
    type: event.type,
    actorId: event.actorId ?? null,
    targetId: event.targetId ?? null,
    sessionId: event.sessionId ?? null,
    detail: event.detail ?? null,
  });
}

/** Newest first, keyset-paged on the id; each filter has an index of its own. */
export const listAudit: Handler<'listAudit'> = async (ctx, input) => {
  let query = ctx.db
    .selectFrom('audit_events')
    .selectAll()
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (input.cursor) query = query.where('id', '<', Number(input.cursor));
  if (input.type) query = query.where('type', '=', input.type);
  if (input.actor_id) query = query.where('actor_id', '=', input.actor_id);
  if (input.target_id) query = query.where('target_id', '=', input.target_id);
  return pageOf(
    await query.execute(),
    input.limit,
    (row) => ({
      id: Number(row.id),
      at: new Date(Number(row.at)).toISOString(),
      // The column holds only what `record` was given, which the contract's type checked.
      type: row.type as AuditEventType,
      actor_id: row.actor_id,
      target_id: row.target_id,
      session_id: row.session_id,
      detail: row.detail,
      client_address: row.client_address,
      user_agent: row.user_agent,
      request_id: row.request_id,
    }),
    (row) => String(row.id),
  );
};
