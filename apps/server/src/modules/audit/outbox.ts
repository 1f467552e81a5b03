import { randomUUID } from 'node:crypto';
import type { AuditEventType, WebhookEventType } from '@api-users/contract';
import type { Database } from '@api-users/db';
import type { Kysely } from 'kysely';

/** The audit events other services are told of, as the webhook event each is. */
const EVENT_OF: Partial<Record<AuditEventType, WebhookEventType>> = {
  register: 'user.created',
  renamed: 'user.updated',
  role_changed: 'user.updated',
  disabled: 'user.updated',
  enabled: 'user.updated',
  deleted: 'user.deleted',
  password_changed: 'password.changed',
  password_set: 'password.changed',
  password_reset: 'password.reset',
  login: 'session.created',
  logout2: 'session.ended',
  session_ended: 'session.ended',
  refresh_reused: 'refresh.reuse_detected',
  mfa_enabled: 'mfa.enabled',
  mfa_disabled: 'mfa.disabled',
  mfa_removed: 'mfa.disabled',
  email_verified: 'email.verified',
};

export interface OutboxEvent {
  type: AuditEventType;
  actorId: number | null;
  targetId: number | null;
  sessionId: string | null;
  detail: string | null;
}

/**
 * The transactional outbox: an event other services are told of becomes one delivery row per endpoint that
 * wants it, written with `db`, the transaction of the change (audit.ts's `record`), so a change that rolls back
 * sends nothing and one that commits is delivered however the process ends. The payload names the event, its
 * time, actor and target: what the audit row holds, never a secret.
 */
export async function enqueueWebhooks(db: Kysely<Database>, now: number, event: OutboxEvent): Promise<void> {
  const type = EVENT_OF[event.type];
  if (type === undefined) return;
  const endpoints = await db
    .selectFrom('webhook_endpoints')
    .select(['id', 'event_types'])
    .where('enabled', '=', 1)
    .execute();
  const wanted = endpoints.filter((e) => e.event_types === '*' || e.event_types.split(',').includes(type));
  if (wanted.length === 0) return;
  const data = {
    actor_id: event.actorId,
    target_id: event.targetId,
    session_id: event.sessionId,
    detail: event.detail,
  };
  await queueDeliveries(
    db,
    now,
    type,
    data,
    wanted.map((endpoint) => endpoint.id),
  );
}

/** One message (one webhook-id, one body) queued for each endpoint, due now. */
export async function queueDeliveries(
  db: Kysely<Database>,
  now: number,
  type: WebhookEventType,
  data: Record<string, unknown>,
  endpointIds: string[],
): Promise<void> {
  const payload = JSON.stringify({ type, timestamp: new Date(now).toISOString(), data });
  const message_id = `msg_${randomUUID()}`;
  await db
    .insertInto('webhook_deliveries')
    .values(
      endpointIds.map((endpoint_id) => ({
        message_id,
        endpoint_id,
        event_type: type,
        payload,
        created_at: now,
        status: 'pending',
        attempts: 0,
        next_attempt_at: now,
      })),
    )
    .execute();
}
