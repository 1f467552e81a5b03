import { ApiError } from '@api-users/sdk';
import { createTokenVerifier, type TokenVerifierOptions } from '@api-users/sdk/server';
import Fastify, { type FastifyInstance } from 'fastify';

/** A service of its own that trusts Api users' access tokens, checked offline against the published keys. */
export function buildResourceServer(options: TokenVerifierOptions): FastifyInstance {
  const verifier = createTokenVerifier(options);
  const app = Fastify();
  app.get('/hello', async (req) => {
    const claims = await verifier.verifyAuthorization(req.headers.authorization);
    return { user: Number(claims.sub), role: claims.role };
  });
  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof ApiError && err.status === 401) {
      return reply
        .code(401)
        .header('www-authenticate', err.code === 'AUTH_REQUIRED' ? 'Bearer' : 'Bearer error="invalid_token"')
        .send({ code: err.code, msg: err.msg });
    }
    // The key set could not be had: not the caller's fault, and worth a retry.
    if (err instanceof ApiError) return reply.code(503).send({ code: err.code, msg: err.msg });
    return reply.send(err);
  });
  return app;
}
