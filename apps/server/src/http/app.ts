import { randomUUID } from 'node:crypto';
import { operationNames, operations } from '@api-users/contract';
import { type ConnectOptions, connect, type DatabaseHandle, migrateToLatest } from '@api-users/db';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import type { Config } from '../config.js';
import type { Deps, PasswordHasher } from '../core/context.js';
import { createDeviceTokens } from '../modules/auth/device-tokens.js';
import { startFailedLoginFloor } from '../modules/auth/failed-login-floor.js';
import { createKeyRing } from '../modules/auth/keys.js';
import { createPasswordHasher } from '../modules/auth/passwords.js';
import { schedulePurge } from '../modules/auth/purge.js';
import { createTokenService } from '../modules/auth/tokens.js';
import { createMailer } from '../modules/email/mailer.js';
import { deliveryBacklog, startWebhookDelivery } from '../modules/webhooks/delivery.js';
import { DASHBOARD_PATH, registerDashboard } from './adapters/dashboard.js';
import { registerJwks } from './adapters/jwks.js';
import { DOCS_PREFIX, OPENAPI_PATH, registerOpenApi } from './adapters/openapi.js';
import { registerRestRoutes } from './adapters/rest.js';
import { registerTrpc, TRPC_MAX_PATH_LENGTH } from './adapters/trpc.js';
import { answerClientError } from './errors.js';
import type { Runtime } from './execute.js';
import { InFlight } from './in-flight.js';
import { loggerOptions, logRequestLine } from './logging.js';
import { createMetrics, listenMetrics, type Metrics, registerMetricsRoute } from './metrics.js';
import bodyEncoding from './plugins/body-encoding.js';
import errorHandlers, { answerFrameworkError } from './plugins/error-handlers.js';
import health from './plugins/health.js';
import { home } from './plugins/home.js';
import securityHeaders from './plugins/security-headers.js';
import shutdownGate from './plugins/shutdown-gate.js';
import { createRateLimiter } from './rate-limit.js';

export interface AppOptions {
  /** Another hasher, e.g. with other argon2 parameters; the app closes it when it closes. */
  passwords?: PasswordHasher;
  /** Where log lines go instead of stdout (tests read them back). */
  logStream?: NodeJS.WritableStream;
  /** Extra session statements for MySQL connections (tests switch server modes on with them). */
  database?: Pick<ConnectOptions, 'sessionStatements'>;
  /** The time the handlers see, epoch ms (tests move it: expiries, authenticator time steps). */
  clock?: () => number;
}

export interface App {
  fastify: FastifyInstance;
  database: DatabaseHandle;
  deps: Deps;
  /** From now on /readyz answers 503 (a load balancer takes the instance out); requests are still served. */
  startDraining(): void;
}

