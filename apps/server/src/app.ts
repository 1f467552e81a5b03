import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { type ConnectOptions, connect, type DatabaseHandle, migrateToLatest } from '@api-users/db';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { DASHBOARD_PATH, registerDashboard } from './adapters/dashboard.js';
import { registerJwks } from './adapters/jwks.js';
import { DOCS_PREFIX, OPENAPI_PATH, registerOpenApi } from './adapters/openapi.js';
import { registerRestRoutes } from './adapters/rest.js';
import { registerTrpc } from './adapters/trpc.js';
import type { Config } from './config.js';
import type { Deps } from './deps.js';
import { answerClientError, describeError } from './errors.js';
import { InFlight } from './in-flight.js';
import { startFailedLoginFloor } from './modules/auth/failed-login-floor.js';
import { createKeyRing } from './modules/auth/keys.js';
import { createPasswordHasher, type PasswordHasher } from './modules/auth/passwords.js';
import { schedulePurge } from './modules/auth/purge.js';
import { createTokenService } from './modules/auth/tokens.js';
import { home } from './plugins/home.js';
import { createRateLimiter, memoryStore, redisStore } from './rate-limit.js';

/** By path: pino loads a transport in a worker, from where pnpm's strict layout would not find it by name. */
const PINO_PRETTY = fileURLToPath(import.meta.resolve('pino-pretty'));

/**
 * The OWASP REST headers for JSON answers: nothing to render, nothing to frame, nothing to cache (token
 * answers must not be stored, RFC 6749 §5.1).
 */
const API_SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

export interface AppOptions {
  /** Another hasher, e.g. with other argon2 parameters; the app closes it when it closes. */
  passwords?: PasswordHasher;
  /** Where log lines go instead of stdout (tests read them back). */
  logStream?: NodeJS.WritableStream;
  /** Extra session statements for MySQL connections (tests switch server modes on with them). */
  database?: Pick<ConnectOptions, 'sessionStatements'>;
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
      // Readable lines for a person at a terminal; JSON, one object a line, everywhere else.
      ...(config.env === 'development' && !options.logStream ? { transport: { target: PINO_PRETTY } } : {}),
    },
    bodyLimit: config.bodyLimit,
    genReqId: () => randomUUID(),
    // While closing, requests on kept-alive connections get our own 503 (below), in the error shape.
    return503OnClosing: false,
    trustProxy: config.trustProxy,
    clientErrorHandler: answerClientError,
    forceCloseConnections: 'idle',
  });
  const keys = await createKeyRing(config.jwt);
  if (keys.developmentKey) {
    const { path, created } = keys.developmentKey;
    fastify.log.warn(
      `No JWT_SIGNING_KEY or JWT_SECRET: signing with the development Ed25519 key ` +
        `${created ? 'just made in' : 'kept in'} ${path}${created ? ' (mode 0600)' : ''}. ` +
        'Configure a key for anything but local development.',
    );
  }
  const database = connect(config.databaseUrl, {
    poolSize: config.dbPoolSize,
    statementTimeoutSeconds: config.dbStatementTimeoutSeconds,
    ...options.database,
  });
  const inFlight = new InFlight();
  const passwords = options.passwords ?? createPasswordHasher();
  fastify.addHook('onClose', async () => {
    await inFlight.idle();
    await Promise.all([database.db.destroy(), passwords.close()]);
  });
  const rateLimitStore =
    config.rateLimit.store === 'redis'
      ? redisStore(config.rateLimit.redisUrl, config.rateLimit.redisPrefix)
      : memoryStore();
  fastify.addHook('onClose', () => rateLimitStore.close());
  await migrateToLatest(database.db);
  const failedLogins = await startFailedLoginFloor(database.db, (err) =>
    fastify.log.error({ err }, 'cannot check for legacy password hashes; keeping the last answer'),
  );
  fastify.addHook('onClose', async () => failedLogins.stop());
  if (failedLogins.ms > 0) {
    fastify.log.info(`imported werkzeug hashes are stored: failed logins are answered after ${failedLogins.ms} ms`);
  }

  const deps: Deps = {
    db: database.db,
    clock: Date.now,
    tokens: createTokenService(keys, config),
    passwords,
    failedLogins,
    rateLimiter: createRateLimiter(rateLimitStore, config.rateLimit, (err) =>
      fastify.log.error({ err }, 'rate-limit store unavailable; not limiting'),
    ),
    inFlight,
    config,
  };

  if (config.corsOrigins.length > 0) {
    await fastify.register(cors, {
      origin: config.corsOrigins,
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['authorization', 'content-type'],
      exposedHeaders: ['www-authenticate', 'retry-after', 'x-request-id'],
      maxAge: 600,
    });
  }

  // JSON only: a text/plain body is answered 415 instead of reaching validation as a string.
  fastify.removeContentTypeParser('text/plain');
  let closing = false;
  fastify.addHook('preClose', async () => {
    closing = true;
  });
  fastify.addHook('onRequest', async (_req, reply) => {
    if (closing) {
      return reply
        .code(503)
        .header('connection', 'close')
        .send({ code: 'SHUTTING_DOWN', msg: 'This instance is shutting down; retry the request' });
    }
  });
  fastify.addHook('onSend', async (req, reply) => {
    reply.header('x-request-id', req.id);
    // Pages (/docs, /dashboard) carry helmet's headers; every other answer is JSON and gets the fixed set.
    if (!reply.hasHeader('content-security-policy')) reply.headers(API_SECURITY_HEADERS);
    // Answers still in flight when closing starts end their connection, so the drain does not wait out keep-alive.
    if (closing) reply.header('connection', 'close');
  });
  fastify.setErrorHandler((err, req, reply) => {
    const { status, body, headers, internal } = describeError(err);
    if (internal) req.log.error({ err }, 'request failed');
    return reply.code(status).headers(headers).send(body);
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

  const stopPurge = schedulePurge(deps, config.purgeIntervalSeconds, fastify.log);
  fastify.addHook('onClose', async () => stopPurge());

  registerRestRoutes(fastify, deps);
  registerJwks(fastify, keys);
  let servesDashboard = false;
  // biome-ignore lint/nursery/noMisusedPromises: Fastify awaits a plugin's promise (an async plugin is its documented form)
  await fastify.register(async (pages) => {
    // helmet works out its headers on every request, which costs an API answer a third of its throughput;
    // only the HTML pages need its full policy. Swagger UI and the dashboard load everything from this origin.
    await pages.register(helmet, {
      contentSecurityPolicy: {
        directives: { 'img-src': ["'self'", 'data:'], 'style-src': ["'self'", "'unsafe-inline'"] },
      },
    });
    await registerOpenApi(pages);
    servesDashboard = await registerDashboard(pages);
  });
  // biome-ignore lint/nursery/noMisusedPromises: Fastify awaits a plugin's promise (an async plugin is its documented form)
  await fastify.register(home, {
    links: { docs: DOCS_PREFIX, openapi: OPENAPI_PATH, ...(servesDashboard ? { dashboard: DASHBOARD_PATH } : {}) },
  });
  await registerTrpc(fastify, deps, (err) => fastify.log.error({ err }, 'tRPC request failed'));
  return { fastify, database, deps };
}
