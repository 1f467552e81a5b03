import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Once closing starts, requests on kept-alive connections get 503 SHUTTING_DOWN in the error shape (Fastify's
 * own 503 is turned off for that), and answers still in flight end their connection, so the drain does not
 * wait out keep-alive.
 */
async function shutdownGate(fastify: FastifyInstance): Promise<void> {
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
  fastify.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });
}

export default fp(shutdownGate, { name: 'shutdown-gate' });
