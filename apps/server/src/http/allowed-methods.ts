import { type Operation, operationNames, operations, REST_PREFIX } from '@api-users/contract';

/** Each REST path of the table (`:name` segments matching any one segment) with the methods it takes. */
const restRoutes = (() => {
  const byPath = new Map<string, Set<string>>();
  for (const name of operationNames) {
    const op = operations[name] as Operation;
    const methods = byPath.get(op.path) ?? new Set<string>();
    methods.add(op.method);
    // Fastify answers HEAD wherever it answers GET.
    if (op.method === 'GET') methods.add('HEAD');
    byPath.set(op.path, methods);
  }
  return [...byPath].map(([path, methods]) => ({
    pattern: new RegExp(`^${REST_PREFIX}${path.replace(/:[^/]+/g, '[^/]+')}/?$`),
    allow: [...methods].sort(),
  }));
})();

/** The methods a REST path of the API takes, or undefined when no operation has that path. */
export function allowedMethods(path: string): string[] | undefined {
  return restRoutes.find((route) => route.pattern.test(path))?.allow;
}
