import { fileURLToPath } from 'node:url';
import type { FastifyRequest } from 'fastify';

/** By path: pino loads a transport in a worker, from where pnpm's strict layout would not find it by name. */
const PINO_PRETTY = fileURLToPath(import.meta.resolve('pino-pretty'));

/**
 * What a request's log line says about it. The query string is left out, whatever the route: a password
 * or token tried in a URL (a tRPC mutation sent as GET with `?input=`) must not reach the logs, and no
 * query value is needed to follow a request.
 */
function serializeRequest(req: FastifyRequest) {
  const query = req.url.indexOf('?');
  return {
    method: req.method,
    url: query === -1 ? req.url : `${req.url.slice(0, query)}?[redacted]`,
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket.remotePort ?? 0,
  };
}

/**
 * pino's options: no credential header and no query string in any line. Lines go to `output` (tests read
 * them back), to pino-pretty for a person at a terminal, or to stdout as JSON.
 */
export function loggerOptions(level: string, output?: NodeJS.WritableStream | 'pretty') {
  return {
    level,
    redact: ['req.headers.authorization', 'req.headers.cookie'],
    serializers: { req: serializeRequest },
    ...(output === 'pretty'
      ? {
          transport: {
            target: PINO_PRETTY,
            // One line each: the request line is written by the hook below, without pino's objects.
            options: { singleLine: true, ignore: 'pid,hostname,reqId', translateTime: 'HH:MM:ss.l' },
          },
        }
      : output
        ? { stream: output }
        : {}),
  };
}

/**
 * In the pretty format, a request is one line written when it is answered (`POST /api/v1/login 401 12.3 ms`)
 * instead of pino's two objects; the query string is left out as everywhere.
 */
export function logRequestLine(req: FastifyRequest, status: number, elapsedMs: number): void {
  req.log.info(`${req.method} ${req.url.split('?')[0]} ${status} ${elapsedMs.toFixed(1)} ms`);
}
