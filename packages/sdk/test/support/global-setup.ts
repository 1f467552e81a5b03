import type { TestProject } from 'vitest/node';
import { spawnServer } from '../../../../test-support/spawn-server.js';
import { createClient } from '../../src/index.js';
import { PASSWORD } from './helpers.js';

const ADMIN_LOGIN = 'sdk.admin';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the real server every test file talks to. */
    apiUrl: string;
    /** The login of the admin made as the server's first account (password: PASSWORD of helpers.ts). */
    adminLogin: string;
  }
}

/** One server for the whole run: test files share it and keep apart through logins of their own. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Short-lived access tokens, so renewals happen within a test.
  // Webhooks may target loopback: the account test adds one (nothing listens there; its deliveries just wait).
  const server = await spawnServer({ LOG_LEVEL: 'warn', ACCESS_TOKEN_TTL: '60', WEBHOOK_ALLOW_PRIVATE: 'true' });
  project.provide('apiUrl', server.url);
  // The first account of the empty database may make itself admin: made before any test file runs.
  const admin = await createClient({ baseUrl: server.url }).auth.register({
    user_name: 'SDK Admin',
    login: ADMIN_LOGIN,
    password: PASSWORD,
    user_role: 1,
  });
  if (admin.user_role !== 1) throw new Error('the SDK suite needs the first account of its server to be admin');
  project.provide('adminLogin', ADMIN_LOGIN);
  return server.stop;
}
