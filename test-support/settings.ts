import { randomBytes } from 'node:crypto';

/**
 * What every suite's servers share, in-process (apps/server/test) or as processes (spawn-server.ts). Imported
 * by relative path, not as a package: a published package (the SDK) must not depend, even for development,
 * on an unpublished one.
 */

export const TEST_SECRET = 'test-secret-that-is-at-least-32-characters-long';

/**
 * A test server's settings before a suite's own: suites sign in far more often than people do, so rate limits
 * are off (the rate-limit suite turns them back on).
 */
export const TEST_SETTINGS: Record<string, string> = {
  NODE_ENV: 'test',
  JWT_SECRET: TEST_SECRET,
  LOG_LEVEL: 'info',
  RATE_LIMIT_PER_ADDRESS: '0',
  RATE_LIMIT_FAILURES_PER_ACCOUNT_ADDRESS: '0',
  RATE_LIMIT_FAILURES_PER_ADDRESS: '0',
  RATE_LIMIT_FAILURES_PER_ACCOUNT: '0',
  RATE_LIMIT_FAILURES_PER_DEVICE: '0',
};

/** The passkeys' relying party production requires to be named: the local one, for tests that run as production. */
export const LOCAL_PASSKEYS = { WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: 'http://localhost:5000' };

/** A login no other test (or parallel worker) uses. */
export const uniqueLogin = (prefix = 'user') => `${prefix}.${randomBytes(5).toString('hex')}`;
