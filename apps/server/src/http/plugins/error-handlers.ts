import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { allowedMethods } from '../allowed-methods.js';
import { describeError } from '../errors.js';
import { setSecurityHeaders } from './security-headers.js';

/**
 * The one error answer, in the error shape. Only what is not the client's doing is logged as an error
 * (with its stack); a client's mistake is a 4xx and shows in the access log alone.
 */
function answerError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const { status, body, headers, internal } = describeError(err);
  if (internal) req.log.error({ err }, 'request failed');
  return reply.code(status).headers(headers).send(body);
}

/**
 * Fastify's `frameworkErrors`: a bad URL, a path parameter past `maxParamLength`. Fastify answers those
 * before routing, outside the plugins' hooks, so the security headers are set here.
 */
export function answerFrameworkError(err: unknown, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  setSecurityHeaders(req, reply);
  return answerError(err, req, reply);
}

async function errorHandlers(fastify: FastifyInstance): Promise<void> {
  fastify.setErrorHandler(answerError);
  fastify.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const allow = allowedMethods(path);
    if (allow === undefined) return reply.code(404).send({ code: 'NOT_FOUND', msg: `No route ${req.method} ${path}` });
    // A path of the API asked with another method: say which it takes (RFC 9110's Allow). A preflight reaches
    // here only with CORS off (@fastify/cors answers it otherwise).
    const cors = req.method === 'OPTIONS' ? ' (no CORS on this server: CORS_ORIGINS names the origins allowed)' : '';
    return reply
      .code(405)
      .header('allow', allow.join(', '))
      .send({ code: 'METHOD_NOT_ALLOWED', msg: `${path} takes ${allow.join(', ')}, not ${req.method}${cors}` });
  });
}

export default fp(errorHandlers, { name: 'error-handlers' });
