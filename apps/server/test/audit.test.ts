import { TRPC_PREFIX } from '@api-users/contract';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase, lastAuditEvent } from './support/databases.js';
import { call, type Reply, restClient } from './support/http.js';
import { type OperationClient, operationClient, transports } from './support/operations.js';
import { isolatedServerForTest, uniqueLogin, useIsolatedServer } from './support/server.js';
import { claimsOf } from './support/tokens.js';

const PASSWORD = 'a fine long password';
const NEW_PASSWORD = 'changed by its owner';
const SET_PASSWORD = 'set by the admin';
const AGENT = 'audit-script/1.0';

interface Expected {
  type: string;
  actor_id: number | null;
  target_id: number | null;
  session_id: string | null;
  detail: string | null;
  request_id: string;
}

describeEachDatabase('audit log', (dialect) => {
  describe.each(transports)('over %s', (transport) => {
    const server = useIsolatedServer(dialect);
    let send: OperationClient;
    beforeAll(() => {
      send = operationClient(server.url, transport);
    });

    it('holds exactly the events of a scripted session, newest first, and no secret', async () => {
      const expected: Expected[] = [];
      const secrets: string[] = [PASSWORD, NEW_PASSWORD, SET_PASSWORD];
      type Event = Pick<Expected, 'type' | 'actor_id' | 'target_id'> & Partial<Pick<Expected, 'detail' | 'session_id'>>;
      /** Sends one step and notes the events it should record (read off its answer where need be). */
      async function step(reply: Promise<Reply>, events: (answer: Reply) => Event[] = () => []): Promise<Reply> {
        const answer = await reply;
        const request_id = answer.headers.get('x-request-id') ?? '';
        for (const event of events(answer)) expected.push({ session_id: null, detail: null, ...event, request_id });
        for (const token of ['access_token', 'refresh_token'])
          if (answer.body?.[token]) secrets.push(answer.body[token]);
        return answer;
      }
      const as = (token: string) => ({ token, headers: { 'user-agent': AGENT } });
      const anonymous = { headers: { 'user-agent': AGENT } };
      const register = (login: string, user_role?: 1) =>
        step(
          send(
            'register',
            { user_name: login, login, password: PASSWORD, ...(user_role ? { user_role } : {}) },
            anonymous,
          ),
          ({ body }) => [{ type: 'register', actor_id: body.id_user, target_id: body.id_user }],
        );
      const sidOf = (reply: Reply): string => claimsOf(reply.body.access_token).sid;
      const login = (name: string, password = PASSWORD) =>
        step(send('login', { login: name, password }, anonymous), (answer) =>
          answer.status === 200
            ? [
                {
                  type: 'login',
                  actor_id: Number(claimsOf(answer.body.access_token).sub),
                  target_id: Number(claimsOf(answer.body.access_token).sub),
                  session_id: sidOf(answer),
                },
              ]
            : [],
        );

      const adminLogin = uniqueLogin('audit.admin');
      const admin = (await register(adminLogin, 1)).body.id_user as number;
      const asAdmin = as((await login(adminLogin)).body.access_token);
      const userLogin = uniqueLogin('audit.user');
      const user = (await register(userLogin)).body.id_user as number;
      const self = { actor_id: user, target_id: user };
      const byAdmin = { actor_id: admin, target_id: user };
      const failed = (detail: string, target_id: number | null) => () => [
        { type: 'login_failed', actor_id: null, target_id, detail },
      ];

      await step(
        send('login', { login: userLogin, password: 'not the password' }, anonymous),
        failed('bad_password', user),
      );
      await step(
        send('login', { login: 'nobody.here.at.all', password: PASSWORD }, anonymous),
        failed('unknown_login', null),
      );
      const s2 = await login(userLogin);
      await step(send('refresh', undefined, as(s2.body.refresh_token)), () => [
        { type: 'refresh', ...self, session_id: sidOf(s2) },
      ]);
      await step(send('refresh', undefined, as(s2.body.refresh_token)), () => [
        { type: 'refresh_reused', ...self, session_id: sidOf(s2) },
      ]);
      const s3 = await login(userLogin);
      const changed = await step(
        send('changePassword', { current_password: PASSWORD, new_password: NEW_PASSWORD }, as(s3.body.access_token)),
        (answer) => [{ type: 'password_changed', ...self, session_id: sidOf(answer) }],
      );
      expect(sidOf(changed)).not.toBe(sidOf(s3));
      await step(send('logout', undefined, as(changed.body.access_token)), () => [
        { type: 'logout', ...self, session_id: sidOf(changed) },
      ]);
      await step(send('logoutRefresh', undefined, as(changed.body.refresh_token)), () => [
        { type: 'logout2', ...self, session_id: sidOf(changed) },
      ]);
      await step(send('updateUser', { id: user, user_role: 1 }, asAdmin), () => [
        { type: 'role_changed', ...byAdmin, detail: 'admin' },
      ]);
      await step(send('updateUser', { id: user, user_role: 2, disabled: true }, asAdmin), () => [
        { type: 'role_changed', ...byAdmin, detail: 'user' },
        { type: 'disabled', ...byAdmin },
      ]);
      await step(send('login', { login: userLogin, password: NEW_PASSWORD }, anonymous), failed('disabled', user));
      await step(send('updateUser', { id: user, disabled: false }, asAdmin), () => [{ type: 'enabled', ...byAdmin }]);
      await step(send('setUserPassword', { id: user, new_password: SET_PASSWORD }, asAdmin), () => [
        { type: 'password_set', ...byAdmin },
      ]);
      const s4 = await login(userLogin, SET_PASSWORD);
      await step(send('endUserSessions', { id: user }, asAdmin), () => [
        { type: 'session_ended', ...byAdmin, session_id: sidOf(s4) },
      ]);
      const s5 = await login(userLogin, SET_PASSWORD);
      await step(send('endMySession', { sid: sidOf(s5) }, as(s5.body.access_token)), () => [
        { type: 'session_ended', ...self, session_id: sidOf(s5) },
      ]);
      await step(send('deleteUser', { id: user }, asAdmin), () => [{ type: 'deleted', ...byAdmin }]);

      const log = await send('listAudit', { limit: 100 }, asAdmin);
      expect(log.status).toBe(200);
      const items = log.body.items as Array<
        Expected & { id: number; at: string; client_address: string; user_agent: string }
      >;
      const recorded = items.map(({ type, actor_id, target_id, session_id, detail, request_id }) => ({
        type,
        actor_id,
        target_id,
        session_id,
        detail,
        request_id,
      }));
      expect(recorded).toEqual([...expected].reverse());
      for (const event of items) {
        expect(event).toMatchObject({
          client_address: '127.0.0.1',
          user_agent: AGENT,
          at: expect.stringMatching(/^\d{4}-/),
        });
      }
      expect(items.map((e) => e.id)).toEqual([...items.map((e) => e.id)].sort((x, y) => y - x));
      const everything = JSON.stringify(items);
      for (const secret of secrets) expect(everything).not.toContain(secret);
      expect(everything).not.toMatch(/\$argon2/);

      // Filters, each newest first.
      const filtered = async (input: Record<string, unknown>) =>
        ((await send('listAudit', { limit: 100, ...input }, asAdmin)).body.items as Expected[]).map((e) => e.type);
      expect(await filtered({ type: 'login_failed' })).toEqual(['login_failed', 'login_failed', 'login_failed']);
      expect(await filtered({ actor_id: admin })).toEqual(items.filter((e) => e.actor_id === admin).map((e) => e.type));
      expect(await filtered({ target_id: user, type: 'role_changed' })).toEqual(['role_changed', 'role_changed']);
      // A page at a time, the same events.
      const paged: number[] = [];
      let cursor: string | null = null;
      do {
        const page: Reply = await send('listAudit', { limit: 7, ...(cursor ? { cursor } : {}) }, asAdmin);
        paged.push(...page.body.items.map((e: { id: number }) => e.id));
        cursor = page.body.next_cursor;
      } while (cursor !== null);
      expect(paged).toEqual(items.map((e) => e.id));
      for (const line of server.logs) for (const secret of secrets) expect(line).not.toContain(secret);
    });
  });

  it('records a run of rate-limited password attempts as one failed sign-in, over REST and tRPC batches', async () => {
    const server = await isolatedServerForTest(dialect, { RATE_LIMIT_FAILURES_PER_ACCOUNT_ADDRESS: '1' });
    const send = operationClient(server.url, 'rest');
    const login = uniqueLogin('limited');
    expect((await send('login', { login, password: 'a wrong password' })).status).toBe(401);
    for (let i = 0; i < 5; i++) expect((await send('login', { login, password: 'a wrong password' })).status).toBe(429);
    // Twenty refused calls in one request: the refusals cost the client nothing, and add nothing more.
    const batch = Object.fromEntries(
      Array.from({ length: 20 }, (_, i) => [i, { login, password: 'a wrong password' }]),
    );
    const paths = Array(20).fill('auth.login').join(',');
    const refused = await call(server.url, 'POST', `${TRPC_PREFIX}/${paths}?batch=1`, { json: batch });
    expect(refused.status).toBe(429);
    const admin = uniqueLogin('limited.admin');
    await send('register', { user_name: 'Admin', login: admin, password: PASSWORD, user_role: 1 });
    const token = (await send('login', { login: admin, password: PASSWORD })).body.access_token;
    const failures = await send('listAudit', { type: 'login_failed' }, { token });
    expect(failures.body.items.map((e: Expected) => e.detail)).toEqual(['rate_limited', 'unknown_login']);
  });
});

