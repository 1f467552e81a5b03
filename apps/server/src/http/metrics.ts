import { timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { isMfaRequired, type Operation, type OperationName, operations, type SignIn } from '@api-users/contract';
import type { PoolUse } from '@api-users/db';
import type { FastifyInstance } from 'fastify';
import type { LogEvent } from 'kysely';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { refuse } from '../core/errors.js';
import { describeError } from './errors.js';

const METRICS_PATH = '/metrics';

/** Seconds: from a cached read (sub-millisecond) to an argon2 sign-in under load. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * What the app counts, in a registry of its own (two apps in one process, as in tests, do not share counters).
 * Every label value is one of a fixed set (operation names from the table, route patterns, status codes, error
 * codes, statement kinds): nothing a client sends becomes a label, so no client can grow the series or read
 * another's input back.
 */
export interface Metrics {
  readonly registry: Registry;
  /** One operation run over either transport, with its answer's status and error code (none on success). */
  operation(name: OperationName, seconds: number, status: number, code: string | undefined, result: unknown): void;
  /** A statement as kysely reports it. */
  query(event: LogEvent): void;
}

export interface MetricsSources {
  poolUse(): PoolUse | undefined;
  /** Password hashes waiting for a hashing thread. */
  hashesQueued(): number;
  /** Webhook deliveries pending and given up (read from the database at each scrape). */
  webhookBacklog(): Promise<{ pending: number; failed: number }>;
}

/** A statement's kind from kysely's query node (`SelectQueryNode` → select); raw SQL is `raw`. */
const statementKind = (event: LogEvent): string => {
  const kind = event.query.query.kind;
  return kind.endsWith('QueryNode') ? kind.slice(0, -'QueryNode'.length).toLowerCase() : 'raw';
};

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  // Process CPU, memory, file descriptors, GC, and event loop lag (nodejs_eventloop_lag_*).
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const operationsTotal = new Counter({
    name: 'api_users_operations_total',
    help: 'Operations run, over REST and tRPC, by operation and answer status',
    labelNames: ['operation', 'status'],
    registers,
  });
  const operationSeconds = new Histogram({
    name: 'api_users_operation_duration_seconds',
    help: 'Time to run an operation (validation, checks, handler, output), by operation and answer status',
    labelNames: ['operation', 'status'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const signIns = new Counter({
    name: 'api_users_sign_ins_total',
    help: 'Sign-in attempts by outcome: signed_in, mfa_required, or the error code refusing it',
    labelNames: ['operation', 'outcome'],
    registers,
  });
  const rateLimited = new Counter({
    name: 'api_users_rate_limit_refusals_total',
    help: 'Requests refused by a rate limit, by operation',
    labelNames: ['operation'],
    registers,
  });
  const statementSeconds = new Histogram({
    name: 'api_users_db_statement_duration_seconds',
    help: 'Database statement time by kind (select, insert, update, delete, raw) and outcome',
    labelNames: ['kind', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  new Gauge({
    name: 'api_users_db_pool_connections',
    help: 'Database pool: connections in use, requests waiting for one, and the most it opens (none on SQLite)',
    labelNames: ['state'],
    registers,
    collect() {
      const use = sources.poolUse();
      if (!use) return;
      this.set({ state: 'in_use' }, use.inUse);
      this.set({ state: 'waiting' }, use.waiting);
      this.set({ state: 'max' }, use.max);
    },
  });
  new Gauge({
    name: 'api_users_password_hashes_queued',
    help: 'Password hashes (sign-ins, password changes) waiting for an argon2 thread',
    registers,
    collect() {
      this.set(sources.hashesQueued());
    },
  });
  new Gauge({
    name: 'api_users_webhook_deliveries',
    help: 'Webhook deliveries by state: pending (to send or to try again) and failed (given up after a day)',
    labelNames: ['state'],
    registers,
    async collect() {
      const backlog = await sources.webhookBacklog();
      this.set({ state: 'pending' }, backlog.pending);
      this.set({ state: 'failed' }, backlog.failed);
    },
  });
  return {
    registry,
    operation(name, seconds, status, code, result) {
      const labels = { operation: name, status: String(status) };
      operationsTotal.inc(labels);
      operationSeconds.observe(labels, seconds);
      if (code === 'RATE_LIMITED') rateLimited.inc({ operation: name });
      if ((operations[name] as Operation).signsIn) {
        // A sign-in operation's output is a SignIn (a pair, or a second-factor challenge) when it succeeded.
        const outcome = code ?? (isMfaRequired(result as SignIn) ? 'mfa_required' : 'signed_in');
        signIns.inc({ operation: name, outcome });
      }
    },
    query(event) {
      statementSeconds.observe(
        { kind: statementKind(event), outcome: event.level === 'error' ? 'error' : 'ok' },
        event.queryDurationMillis / 1000,
      );
    },
  };
}

/** Whether `header` is `Bearer <token>`, compared in constant time. */
function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^bearer (.+)$/i.exec(header ?? '');
  const given = Buffer.from(match?.[1] ?? '');
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * GET /metrics on the API's own port, behind METRICS_TOKEN. A wrong or missing token answers 401 in the error
 * shape, the same whatever was sent.
 */
export function registerMetricsRoute(fastify: FastifyInstance, metrics: Metrics, token: string): void {
  fastify.get(METRICS_PATH, async (request, reply) => {
    if (!bearerMatches(request.headers.authorization, token)) throw refuse('metricsTokenRequired');
    return reply
      .type(metrics.registry.contentType)
      .header('cache-control', 'no-store')
      .send(await metrics.registry.metrics());
  });
}

/**
 * METRICS_PORT: /metrics on a port of its own, with no API on it, for a network only Prometheus reaches (the
 * token is still asked when set). A plain node:http server: there is one route and nothing to validate.
 */
export async function listenMetrics(
  metrics: Metrics,
  settings: { port: number; host: string; token?: string },
): Promise<Server> {
  const server = createServer((request, response) => {
    const answer = (status: number, headers: Record<string, string>, body: string) => {
      response.writeHead(status, { 'cache-control': 'no-store', ...headers }).end(body);
    };
    const refusal = (err: unknown) => {
      const { status, body, headers } = describeError(err);
      answer(status, { 'content-type': 'application/json; charset=utf-8', ...headers }, JSON.stringify(body));
    };
    const path = (request.url ?? '').split('?')[0];
    if (path !== METRICS_PATH) return refusal(refuse('noRoute'));
    if (request.method !== 'GET') return refusal(refuse('wrongMethod'));
    if (settings.token !== undefined && !bearerMatches(request.headers.authorization, settings.token)) {
      return refusal(refuse('metricsTokenRequired'));
    }
    metrics.registry.metrics().then(
      (text) => answer(200, { 'content-type': metrics.registry.contentType }, text),
      (err: unknown) => refusal(err),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  return server;
}
