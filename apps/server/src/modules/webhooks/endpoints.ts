import { randomBytes, randomUUID } from 'node:crypto';
import type { WebhookEventType } from '@api-users/contract';
import type { Database } from '@api-users/db';
import type { Kysely, Selectable } from 'kysely';
import type { Handler, Settings } from '../../core/context.js';
import { AppError, refuse } from '../../core/errors.js';
import { queueDeliveries } from '../audit/outbox.js';
import { pageOf } from '../paging.js';
import { isoTime, isoTimeOrNull } from '../times.js';
import { assertReachable, RefusedTarget } from './send.js';

type EndpointRow = Selectable<Database['webhook_endpoints']>;

const toEndpoint = (row: EndpointRow) => ({
  id: row.id,
  url: row.url,
  event_types: row.event_types.split(','),
  enabled: Number(row.enabled) === 1,
  description: row.description,
  created_at: isoTime(row.created_at),
});

const noSuchWebhook = (id: string) => new AppError('NOT_FOUND', `No webhook endpoint with id ${id}`);

/** A URL refused as a target, next to the field. */
const refuseUrl = (message: string) => refuse('invalidRequest', [{ path: 'url', message }]);

/**
 * A target URL, checked when it is added or changed (and again at each delivery, at connect time): https in
 * production, no credentials in it, and an address that is not loopback, private, link-local or metadata,
 * unless WEBHOOK_ALLOW_PRIVATE.
 */
async function checkedTarget(settings: Settings['webhooks'], text: string): Promise<string> {
  const url = new URL(text);
  if (settings.requireHttps && url.protocol !== 'https:') throw refuseUrl('Must be https');
  if (url.username || url.password) throw refuseUrl('Must not carry credentials');
  try {
    await assertReachable(url, settings.allowPrivate);
  } catch (err) {
    const why =
      err instanceof RefusedTarget ? 'it is a private, loopback or link-local address' : 'its name does not resolve';
    throw refuseUrl(`Refused: ${why}`);
  }
  return url.href;
}

const typesColumn = (types: readonly (WebhookEventType | '*')[]) =>
  types.includes('*') ? '*' : [...new Set(types)].join(',');

/** Standard Webhooks' form of a secret: whsec_ and 24 random bytes, base64. */
const newSecret = () => `whsec_${randomBytes(24).toString('base64')}`;

/** How long a rotated secret keeps signing beside the new one. */
const ROTATION_GRACE_MS = 24 * 3600_000;

export const createWebhook: Handler<'createWebhook'> = async (ctx, input) => {
  const row: EndpointRow = {
    id: randomUUID(),
    url: await checkedTarget(ctx.config.webhooks, input.url),
    event_types: typesColumn(input.event_types),
    enabled: input.enabled === false ? 0 : 1,
    secret: newSecret(),
    previous_secret: null,
    previous_secret_until: null,
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

async function endpointOf(db: Kysely<Database>, id: string): Promise<EndpointRow> {
  const row = await db.selectFrom('webhook_endpoints').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw noSuchWebhook(id);
  return row;
}

export const updateWebhook: Handler<'updateWebhook'> = async (ctx, input) => {
  const row = await endpointOf(ctx.db, input.id);
  const changed: EndpointRow = {
    ...row,
    ...(input.url === undefined ? {} : { url: await checkedTarget(ctx.config.webhooks, input.url) }),
    ...(input.event_types === undefined ? {} : { event_types: typesColumn(input.event_types) }),
    ...(input.description === undefined ? {} : { description: input.description }),
    ...(input.enabled === undefined ? {} : { enabled: input.enabled ? 1 : 0 }),
  };
  const { url, event_types, description, enabled } = changed;
  await ctx.db
    .updateTable('webhook_endpoints')
    .set({ url, event_types, description, enabled })
    .where('id', '=', row.id)
    .execute();
  return toEndpoint(changed);
};

export const rotateWebhookSecret: Handler<'rotateWebhookSecret'> = async (ctx, input) => {
  const row = await endpointOf(ctx.db, input.id);
  const until = ctx.clock() + ROTATION_GRACE_MS;
  const secret = newSecret();
  await ctx.db
    .updateTable('webhook_endpoints')
    .set({ secret, previous_secret: row.secret, previous_secret_until: until })
    .where('id', '=', row.id)
    .execute();
  return { secret, previous_valid_until: isoTime(until) };
};

export const testWebhook: Handler<'testWebhook'> = async (ctx, input) => {
  const row = await endpointOf(ctx.db, input.id);
  await queueDeliveries(ctx.db, ctx.clock(), 'webhook.test', { actor_id: ctx.caller.userId }, [row.id]);
  return { msg: 'A webhook.test event is on its way' };
};

export const redeliverWebhook: Handler<'redeliverWebhook'> = async (ctx, input) => {
  const requeued = await ctx.db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', next_attempt_at: ctx.clock(), lease_until: null, delivered_at: null })
    .where('id', '=', input.delivery)
    .where('endpoint_id', '=', input.id)
    .executeTakeFirst();
  if (requeued.numUpdatedRows !== 1n) {
    throw new AppError('NOT_FOUND', `Webhook endpoint ${input.id} has no delivery ${input.delivery}`);
  }
  return { msg: `Delivery ${input.delivery} will be sent again` };
};

export const listWebhookDeliveries: Handler<'listWebhookDeliveries'> = async (ctx, input) => {
  await endpointOf(ctx.db, input.id);
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
      next_attempt_at: row.status === 'pending' ? isoTimeOrNull(row.next_attempt_at) : null,
      last_status: row.last_status,
      last_error: row.last_error,
      last_latency_ms: row.last_latency_ms,
      created_at: isoTime(row.created_at),
      delivered_at: isoTimeOrNull(row.delivered_at),
    }),
    (row) => String(row.id),
  );
};
