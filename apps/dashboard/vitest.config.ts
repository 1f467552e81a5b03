import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // A real server and a real browser: start-up and page loads take seconds, not milliseconds.
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
