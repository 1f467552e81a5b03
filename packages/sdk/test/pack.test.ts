import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { apiUrl, uniqueLogin } from './support/helpers.js';

const run = promisify(execFile);
const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const SDK = join(REPO, 'packages/sdk');
const CONTRACT = join(REPO, 'packages/contract');
/** The repo's TypeScript (the native tsc of TypeScript 7). */
const TSC = join(REPO, 'node_modules/.bin/tsc');

/** A consumer as an app would write it: strict types, ESM, nothing but the two published packages. */
const CONSUMER = `
import { ApiError, createClient, createTrpcClient, memoryTokenStore, type User } from '@api-users/sdk';

const baseUrl = process.env.API_URL;
const login = process.env.LOGIN;
if (!baseUrl || !login) throw new Error('Set API_URL and LOGIN');
const password = 'a fine long password';

const tokens = memoryTokenStore();
const client = createClient({ baseUrl, tokenStore: tokens });
const user: User = await client.auth.register({ user_name: 'Packed Consumer', login, password });
const pair = await client.auth.login({ login, password });

const ids: number[] = [];
let cursor: string | null | undefined;
do {
  const page = await client.users.list(cursor ? { limit: 100, cursor } : { limit: 100 });
  ids.push(...page.items.map((u) => u.id_user));
  cursor = page.next_cursor;
} while (cursor);

const trpc = createTrpcClient({ baseUrl, tokenStore: tokens });
const viaTrpc = await trpc.users.byId.query({ id: user.id_user });

let refused = '';
try {
  await client.auth.login({ login, password: 'not the password' });
} catch (err) {
  if (err instanceof ApiError) refused = err.status + ' ' + err.code;
}

// Never called: each line must fail to type-check, which shows the types are the contract's, not any.
export function typeErrors(): void {
  // @ts-expect-error the password is required
  void client.auth.login({ login });
  // @ts-expect-error a user has no password field
  void user.password;
  // @ts-expect-error users.byId is a query, not a mutation
  void trpc.users.byId.mutate({ id: 1 });
}

console.log(JSON.stringify({
  login: user.login,
  tokenType: pair.token_type,
  listed: ids.includes(user.id_user),
  viaTrpc: viaTrpc.login,
  signedIn: (await tokens.get()) !== null,
  refused,
}));
`;

const TSCONFIG = {
  compilerOptions: {
    strict: true,
    module: 'nodenext',
    moduleResolution: 'nodenext',
    target: 'ES2023',
    types: ['node'],
    // The published .d.ts files are checked too, not skipped.
    skipLibCheck: false,
    outDir: 'dist',
  },
  files: ['main.ts'],
};

it('installs from its tarball outside the workspace, type-checks strictly and runs against the API', {
  timeout: 180_000,
}, async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'api-users-sdk-consumer-'));
  expect(scratch.startsWith(REPO)).toBe(false);
  try {
    // Builds the SDK afresh; the contract's dist is built before any test runs (turbo's ^build).
    rmSync(join(SDK, 'dist'), { recursive: true, force: true });
    await run(TSC, ['-p', 'tsconfig.build.json'], { cwd: SDK });
    const tarballs = join(scratch, 'tarballs');
    mkdirSync(tarballs);
    // pnpm pack turns workspace:* into the real version, as publishing does.
    for (const dir of [CONTRACT, SDK]) await run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir });
    const packed = readdirSync(tarballs).map((file) => join(tarballs, file));
    expect(packed).toHaveLength(2);

    const app = join(scratch, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    await run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', ...packed, '@types/node@20'], {
      cwd: app,
    });
    const installed = JSON.parse(readFileSync(join(app, 'node_modules/@api-users/sdk/package.json'), 'utf8'));
    expect(installed.dependencies['@api-users/contract']).toBe('0.1.0');
    expect(existsSync(join(app, 'node_modules/@api-users/server'))).toBe(false);

    writeFileSync(join(app, 'main.ts'), CONSUMER);
    writeFileSync(join(app, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    await run(TSC, ['-p', 'tsconfig.json'], { cwd: app });

    const login = uniqueLogin('packed');
    const { stdout } = await run(process.execPath, ['dist/main.js'], {
      cwd: app,
      env: { ...process.env, API_URL: apiUrl(), LOGIN: login },
    });
    expect(JSON.parse(stdout)).toEqual({
      login,
      tokenType: 'Bearer',
      listed: true,
      viaTrpc: login,
      signedIn: true,
      refused: '401 BAD_CREDENTIALS',
    });
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
