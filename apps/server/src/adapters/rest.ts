import { type OperationName, operationNames, operations } from '@api-users/contract';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Deps } from '../deps.js';
import { execute } from '../handlers.js';

export const REST_PREFIX = '/api/v1';

/** Bodies carry the input of POST operations; GET and DELETE read query and path parameters. */
function rawInput(name: OperationName, req: FastifyRequest): unknown {
  if (operations[name].method === 'POST') return req.body ?? {};
  return { ...(req.query as object), ...(req.params as object) };
}

/** One REST route per operation of the table; errors go through the app's error handler. */
export function registerRestRoutes(app: FastifyInstance, deps: Deps): void {
  for (const name of operationNames) {
    const op = operations[name];
    app.route({
      method: op.method,
      url: REST_PREFIX + op.path,
      handler: async (req, reply) => {
        const output = await execute(name, deps, {
          authorization: req.headers.authorization,
          input: rawInput(name, req),
          ip: req.ip,
        });
        return reply.code(op.status).send(output);
      },
    });
  }
}
