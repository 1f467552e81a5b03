import { randomUUID } from 'node:crypto';
import { connect, type DatabaseHandle, migrateToLatest } from '@api-users/db';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { registerRestRoutes } from './adapters/rest.js';
import { registerTrpc } from './adapters/trpc.js';
import type { Config } from './config.js';
import type { Deps } from './deps.js';
import { describeError, wwwAuthenticate } from './errors.js';
import { createPasswordHasher, type PasswordHasher } from './modules/auth/passwords.js';
import { createTokenService } from './modules/auth/tokens.js';

export interface AppOptions {
  /** Another hasher, e.g. with other argon2 parameters. */
  passwords?: PasswordHasher;
  /** Test hook: a clock other than Date.now. */
  clock?: () => number;
  /** Where log lines go instead of stdout (tests read them back). */
  logStream?: NodeJS.WritableStream;
}

export interface App {
  fastify: FastifyInstance;
  database: DatabaseHandle;
  deps: Deps;
}

/** Composition root: opens the database, applies migrations and wires both transports onto one Fastify. */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const fastify = Fastify({
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    bodyLimit: config.bodyLimit,
    genReqId: () => randomUUID(),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  const database = connect(config.databaseUrl, { poolSize: config.dbPoolSize });
  fastify.addHook('onClose', () => database.db.destroy());
  await migrateToLatest(database.db);

  const deps: Deps = {
    db: database.db,
    clock: options.clock ?? Date.now,
    tokens: createTokenService(config),
    passwords: options.passwords ?? createPasswordHasher(),
    config,
  };

  // JSON only: a text/plain body is answered 415 instead of reaching validation as a string.
  fastify.removeContentTypeParser('text/plain');
  fastify.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
  });
  fastify.setErrorHandler((err, req, reply) => {
    const { status, body, internal } = describeError(err);
    if (internal) req.log.error({ err }, 'request failed');
    const challenge = wwwAuthenticate(body.code);
    if (challenge) reply.header('www-authenticate', challenge);
    return reply.code(status).send(body);
  });
  fastify.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ code: 'NOT_FOUND', msg: `No route ${req.method} ${req.url.split('?')[0]}` }),
  );

  fastify.get('/healthz', async () => ({ status: 'ok' }));
  fastify.get('/readyz', async (_req, reply) => {
    try {
      await sql`select 1`.execute(database.db);
      return { status: 'ok' };
    } catch {
      return reply.code(503).send({ code: 'DB_UNAVAILABLE', msg: 'The database is unavailable' });
    }
  });

  registerRestRoutes(fastify, deps);
  await registerTrpc(fastify, deps, (err) => fastify.log.error({ err }, 'tRPC request failed'));
  return { fastify, database, deps };
}
