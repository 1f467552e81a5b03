import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

/** Where the dashboard is served (its relative URLs need the trailing slash). */
export const DASHBOARD_PATH = '/dashboard/';

/** apps/dashboard/dist, from apps/server/src/adapters or apps/server/dist/adapters alike. */
const DASHBOARD_DIST = fileURLToPath(new URL('../../../../dashboard/dist/', import.meta.url));

/**
 * Serves the built dashboard (apps/dashboard) at /dashboard/. Without a build there is nothing to serve
 * and nothing to say: the API works on its own, and the dashboard is developed under Vite instead.
 * Resolves to whether it is served.
 */
export async function registerDashboard(fastify: FastifyInstance): Promise<boolean> {
  if (!existsSync(join(DASHBOARD_DIST, 'index.html'))) return false;
  await fastify.register(fastifyStatic, {
    root: DASHBOARD_DIST,
    // Without the trailing slash, so that /dashboard is redirected to /dashboard/ (the app's relative URLs need it).
    prefix: DASHBOARD_PATH.slice(0, -1),
    redirect: true,
    // /docs (swagger-ui) registers @fastify/static too and owns reply.sendFile.
    decorateReply: false,
  });
  return true;
}
