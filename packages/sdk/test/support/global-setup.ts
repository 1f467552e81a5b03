import type { TestProject } from 'vitest/node';
import { startServer } from './server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Base URL of the real server every test file talks to. */
    apiUrl: string;
  }
}

/** One server for the whole run: test files share it and keep apart through logins of their own. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startServer();
  project.provide('apiUrl', server.url);
  return server.stop;
}
