import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { refusalBody } from '../../core/errors.js';

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
  // Callback hooks, not async ones: they run on every request, and a promise each is measurable (bench/README.md).
  fastify.addHook('onRequest', (_req, reply, done) => {
    if (!closing) return done();
    reply.code(503).header('connection', 'close').send(refusalBody('shuttingDown'));
  });
  fastify.addHook('onSend', (_req, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });
}

export default fp(shutdownGate, { name: 'shutdown-gate' });
