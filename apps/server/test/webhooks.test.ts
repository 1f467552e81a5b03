import { connect } from '@api-users/db';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startReceiver } from '../../../test-support/receiver.js';
import { freePort, spawnServer } from '../../../test-support/spawn-server.js';
import { createTestDatabase, databaseReader, describeEachDatabase, failingTrigger } from './support/databases.js';
import { restClient } from './support/http.js';
import { enrolTotp } from './support/mfa.js';
import { isolatedServerForTest, mailedToken, uniqueLogin, useIsolatedServer } from './support/server.js';

const PASSWORD = 'events go out';
const DELIVERY = { WEBHOOK_ALLOW_PRIVATE: 'true', WEBHOOK_POLL_INTERVAL: '1' };

type Receiver = Awaited<ReturnType<typeof startReceiver>>;

/** The events a receiver got, each checked against the endpoint's secret as a receiver would (Standard Webhooks). */
function verified(receiver: Receiver, secret: string) {
  const hook = new Webhook(secret);
  return receiver.received.map(({ headers, body }) => {
    hook.verify(body, headers as Record<string, string>);
    return {
      id: headers['webhook-id'] as string,
      ...(JSON.parse(body) as { type: string; data: Record<string, unknown> }),
    };
  });
}

describeEachDatabase('webhooks', (dialect) => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(() => receiver.close());
  const server = useIsolatedServer(dialect, DELIVERY);
  const reader = databaseReader(() => server.database.url);
  let api: ReturnType<typeof restClient>;
  let admin: string;
  beforeAll(async () => {
    api = restClient(server.url);
    admin = (await api.signUp(uniqueLogin('hooks.admin'), PASSWORD, 1)).tokens.access_token;
  });

  const createEndpoint = (json: object, token = admin) => api.call('POST', '/webhooks', { token, json });

  it('sends every event type, signed, once per event, with nothing secret in it', async () => {
    const created = await createEndpoint({ url: receiver.url, event_types: ['*'], description: 'all' });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ url: receiver.url, event_types: ['*'], enabled: true, description: 'all' });
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    expect((await api.call('GET', '/webhooks', { token: admin })).body.items[0]).not.toHaveProperty('secret');
    const before = receiver.received.length;

    const login = uniqueLogin('hooks.user');
    const { user, tokens } = await api.signUp(login, PASSWORD); // user.created, session.created
    const id = user.id_user as number;
    await api.call('PATCH', `/users/${id}`, { token: admin, json: { user_name: 'Renamed' } }); // user.updated
    const changed = await api.call('POST', '/me/password', {
      token: tokens.access_token,
      json: { current_password: PASSWORD, new_password: `${PASSWORD} again` },
    }); // password.changed
    const pair = changed.body;
    await api.call('POST', '/refresh', { token: pair.refresh_token });
    await api.call('POST', '/refresh', { token: pair.refresh_token }); // refresh.reuse_detected
    const again = (await api.login(login, `${PASSWORD} again`)).body;
    await enrolTotp(api, again.access_token, `${PASSWORD} again`); // mfa.enabled
    await api.call('DELETE', `/users/${id}/mfa`, { token: admin }); // mfa.disabled
    const last = (await api.login(login, `${PASSWORD} again`)).body;
    const email = `${login}@example.com`;
    await api.call('POST', '/me/email', { token: last.access_token, json: { email, password: `${PASSWORD} again` } });
    await api.call('POST', '/email/verify', { json: { token: await mailedToken(server.logs, 'verify', email) } }); // email.verified
    await api.call('POST', '/password/forgot', { json: { email } });
    const reset = await mailedToken(server.logs, 'reset', email);
    await api.call('POST', '/password/reset', { json: { token: reset, new_password: `${PASSWORD} reset` } }); // password.reset
    const final = (await api.login(login, `${PASSWORD} reset`)).body; // session.created
    await api.call('DELETE', '/logout2', { token: final.refresh_token }); // session.ended
    await api.call('DELETE', `/users/${id}`, { token: admin }); // user.deleted

    const expected = [
      'user.created',
      'session.created',
      'user.updated',
      'password.changed',
      'refresh.reuse_detected',
      'session.created',
      'mfa.enabled',
      'mfa.disabled',
      'session.created',
      'email.verified',
      'password.reset',
      'session.created',
      'session.ended',
      'user.deleted',
    ];
    await receiver.waitFor(before + expected.length);
    const events = verified(receiver, created.body.secret).slice(before);
    expect(
      events
        .filter((e) => e.data.target_id === id)
        .map((e) => e.type)
        .sort(),
    ).toEqual([...expected].sort());
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const bodies = receiver.received.map((r) => r.body).join('\n');
    for (const secret of [PASSWORD, pair.refresh_token, pair.access_token, 'argon2'])
      expect(bodies).not.toContain(secret);
    // A signature made with another secret is refused, as a receiver would.
    expect(() => verified(receiver, `whsec_${Buffer.alloc(24, 1).toString('base64')}`)).toThrow();
    // The log of deliveries says each was delivered at the first attempt.
    const log = await api.call('GET', `/webhooks/${created.body.id}/deliveries?limit=100`, { token: admin });
    expect(
      log.body.items.every((d: { status: string; attempts: number }) => d.status === 'delivered' && d.attempts === 1),
    ).toBe(true);
    await api.call('DELETE', `/webhooks/${created.body.id}`, { token: admin });
  });

  it('sends nothing for a change that rolled back', async () => {
    const created = await createEndpoint({ url: receiver.url, event_types: ['user.updated'] });
    const { user } = await api.signUp(uniqueLogin('hooks.rollback'), PASSWORD);
    // Disabling ends the account's sessions after its audit event (and outbox row) is written: make that fail.
    const { db } = connect(server.database.url);
    const dropTrigger = await failingTrigger(db, dialect, 'BEFORE UPDATE', 'sessions', 'rolled back by the test');
    try {
      const failed = await api.call('PATCH', `/users/${user.id_user}`, { token: admin, json: { disabled: true } });
      expect(failed.status).toBe(500);
    } finally {
      await dropTrigger();
      await db.destroy();
    }
    const rows = await reader.read((d) =>
      d.selectFrom('webhook_deliveries').select('id').where('endpoint_id', '=', created.body.id).execute(),
    );
    expect(rows).toEqual([]);
    // Renaming commits: it is sent, and it is the only event this endpoint got.
    await api.call('PATCH', `/users/${user.id_user}`, { token: admin, json: { user_name: 'Committed' } });
    const log = async () =>
      (await api.call('GET', `/webhooks/${created.body.id}/deliveries`, { token: admin })).body.items as {
        status: string;
      }[];
    for (let i = 0; i < 100 && (await log()).every((d) => d.status !== 'delivered'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect((await log()).map((d) => d.status)).toEqual(['delivered']);
    await api.call('DELETE', `/webhooks/${created.body.id}`, { token: admin });
  });

  it('sends nothing new to a disabled endpoint, and sends a delivery again with the same webhook-id', async () => {
    const created = await createEndpoint({ url: receiver.url, event_types: ['user.created'] });
    const id = created.body.id;
    await api.call('POST', `/webhooks/${id}/test`, { token: admin });
    const log = async () => (await api.call('GET', `/webhooks/${id}/deliveries`, { token: admin })).body.items;
    for (let i = 0; i < 100 && (await log())[0]?.status !== 'delivered'; i++)
      await new Promise((r) => setTimeout(r, 50));
    const [sent] = await log();
    expect(sent).toMatchObject({ event_type: 'webhook.test', status: 'delivered', attempts: 1, last_status: 204 });
    const before = receiver.received.length;
    expect((await api.call('POST', `/webhooks/${id}/deliveries/${sent.id}/redeliver`, { token: admin })).status).toBe(
      200,
    );
    const [again] = (await receiver.waitFor(before + 1)).slice(before);
    expect(again?.headers['webhook-id']).toBe(sent.message_id);

    expect((await api.call('PATCH', `/webhooks/${id}`, { token: admin, json: { enabled: false } })).body.enabled).toBe(
      false,
    );
    await api.signUp(uniqueLogin('hooks.quiet'), PASSWORD);
    expect((await log()).length).toBe(1);
    await api.call('DELETE', `/webhooks/${id}`, { token: admin });
  });

  it('refuses a target on a private, loopback or metadata address unless allowed', async () => {
    const strict = restClient((await isolatedServerForTest(dialect)).url);
    const token = (await strict.signUp(uniqueLogin('hooks.strict'), PASSWORD, 1)).tokens.access_token;
    for (const url of [
      'http://127.0.0.1:9/x',
      'http://169.254.169.254/latest/meta-data',
      'http://localhost:9/',
      'http://[::1]:9/',
      'http://10.0.0.8/',
    ]) {
      const refused = await strict.call('POST', '/webhooks', { token, json: { url, event_types: ['*'] } });
      expect(refused.status, url).toBe(400);
      expect(refused.body.issues[0]).toMatchObject({ path: 'url', message: expect.stringContaining('Refused') });
    }
    const invalid = await strict.call('POST', '/webhooks', {
      token,
      json: { url: 'ftp://example.com/', event_types: ['*'] },
    });
    expect(invalid.body.code).toBe('VALIDATION_FAILED');
    const plain = (await strict.signUp(uniqueLogin('hooks.plain'), PASSWORD)).tokens.access_token;
    expect((await strict.call('GET', '/webhooks', { token: plain })).status).toBe(403);
  });

  it('tries again on the backoff schedule, with the same webhook-id, until the receiver takes it', async () => {
    // The server's clock moves only when told; it starts behind real time, so the tokens it stamps still verify.
    const clock = { now: Date.now() - 45 * 60_000 };
    const local = await isolatedServerForTest(
      dialect,
      { ...DELIVERY, ACCESS_TOKEN_TTL: '3600' },
      { clock: () => clock.now },
    );
    const retrying = await startReceiver();
    const localApi = restClient(local.url);
    const token = (await localApi.signUp(uniqueLogin('hooks.retry'), PASSWORD, 1)).tokens.access_token;
    await localApi.call('POST', '/webhooks', { token, json: { url: retrying.url, event_types: ['user.created'] } });
    const { db } = connect(local.database.url);
    const delivery = () => db.selectFrom('webhook_deliveries').selectAll().executeTakeFirstOrThrow();
    /** Waits for the delivery's `attempts` to reach `n` (the loop polls every second). */
    const attempted = async (n: number) => {
      for (let i = 0; i < 100 && (await delivery()).attempts < n; i++) await new Promise((r) => setTimeout(r, 50));
      return delivery();
    };
    try {
      retrying.failNext(3);
      await localApi.register({ user_name: 'Retried', login: uniqueLogin('hooks.retried'), password: PASSWORD });
      let row = await attempted(1);
      const waits: number[] = [];
      for (const n of [2, 3, 4]) {
        const wait = Number(row.next_attempt_at) - clock.now;
        waits.push(wait);
        // Just before it is due, nothing is tried; once due, the next attempt goes.
        clock.now = Number(row.next_attempt_at) - 1;
        await new Promise((r) => setTimeout(r, 1500));
        expect((await delivery()).attempts).toBe(n - 1);
        clock.now = Number(row.next_attempt_at);
        row = await attempted(n);
      }
      // 5 s, 5 min, 30 min, each ±10%.
      const schedule = [5_000, 300_000, 1_800_000];
      expect(waits.map((w, i) => Math.abs(w / (schedule[i] ?? 0) - 1) <= 0.1)).toEqual([true, true, true]);
      expect(row).toMatchObject({ status: 'delivered', attempts: 4, last_status: 204 });
      const ids = new Set(retrying.attempts.map((a) => a.headers['webhook-id']));
      expect([retrying.attempts.length, ids.size, retrying.received.length]).toEqual([4, 1, 1]);
    } finally {
      await db.destroy();
      await retrying.close();
    }
  });

  // Not on SQLite: it is one process's database (its claims are serialized by its single writer anyway).
  if (dialect !== 'sqlite')
    it('delivers each event once from two instances on one database', async () => {
      const first = await isolatedServerForTest(dialect, DELIVERY);
      const { startServer } = await import('./support/server.js');
      const second = await startServer(first.database.url, DELIVERY);
      const shared = await startReceiver();
      try {
        const firstApi = restClient(first.url);
        const token = (await firstApi.signUp(uniqueLogin('hooks.two'), PASSWORD, 1)).tokens.access_token;
        await firstApi.call('POST', '/webhooks', { token, json: { url: shared.url, event_types: ['user.created'] } });
        const secondApi = restClient(second.url);
        await Promise.all(
          Array.from({ length: 30 }, (_, i) =>
            (i % 2 ? firstApi : secondApi).register({
              user_name: 'Twin',
              login: uniqueLogin('hooks.twin'),
              password: PASSWORD,
            }),
          ),
        );
        await shared.waitFor(30);
        await new Promise((r) => setTimeout(r, 2500));
        const ids = shared.attempts.map((a) => a.headers['webhook-id']);
        expect([ids.length, new Set(ids).size]).toEqual([30, 30]);
      } finally {
        await second.close();
        await shared.close();
      }
    });

  it('delivers what was pending when the process was killed (kill -9), once it runs again', async () => {
    const database = await createTestDatabase(dialect);
    const port = await freePort();
    // Short attempts, so a delivery the killed process held is free again (its lease: twice that) within seconds.
    const env = { ...DELIVERY, WEBHOOK_TIMEOUT: '2', DATABASE_URL: database.url, PORT: String(port) };
    const down = await startReceiver();
    let server = await spawnServer(env);
    try {
      const local = restClient(server.url);
      const token = (await local.signUp(uniqueLogin('hooks.kill'), PASSWORD, 1)).tokens.access_token;
      await local.call('POST', '/webhooks', { token, json: { url: down.url, event_types: ['user.created'] } });
      down.failNext(1_000);
      for (let i = 0; i < 5; i++) {
        await local.register({ user_name: 'Pending', login: uniqueLogin('hooks.pending'), password: PASSWORD });
      }
      // Each has been tried (and refused) at least once before the process dies.
      for (let i = 0; i < 100 && down.attempts.length < 5; i++) await new Promise((r) => setTimeout(r, 50));
      server.child.kill('SIGKILL');
      await server.exited;
      down.failNext(0);
      server = await spawnServer(env);
      // The first retry is due 5 s after the refusal: then every event arrives, each once.
      const arrived = await down.waitFor(5, 20_000);
      expect(new Set(arrived.map((r) => r.headers['webhook-id'])).size).toBe(5);
    } finally {
      server.child.kill('SIGKILL');
      await server.exited;
      await down.close();
      await database.drop();
    }
  });
});
