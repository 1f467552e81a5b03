import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Probes MySQL once, as the server's suite does (whose database helpers the test uses), so it runs on both.
    globalSetup: ['../server/test/support/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
