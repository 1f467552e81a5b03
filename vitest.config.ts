import { defineConfig } from 'vitest/config';

/** `pnpm test` runs every package's suite in one vitest process, each with its own config. */
export default defineConfig({
  test: {
    projects: ['apps/*/vitest.config.ts', 'packages/*/vitest.config.ts', 'release/vitest.config.ts'],
    reporters: ['default', './scripts/vitest-summary.ts'],
  },
});
