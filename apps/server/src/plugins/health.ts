import type { Database } from '@api-users/db';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type Kysely, sql } from 'kysely';

/** `/healthz` answers while the process runs; `/readyz` only while the database answers too. */
async function health(fastify: FastifyInstance, { db }: { db: Kysely<Database> }): Promise<void> {
  fastify.get('/healthz', async () => ({ status: 'ok' }));
  fastify.get('/readyz', async (_req, reply) => {
    try {
      await sql`select 1`.execute(db);
      return { status: 'ok' };
    } catch {
      return reply.code(503).send({ code: 'DB_UNAVAILABLE', msg: 'The database is unavailable' });
    }
  });
}

export default fp(health, { name: 'health' });
