import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startReceiver } from '../../../test-support/receiver.js';
import { createClient, isMfaRequired } from '../src/index.js';
import { verifyWebhook } from '../src/server.js';
import { adminLogin, apiUrl, PASSWORD } from './support/helpers.js';

describe('verifyWebhook, on what the API really sends', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const admin = createClient({ baseUrl: apiUrl() });
  beforeAll(async () => {
    receiver = await startReceiver();
    const signIn = await admin.auth.login({ login: adminLogin(), password: PASSWORD });
    if (isMfaRequired(signIn)) throw new Error('the test admin has no second factor');
  });
  afterAll(() => receiver.close());

  it('answers the event of a genuine delivery, and refuses an altered, re-signed or stale one', async () => {
    // The SDK's suites share one server and run side by side: subscribe to an event none of them causes, so
    // the test events are all that arrive.
    const hook = await admin.webhooks.create({ url: receiver.url, event_types: ['refresh.reuse_detected'] });
    await admin.webhooks.test({ id: hook.id });
    const [delivery] = await receiver.waitFor(1);
    if (!delivery) throw new Error('no delivery');
    const headers = delivery.headers as Record<string, string>;
    expect(verifyWebhook(hook.secret, delivery.body, headers)).toMatchObject({
      type: 'webhook.test',
      timestamp: expect.any(String),
      data: { actor_id: expect.any(Number) },
    });
    expect(() => verifyWebhook(hook.secret, delivery.body.replace('webhook.test', 'user.deleted'), headers)).toThrow();
    const other = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
    expect(() => verifyWebhook(other, delivery.body, headers)).toThrow();
    const stale = { ...headers, 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 3600) };
    expect(() => verifyWebhook(hook.secret, delivery.body, stale)).toThrow();

    // After a rotation both secrets verify for a while: the receiver moves over without refusing anything.
    const rotated = await admin.webhooks.rotateSecret({ id: hook.id });
    await admin.webhooks.test({ id: hook.id });
    const [, next] = await receiver.waitFor(2);
    if (!next) throw new Error('no second delivery');
    expect(String(next.headers['webhook-signature']).split(' ')).toHaveLength(2);
    for (const secret of [rotated.secret, hook.secret]) {
      expect(verifyWebhook(secret, next.body, next.headers as Record<string, string>).type).toBe('webhook.test');
    }
    await admin.webhooks.remove({ id: hook.id });
  });
});
