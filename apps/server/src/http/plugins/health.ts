import type { Database } from '@api-users/db';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type Kysely, sql } from 'kysely';
import { refusalBody } from '../../core/errors.js';

interface HealthOptions {
  db: Kysely<Database>;
  /** True once shutdown has begun: a load balancer should stop sending requests here. */
  draining: () => boolean;
}

/** `/healthz` answers while the process runs; `/readyz` only while the database answers and no shutdown has begun. */
async function health(fastify: FastifyInstance, { db, draining }: HealthOptions): Promise<void> {
  fastify.get('/healthz', async () => ({ status: 'ok' }));
  fastify.get('/readyz', async (_req, reply) => {
    if (draining()) {
      return reply.code(503).send(refusalBody('shuttingDown'));
    }
    try {
      await sql`select 1`.execute(db);
      return { status: 'ok' };
    } catch {
      return reply.code(503).send(refusalBody('dbUnavailable'));
    }
  });
}

export default fp(health, { name: 'health' });
