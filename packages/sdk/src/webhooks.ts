import type { WebhookEventType } from '@api-users/contract';
import { Webhook } from 'standardwebhooks';

/** An event as the API sends it: its type, when, and who did it to which account. Never a secret. */
export interface WebhookEvent {
  type: WebhookEventType;
  timestamp: string;
  data: { actor_id: number | null; target_id?: number | null; session_id?: string | null; detail?: string | null };
}

/**
 * Checks a webhook the API sent to your service (Standard Webhooks): the `webhook-signature` against your
 * endpoint's secret (`whsec_…`), over the raw body as received, and a `webhook-timestamp` within five minutes.
 * Answers the event; throws for anything else (a forged or altered body, an old replay, a wrong secret). Keep
 * the `webhook-id` of each event handled to drop the duplicates at-least-once delivery can bring.
 */
export function verifyWebhook(
  secret: string,
  rawBody: string | Uint8Array,
  headers: Record<string, string | string[] | undefined>,
): WebhookEvent {
  const flat = Object.fromEntries(
    Object.entries(headers).map(([name, value]) => [
      name.toLowerCase(),
      Array.isArray(value) ? value.join(', ') : (value ?? ''),
    ]),
  );
  // The library checked the signature over these very bytes: what it parsed is what the API sent.
  return new Webhook(secret).verify(rawBody, flat) as WebhookEvent;
}