describeEachDatabase('client addresses behind a trusted proxy', (dialect) => {
  const server = useIsolatedServer(dialect, { TRUST_PROXY: 'true' });

  it('records any X-Forwarded-For text without failing (cut to its column), and a mapped IPv4 address as IPv4', async () => {
    const from = (address: string) => ({ headers: { 'x-forwarded-for': address } });
    const api = restClient(server.url);
    const login = uniqueLogin('proxied');
    const spoofed = `spoofed-${'x'.repeat(100)}`;
    const registered = await api.call('POST', '/register', {
      json: { user_name: 'Proxied', login, password: PASSWORD },
      ...from(spoofed),
    });
    expect(registered.status).toBe(201);
    expect((await lastAuditEvent(server.database.url))?.client_address).toBe(spoofed.slice(0, 64));
    const signedIn = await api.call('POST', '/login', {
      json: { login, password: PASSWORD },
      ...from('::ffff:10.1.2.3'),
    });
    expect(signedIn.status).toBe(200);
    expect((await lastAuditEvent(server.database.url))?.client_address).toBe('10.1.2.3');
  });

  it('warns at start that TRUST_PROXY=true believes what the client writes', () => {
    expect(server.logs.filter((line) => line.includes('TRUST_PROXY=true takes the client address'))).toHaveLength(1);
  });
});

describeEachDatabase('client addresses behind a proxy named by its address', (dialect) => {
  const server = useIsolatedServer(dialect, { TRUST_PROXY: '127.0.0.1' });

  it('takes the address that proxy saw, not one the client wrote before it, and warns of nothing', async () => {
    const api = restClient(server.url);
    const login = uniqueLogin('hop');
    // The client wrote 6.6.6.6; the proxy (this loopback connection) appended the address it saw.
    const headers = { 'x-forwarded-for': '6.6.6.6, 10.9.8.7' };
    const json = { user_name: 'Hop', login, password: PASSWORD };
    expect((await api.call('POST', '/register', { json, headers })).status).toBe(201);
    expect((await lastAuditEvent(server.database.url))?.client_address).toBe('10.9.8.7');
    expect(server.logs.some((line) => line.includes('TRUST_PROXY=true'))).toBe(false);
  });
});
