import { type Operation, operationNames, operations, REST_PREFIX, takesBody } from '@api-users/contract';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { refuse } from '../../core/errors.js';
import { clientOf } from '../client.js';
import { execute, type Runtime } from '../execute.js';

/** POST and PATCH carry their input in the body; every method may carry path parameters; GET and DELETE a query. */
function rawInput(op: Operation, req: FastifyRequest): unknown {
  const params = req.params as object;
  if (!takesBody(op)) return { ...(req.query as object), ...params };
  const body = req.body ?? {};
  // A body that is no object (an array, a string) is left as it is, for validation to refuse.
  if (typeof body !== 'object' || Array.isArray(body)) return body;
  const repeated = Object.keys(params).filter((key) => Object.hasOwn(body, key));
  if (repeated.length > 0) {
    throw refuse(
      'invalidRequest',
      repeated.map((path) => ({ path, message: 'Given in the URL path; the body must not repeat it' })),
    );
  }
  return { ...body, ...params };
}

/** One REST route per operation of the table; errors go through the app's error handler. */
export function registerRestRoutes(app: FastifyInstance, runtime: Runtime): void {
  for (const name of operationNames) {
    const op: Operation = operations[name];
    app.route({
      method: op.method,
      url: REST_PREFIX + op.path,
      handler: async (req, reply) => {
        const output = await execute(name, runtime, {
          authorization: req.headers.authorization,
          input: rawInput(op, req),
          ...clientOf(req),
        });
        return reply.code(op.status).send(output);
      },
    });
  }
}
