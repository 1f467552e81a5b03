import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Publishing and installing with three package managers through a registry: minutes, not seconds.
    testTimeout: 300_000,
    hookTimeout: 120_000,
  },
});
