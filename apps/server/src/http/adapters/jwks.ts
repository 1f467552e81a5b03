import type { FastifyInstance } from 'fastify';
import type { KeyRing } from '../../modules/auth/keys.js';

/** At the root, outside /api/v1, where verifiers look for it (RFC 8414 names this path). */
export const JWKS_PATH = '/.well-known/jwks.json';

/**
 * How long verifiers and caches may keep the key set. A new key must be published (as a verify-only key) at
 * least this long before it signs, for verifiers that do not refetch on an unknown kid (README, key rotation).
 */
const JWKS_MAX_AGE_SECONDS = 300;

/** The public keys tokens are signed with: HMAC secrets and private parts never reach the key ring's JWK set. */
export function registerJwks(app: FastifyInstance, keys: KeyRing): void {
  const body = JSON.stringify(keys.jwks);
  app.get(JWKS_PATH, {
    // Route hooks run after the app's, whose onSend makes every JSON answer no-store: public keys are for caching.
    onSend: async (_req, reply) => {
      reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    },
    handler: async (_req, reply) => reply.type('application/jwk-set+json').send(body),
  });
}
