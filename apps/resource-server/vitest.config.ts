import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Probes MySQL once, as the server's suite does, so the test runs on both databases.
    globalSetup: [createRequire(import.meta.url).resolve('@api-users/server/test-support/global-setup')],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
