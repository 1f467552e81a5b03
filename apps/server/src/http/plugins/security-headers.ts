import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

/**
 * The OWASP REST headers for JSON answers: nothing to render, nothing to frame, nothing to cache (token
 * answers must not be stored, RFC 6749 §5.1).
 * @public imported by bench/tools/handwritten-server.mjs from the build, so the baseline sends the same headers
 */
export const API_SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

/**
 * Every answer carries its request id; every JSON answer the fixed header set. Pages (/docs, /dashboard)
 * carry helmet's headers instead, registered with them.
 */
export function setSecurityHeaders(req: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', req.id);
  if (!reply.hasHeader('content-security-policy')) reply.headers(API_SECURITY_HEADERS);
}

async function securityHeaders(fastify: FastifyInstance): Promise<void> {
  // A callback hook: it runs on every answer, and an async one costs a promise each.
  fastify.addHook('onSend', (req, reply, payload, done) => {
    setSecurityHeaders(req, reply);
    done(null, payload);
  });
}

export default fp(securityHeaders, { name: 'security-headers' });
