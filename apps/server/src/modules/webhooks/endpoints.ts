import { randomBytes, randomUUID } from 'node:crypto';
import type { WebhookEventType } from '@api-users/contract';
import type { Database } from '@api-users/db';
import type { Kysely, Selectable } from 'kysely';
import type { Handler } from '../../core/context.js';
import { AppError, refuse } from '../../core/errors.js';
import { pageOf } from '../paging.js';
import { assertReachable, RefusedTarget } from './send.js';

type EndpointRow = Selectable<Database['webhook_endpoints']>;

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

const toEndpoint = (row: EndpointRow) => ({
  id: row.id,
  url: row.url,
  event_types: row.event_types.split(','),
  enabled: Number(row.enabled) === 1,
  description: row.description,
  created_at: iso(row.created_at) as string,
});

const noSuchWebhook = (id: string) => new AppError('NOT_FOUND', `No webhook endpoint with id ${id}`);

/** A URL refused as a target, next to the field. */
const refuseUrl = (message: string) => refuse('invalidRequest', [{ path: 'url', message }]);

/**
 * Checked when it is added (and again at each delivery, at connect time): https in production, and an address
 * that is not loopback, private, link-local or metadata, unless WEBHOOK_ALLOW_PRIVATE.
 */
export const createWebhook: Handler<'createWebhook'> = async (ctx, input) => {
  const url = new URL(input.url);
  const { requireHttps, allowPrivate } = ctx.config.webhooks;
  if (requireHttps && url.protocol !== 'https:') throw refuseUrl('Must be https');
  if (url.username || url.password) throw refuseUrl('Must not carry credentials');
  try {
    await assertReachable(url, allowPrivate);
  } catch (err) {
    const why =
      err instanceof RefusedTarget ? 'it is a private, loopback or link-local address' : 'its name does not resolve';
    throw refuseUrl(`Refused: ${why}`);
  }
  const types = input.event_types.includes('*') ? ['*'] : [...new Set<WebhookEventType | '*'>(input.event_types)];
  const row: EndpointRow = {
    id: randomUUID(),
    url: url.href,
    event_types: types.join(','),
    enabled: input.enabled === false ? 0 : 1,
    // Standard Webhooks' form: whsec_ and 24 random bytes, base64.
    secret: `whsec_${randomBytes(24).toString('base64')}`,
    description: input.description ?? '',
    created_at: ctx.clock(),
  };
  await ctx.db.insertInto('webhook_endpoints').values(row).execute();
  return { ...toEndpoint(row), secret: row.secret };
};

export const listWebhooks: Handler<'listWebhooks'> = async (ctx) => ({
  items: (await ctx.db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at').orderBy('id').execute()).map(
    toEndpoint,
  ),
});

export const deleteWebhook: Handler<'deleteWebhook'> = async (ctx, input) => {
  const removed = await ctx.db.deleteFrom('webhook_endpoints').where('id', '=', input.id).executeTakeFirst();
  if (removed.numDeletedRows !== 1n) throw noSuchWebhook(input.id);
  return { msg: `Webhook endpoint ${input.id} removed` };
};

async function assertWebhookExists(db: Kysely<Database>, id: string): Promise<void> {
  const row = await db.selectFrom('webhook_endpoints').select('id').where('id', '=', id).executeTakeFirst();
  if (!row) throw noSuchWebhook(id);
}

export const listWebhookDeliveries: Handler<'listWebhookDeliveries'> = async (ctx, input) => {
  await assertWebhookExists(ctx.db, input.id);
  let query = ctx.db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('endpoint_id', '=', input.id)
    .orderBy('id', 'desc')
    .limit(input.limit + 1);
  if (input.cursor) query = query.where('id', '<', Number(input.cursor));
  return pageOf(
    await query.execute(),
    input.limit,
    (row) => ({
      id: Number(row.id),
      message_id: row.message_id,
      // The column holds only what outbox.ts wrote, which the contract's type checked.
      event_type: row.event_type as WebhookEventType,
      status: row.status as 'pending' | 'delivered' | 'failed',
      attempts: row.attempts,
      next_attempt_at: row.status === 'pending' ? iso(row.next_attempt_at) : null,
      last_status: row.last_status,
      last_error: row.last_error,
      last_latency_ms: row.last_latency_ms,
      created_at: iso(row.created_at) as string,
      delivered_at: iso(row.delivered_at),
    }),
    (row) => String(row.id),
  );
};