/** Composition root: opens the database, applies migrations and wires the plugins and both transports onto one Fastify. */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const { timeouts } = config;
  // Readable lines for a person at a terminal (development's default); JSON, one object a line, everywhere else.
  const prettyLogs = options.logStream === undefined && config.logFormat === 'pretty';
  const fastify = Fastify({
    logger: loggerOptions(config.logLevel, options.logStream ?? (prettyLogs ? 'pretty' : undefined)),
    // Pretty logs write one line per request themselves (logRequestLine); JSON logs keep pino's two objects.
    logController: new LogController({ disableRequestLogging: prettyLogs }),
    bodyLimit: config.bodyLimit,
    genReqId: () => randomUUID(),
    // While closing, requests on kept-alive connections get the shutdown gate's 503, in the error shape.
    return503OnClosing: false,
    trustProxy: config.trustProxy,
    clientErrorHandler: answerClientError,
    frameworkErrors: answerFrameworkError,
    forceCloseConnections: 'idle',
    // A full tRPC batch fits in one path parameter; anything longer is a 414 in the error shape.
    routerOptions: { maxParamLength: TRPC_MAX_PATH_LENGTH },
    requestTimeout: timeouts.request * 1000,
    connectionTimeout: timeouts.connection * 1000,
    keepAliveTimeout: timeouts.keepAlive * 1000,
    // Node checks the header and request deadlines every 30 s by default, which would let them run 30 s late.
    http: { headersTimeout: timeouts.headers * 1000, connectionsCheckingInterval: 1000 },
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
  if (config.trustProxy === true) {
    fastify.log.warn(
      'TRUST_PROXY=true takes the client address from the left end of X-Forwarded-For, which any client writes: ' +
        'per-address rate limits count what it says. Set the addresses or CIDRs of your proxies instead.',
    );
  }
  const passwords = options.passwords ?? createPasswordHasher();
  const metricsOn = config.metrics.token !== undefined || config.metrics.port !== undefined;
  const metrics: Metrics | undefined = metricsOn
    ? createMetrics({
        poolUse: () => database.poolUse(),
        hashesQueued: () => passwords.queued?.() ?? 0,
        webhookBacklog: () => deliveryBacklog(database.db),
      })
    : undefined;
  const database = connect(config.databaseUrl, {
    poolSize: config.dbPoolSize,
    statementTimeoutSeconds: config.dbStatementTimeoutSeconds,
    ...(metrics ? { onQuery: metrics.query } : {}),
    ...options.database,
  });
  const inFlight = new InFlight();
  fastify.addHook('onClose', async () => {
    await inFlight.idle();
    await Promise.all([database.db.destroy(), passwords.close()]);
  });
  await migrateToLatest(database.db);
  const failedLogins = await startFailedLoginFloor(database.db, (err) =>
    fastify.log.error({ err }, 'cannot check for legacy password hashes; keeping the last answer'),
  );
  fastify.addHook('onClose', async () => failedLogins.stop());
  if (failedLogins.ms > 0) {
    fastify.log.info(`imported werkzeug hashes are stored: failed logins are answered after ${failedLogins.ms} ms`);
  }
  const rateLimiter = await createRateLimiter(
    config.rateLimit,
    keys.derivedSecret('rate-limit keys'),
    { url: config.databaseUrl, poolSize: config.dbPoolSize },
    (err) => fastify.log.error({ err }, 'rate-limit store unavailable; not limiting'),
  );
  fastify.addHook('onClose', () => rateLimiter.close());

  const { issuer, audience } = config.jwt;
  const later = (task: () => Promise<void>): void => {
    void inFlight.track(task).catch((err: unknown) => fastify.log.error({ err }, 'a task after the answer failed'));
  };
  const mailer = createMailer(config.mail, fastify.log, later);
  fastify.addHook('onClose', async () => mailer.close());
  const deps: Deps = {
    db: database.db,
    clock: options.clock ?? Date.now,
    tokens: createTokenService(keys, { ...config, issuer, audience }),
    passwords,
    failedLogins,
    devices: createDeviceTokens(keys.derivedSecret('device tokens')),
    signInLimits: rateLimiter.signInLimits,
    mailer,
    later,
    config,
  };
  const runtime: Runtime = { deps, rateLimiter, inFlight, log: fastify.log, ...(metrics ? { metrics } : {}) };

  if (config.corsOrigins.length > 0) {
    await fastify.register(cors, {
      origin: config.corsOrigins,
      // tRPC's GET and POST, and every method of a REST operation in the table (PATCH included).
      methods: [...new Set(['GET', 'POST', ...operationNames.map((name) => operations[name].method)])],
      allowedHeaders: ['authorization', 'content-type'],
      exposedHeaders: ['www-authenticate', 'retry-after', 'x-request-id'],
      maxAge: 600,
    });
  }
  if (prettyLogs) {
    fastify.addHook('onResponse', (req, reply, done) => {
      logRequestLine(req, reply.statusCode, reply.elapsedTime);
      done();
    });
  }
  // JSON only: a text/plain body is answered 415 instead of reaching validation as a string.
  fastify.removeContentTypeParser('text/plain');
  await fastify.register(shutdownGate);
  await fastify.register(bodyEncoding);
  await fastify.register(securityHeaders);
  await fastify.register(errorHandlers);
  let draining = false;
  await fastify.register(health, { db: database.db, draining: () => draining });

  const stopPurge = schedulePurge({ ...deps, inFlight }, config.purgeIntervalSeconds, fastify.log);
  fastify.addHook('onClose', async () => stopPurge());
  const stopDelivery = startWebhookDelivery({ ...deps, inFlight }, config.webhooks, fastify.log);
  fastify.addHook('onClose', async () => stopDelivery());

  registerRestRoutes(fastify, runtime);
  registerJwks(fastify, keys);
  if (metrics && config.metrics.token !== undefined) registerMetricsRoute(fastify, metrics, config.metrics.token);
  if (metrics && config.metrics.port !== undefined) {
    const server = await listenMetrics(metrics, { ...config.metrics, port: config.metrics.port, host: config.host });
    fastify.addHook('onClose', async () => {
      await new Promise((resolve) => server.close(resolve));
    });
  }
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
  await registerTrpc(fastify, runtime, (err) => fastify.log.error({ err }, 'tRPC request failed'));
  const startDraining = () => {
    draining = true;
  };
  return { fastify, database, deps, startDraining };
}
