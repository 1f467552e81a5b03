import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { refuse } from '../../core/errors.js';

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

/**
 * Bodies are JSON in UTF-8, unencoded. Fastify would read a gzip body, or one in another charset, as UTF-8 text
 * and answer a misleading "not JSON" (or, for latin-1 that happens to be valid JSON, read other characters than
 * were sent): such a body is refused 415 before it is read, saying what to send instead.
 */
async function bodyEncoding(fastify: FastifyInstance): Promise<void> {
  // A callback hook, as the other per-request ones: no promise on every request.
  fastify.addHook('onRequest', (req, _reply, done) => {
    if (req.method === 'GET' || req.method === 'HEAD') return done();
    const encoding = req.headers['content-encoding']?.trim().toLowerCase();
    if (encoding !== undefined && encoding !== '' && encoding !== 'identity') return done(refuse('encodedBody'));
    const charset = CHARSET.exec(req.headers['content-type'] ?? '')?.[1]?.toLowerCase();
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') return done(refuse('notUtf8'));
    done();
  });
}

export default fp(bodyEncoding, { name: 'body-encoding' });
