import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type ParseError, parse as parseJsonc } from 'jsonc-parser';
import sjson from 'secure-json-parse';
import { notJson, refuse } from '../../core/errors.js';

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]*)/i;

/**
 * Bodies are JSON in UTF-8, unencoded, parsed by a parser that says where a malformed one went wrong. Fastify would read a gzip body, or one in another charset, as UTF-8 text
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
  // Fastify's own JSON parser answers every malformed body alike, dropping where it went wrong; this one says
  // where. The same library and settings as Fastify's: `__proto__` and `constructor.prototype` keys are refused.
  fastify.removeContentTypeParser('application/json');
  fastify.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    if (body === '') return done(notJson(undefined), undefined);
    try {
      done(null, sjson.parse(body as string, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(notJson(whereJsonFails(body as string)), undefined);
    }
  });
}

/**
 * Where a body JSON.parse refused stops being JSON, as line and column: JSON.parse's own message no longer says
 * (V8 quotes the text instead), so jsonc-parser, in strict JSON mode, finds the first error's offset. Null when
 * it finds none (the body is JSON, refused for a `__proto__` key).
 */
function whereJsonFails(body: string): { line: number; column: number } | null {
  const errors: ParseError[] = [];
  parseJsonc(body, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false });
  const offset = errors[0]?.offset;
  if (offset === undefined) return null;
  const before = body.slice(0, offset).split('\n');
  return { line: before.length, column: (before.at(-1)?.length ?? 0) + 1 };
}

export default fp(bodyEncoding, { name: 'body-encoding' });
