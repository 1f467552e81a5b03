import { type ClientRequest, request } from 'node:http';
import { REST_PREFIX } from '@api-users/contract';
import { connect } from '@api-users/db';
import { sql } from 'kysely';
import { describe, expect, inject, it, onTestFinished } from 'vitest';
import { type ServerProcess, spawnServer } from '../../../test-support/spawn-server.js';
import { purgeExpired } from '../src/modules/auth/purge.js';
import { CLOCK_TOLERANCE_MS } from '../src/modules/auth/tokens.js';
import { createTestDatabase, describeEachDatabase, rowCounts } from './support/databases.js';
import { FaultyProxy } from './support/faulty-proxy.js';
import { call, restClient } from './support/http.js';
import { startServer, uniqueLogin } from './support/server.js';
import { claimsOf } from './support/tokens.js';

const mysqlUrl = inject('mysqlServerUrl');

describe.skipIf(mysqlUrl === null)('database outage [mysql]', () => {
  it('answers 503 DB_UNAVAILABLE quickly while MySQL is away, goes unready, and recovers by itself', async () => {
    const database = await createTestDatabase('mysql');
    const url = new URL(database.url);
    const proxy = await FaultyProxy.start({ host: url.hostname, port: Number(url.port || 3306) });
    url.host = `127.0.0.1:${proxy.port}`;
    const server = await startServer(url.toString());
    try {
      const api = restClient(server.url);
      const { user, tokens } = await api.signUp(uniqueLogin('outage'));
      const byId = () => api.call('GET', `/users/${user.id_user}`, { token: tokens.access_token });
      expect((await byId()).status).toBe(200);

      await proxy.cut();
      const started = Date.now();
      for (const res of [await byId(), await api.login(user.login, 'a fine long password')]) {
        expect(res.status).toBe(503);
        expect(res.body.code).toBe('DB_UNAVAILABLE');
      }
      expect(Date.now() - started).toBeLessThan(5000);
      const ready = await call(server.url, 'GET', '/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.code).toBe('DB_UNAVAILABLE');
      expect((await call(server.url, 'GET', '/healthz')).status).toBe(200);

      await proxy.restore();
      expect((await call(server.url, 'GET', '/readyz')).status).toBe(200);
      expect((await byId()).status).toBe(200);
      expect((await api.login(user.login, 'a fine long password')).status).toBe(200);
    } finally {
      await proxy.restore();
      await server.close();
      await database.drop();
    }
  });
});

/** A login whose body never finishes arriving: in flight for as long as the test keeps it open. */
function stuckRequest(server: ServerProcess): Promise<ClientRequest> {
  const req = request(`${server.url}${REST_PREFIX}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-length': '100' },
  });
  req.on('error', () => {});
  req.write('{"login":');
  return new Promise((resolve) => req.once('socket', () => resolve(req)));
}

/** Waits until the server has received `n` requests: from then on they are in flight. */
const receivedRequests = (server: ServerProcess, n: number) => server.logged('"incoming request"', n);

describe('graceful shutdown', () => {
  it('drains in-flight requests on SIGTERM, refuses new ones, and exits 0', async () => {
    const database = await createTestDatabase('sqlite');
    const server = await spawnServer({ DATABASE_URL: database.url });
    try {
      const api = restClient(server.url);
      const login = uniqueLogin('drain');
      await api.signUp(login);
      // Logins hash with argon2 (tens of ms each), so these are still running when the signal arrives.
      const inFlight = Array.from({ length: 40 }, () => api.login(login, 'a fine long password'));
      await receivedRequests(server, 42);
      const signalledAt = Date.now();
      server.child.kill('SIGTERM');
      await server.logged('SIGTERM: draining requests');
      // A request that arrives while draining is refused: no connection, or a 503 in the error shape.
      const late = await fetch(`${server.url}${REST_PREFIX}/users`).then(
        async (r) => `${r.status} ${((await r.json()) as { code: string }).code}`,
        () => 'refused',
      );
      expect(['refused', '503 SHUTTING_DOWN']).toContain(late);
      const replies = await Promise.all(inFlight);
      expect(replies.map((r) => r.status)).toEqual(replies.map(() => 200));
      expect(await server.exited).toBe(0);
      expect(Date.now() - signalledAt).toBeLessThan(10_000);
      await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    } finally {
      server.child.kill('SIGKILL');
      await database.drop();
    }
  });

  it('answers /readyz 503 for SHUTDOWN_DELAY after SIGTERM while still serving, then drains and exits 0', async () => {
    const database = await createTestDatabase('sqlite');
    const server = await spawnServer({ DATABASE_URL: database.url, SHUTDOWN_DELAY: '2' });
    try {
      expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
      const signalledAt = Date.now();
      server.child.kill('SIGTERM');
      await server.logged('/readyz answers 503');
      // The load balancer's health check sees the instance leave; requests it still sends are served.
      const ready = await fetch(`${server.url}/readyz`);
      expect([ready.status, ((await ready.json()) as { code: string }).code]).toEqual([503, 'SHUTTING_DOWN']);
      expect((await fetch(`${server.url}${REST_PREFIX}/setup`)).status).toBe(200);
      expect(await server.exited).toBe(0);
      expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(2000);
      expect(server.output()).toContain('SIGTERM: draining requests');
    } finally {
      server.child.kill('SIGKILL');
      await database.drop();
    }
  });

  it('exits 1 at once on a second SIGTERM, or when draining outlasts SHUTDOWN_TIMEOUT', async () => {
    const database = await createTestDatabase('sqlite');
    for (const second of [true, false]) {
      const server = await spawnServer({ DATABASE_URL: database.url, SHUTDOWN_TIMEOUT: '1' });
      const stuck = await stuckRequest(server);
      try {
        await receivedRequests(server, 2);
        server.child.kill('SIGTERM');
        await server.logged('SIGTERM: draining requests');
        const from = Date.now();
        if (second) server.child.kill('SIGTERM');
        expect(await server.exited).toBe(1);
        expect(Date.now() - from).toBeLessThan(second ? 1000 : 3000);
        expect(server.output()).toContain(second ? 'SIGTERM again: exiting now' : 'shutdown timed out');
      } finally {
        stuck.destroy();
        server.child.kill('SIGKILL');
      }
    }
    await database.drop();
  });

  it('refuses to start, in one line, when a migration cannot be applied', async () => {
    const database = await createTestDatabase('sqlite');
    onTestFinished(() => database.drop());
    const { db } = connect(database.url);
    await sql`create table users (id integer primary key)`.execute(db);
    await db.destroy();
    await expect(spawnServer({ DATABASE_URL: database.url })).rejects.toThrow(
      /\nCannot start: table "users" already exists\n?$/,
    );
  });

  it('refuses to start, in one line, when the database cannot be reached', async () => {
    await expect(spawnServer({ DATABASE_URL: 'mysql://root@127.0.0.1:1/test' })).rejects.toThrow(
      /Cannot start: connect ECONNREFUSED 127\.0\.0\.1:1\n?$/,
    );
  });
});

/** Purges that keep every audit event (AUDIT_RETENTION=0). */
const keepAudit = { auditRetentionSeconds: 0 };

describeEachDatabase('purge of expired rows', (dialect) => {
  it('deletes expired revocations and ended sessions in batches, and keeps live ones', async () => {
    const database = await createTestDatabase(dialect);
    const server = await startServer(database.url);
    const { db } = connect(database.url);
    try {
      const api = restClient(server.url);
      const { user, tokens } = await api.signUp(uniqueLogin('purge'));
      const now = Date.now();
      const day = 24 * 3600 * 1000;
      const session = (i: number, expires_at: number, revoked_at: number | null) => ({
        sid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        user_id: user.id_user,
        refresh_ref: `ref-${i}`,
        created_at: now - 40 * day,
        expires_at,
        revoked_at,
      });
      // 1,200 expired sessions (more than one batch), 3 ended two days ago, 1 ended just now.
      const rows = Array.from({ length: 1200 }, (_, i) => session(i, now - day, null));
      rows.push(session(5000, now + day, now - 2 * day), session(5001, now + day, now - 2 * day));
      rows.push(session(5002, now + day, now - 2 * day), session(5003, now + day, now - 1000));
      for (let i = 0; i < rows.length; i += 400)
        await db
          .insertInto('sessions')
          .values(rows.slice(i, i + 400))
          .execute();
      await db
        .insertInto('revoked_tokens')
        .values([
          { jti: 'expired-1', expires_at: now - 60_000 },
          { jti: 'expired-2', expires_at: now - 60_000 },
          { jti: 'live-1', expires_at: now + 60_000 },
        ])
        .execute();
      // Sign-in challenges: one expired, one still open.
      const challenge = (id: string, expires_at: number) => ({
        id,
        digest: 'x'.repeat(64),
        user_id: user.id_user,
        credentials_version: 0,
        device_id: null,
        expires_at,
        used_at: null,
      });
      await db
        .insertInto('mfa_challenges')
        .values([
          challenge('00000000-0000-4000-8000-000000000001', now - 1000),
          challenge('00000000-0000-4000-8000-000000000002', now + 60_000),
        ])
        .execute();

      expect(await purgeExpired({ db, clock: Date.now, config: keepAudit })).toEqual({
        sessions: 1203,
        revokedTokens: 2,
        mfaChallenges: 1,
        ceremonies: 0,
        emailTokens: 0,
        auditEvents: 0,
      });
      expect(await rowCounts(database.url)).toMatchObject({ mfa_challenges: 1 });
      // Left: the live login session, the session ended just now, and the unexpired revocation.
      expect(await rowCounts(database.url)).toMatchObject({ sessions: 2, revoked_tokens: 1 });
      expect((await api.call('GET', '/users', { token: tokens.access_token })).status).toBe(200);
    } finally {
      await db.destroy();
      await server.close();
      await database.drop();
    }
  });

  it('keeps a revocation and a session until past their expiry plus the clock tolerance', async () => {
    const database = await createTestDatabase(dialect);
    const server = await startServer(database.url);
    const { db } = connect(database.url);
    try {
      const api = restClient(server.url);
      const { tokens } = await api.signUp(uniqueLogin('tolerance'));
      expect((await api.call('DELETE', '/logout', { token: tokens.access_token })).status).toBe(200);
      const { exp, sid } = claimsOf(tokens.access_token);
      const session = await db
        .selectFrom('sessions')
        .select('expires_at')
        .where('sid', '=', sid)
        .executeTakeFirstOrThrow();
      // Verification still accepts the token for the tolerance past exp: a purge then must not forget its revocation.
      const justAfter = (ms: number) => ({ db, clock: () => ms + CLOCK_TOLERANCE_MS - 1000, config: keepAudit });
      const wellAfter = (ms: number) => ({ db, clock: () => ms + CLOCK_TOLERANCE_MS + 1000, config: keepAudit });
      const none = { sessions: 0, revokedTokens: 0, mfaChallenges: 0, ceremonies: 0, emailTokens: 0, auditEvents: 0 };
      expect(await purgeExpired(justAfter(exp * 1000))).toEqual(none);
      expect(await purgeExpired(wellAfter(exp * 1000))).toEqual({ ...none, revokedTokens: 1 });
      expect(await purgeExpired(justAfter(Number(session.expires_at)))).toEqual(none);
      expect(await purgeExpired(wellAfter(Number(session.expires_at)))).toEqual({ ...none, sessions: 1 });
    } finally {
      await db.destroy();
      await server.close();
      await database.drop();
    }
  });

  it('deletes audit events older than AUDIT_RETENTION in batches, and keeps the rest', async () => {
    const database = await createTestDatabase(dialect);
    const server = await startServer(database.url);
    const { db } = connect(database.url);
    try {
      const now = Date.now();
      const day = 24 * 3600 * 1000;
      const event = (at: number) => ({ at, type: 'login_failed', detail: 'unknown_login' });
      // 1,200 events 31 days old (more than one batch), 2 from 29 days ago.
      const rows = [
        ...Array.from({ length: 1200 }, () => event(now - 31 * day)),
        event(now - 29 * day),
        event(now - 29 * day),
      ];
      for (let i = 0; i < rows.length; i += 400)
        await db
          .insertInto('audit_events')
          .values(rows.slice(i, i + 400))
          .execute();
      const before = (await rowCounts(database.url)).audit_events ?? 0;
      const purge = (seconds: number) =>
        purgeExpired({ db, clock: () => now, config: { auditRetentionSeconds: seconds } });
      expect((await purge(0)).auditEvents).toBe(0);
      expect((await purge(30 * 86400)).auditEvents).toBe(1200);
      expect((await rowCounts(database.url)).audit_events).toBe(before - 1200);
      expect((await purge(28 * 86400)).auditEvents).toBe(2);
    } finally {
      await db.destroy();
      await server.close();
      await database.drop();
    }
  });

  it('runs on a schedule inside the server', async () => {
    const database = await createTestDatabase(dialect);
    const server = await startServer(database.url, { PURGE_INTERVAL: '1' });
    const { db } = connect(database.url);
    try {
      await db
        .insertInto('revoked_tokens')
        .values({ jti: 'old', expires_at: Date.now() - 60_000 })
        .execute();
      for (let i = 0; i < 50 && (await rowCounts(database.url)).revoked_tokens !== 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect((await rowCounts(database.url)).revoked_tokens).toBe(0);
      expect(
        server.logs.some((l) =>
          l.includes('purged expired sessions, revocations, sign-in challenges and old audit events'),
        ),
      ).toBe(true);
    } finally {
      await db.destroy();
      await server.close();
      await database.drop();
    }
  });
});
