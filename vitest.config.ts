import { defineConfig } from 'vitest/config';

/** `pnpm test` runs every package's suite in one vitest process, each with its own config. */
export default defineConfig({
  test: {
    projects: ['apps/*/vitest.config.ts', 'packages/*/vitest.config.ts', 'release/vitest.config.ts'],
    reporters: ['default', './scripts/vitest-summary.ts'],
    // Test files wait on databases, child processes and sockets far more than they compute: three at a time
    // on two cores (vitest's default would be one) took the server's suite from about 12 to 6.5 minutes.
    maxWorkers: 3,
  },
});
