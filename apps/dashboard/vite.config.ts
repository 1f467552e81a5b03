import { defineConfig } from 'vite';

/** The API under `pnpm start` (or `pnpm --filter @api-users/server start`) in development. */
const API = 'http://127.0.0.1:5000';

export default defineConfig({
  // The Fastify app serves the build at /dashboard/; Vite serves it there too, so links are the same.
  base: '/dashboard/',
  server: { proxy: { '/api': API, '/trpc': API } },
});
