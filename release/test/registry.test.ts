import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasChromium, launchChromium } from '../../test-support/chromium.js';
import { uniqueLogin } from '../../test-support/settings.js';
import { type ServerProcess, spawnServer } from '../../test-support/spawn-server.js';
import { tarballProblems } from './support/tarball.js';
import { type Registry, startRegistry } from './support/verdaccio.js';

const exec = promisify(execFile);
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const CONSUMER = fileURLToPath(new URL('../consumer/', import.meta.url));
/** The repository's TypeScript: 7, the native compiler. */
const TSC_7 = join(REPO, 'node_modules/.bin/tsc');
const SDK = '@api-users/sdk';
const MANAGERS = ['npm', 'pnpm', 'yarn'] as const;
type Manager = (typeof MANAGERS)[number];

interface WorkspacePackage {
  name: string;
  version: string;
  private: boolean;
}

/** Runs a command to its end and resolves to its stdout; a failure shows everything it printed. */
async function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const { stdout = '', stderr = '' } = err as { stdout?: string; stderr?: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}:\n${stdout}\n${stderr}`);
  }
}

/**
 * Each package manager as a user runs it on an empty project, adding the SDK and nothing else of ours; the
 * registry is named on the command line, so npx still fetches pnpm and yarn themselves as usual.
 */
const installs: Record<Manager, (registry: string, scratch: string) => [string, string[]]> = {
  npm: (registry) => [
    'npm',
    ['install', '--registry', registry, '--no-audit', '--no-fund', SDK, '@types/node@20', 'typescript@5'],
  ],
  pnpm: (registry, scratch) => [
    'npx',
    ['-y', 'pnpm@10', 'add', '--registry', registry, '--cache-dir', join(scratch, 'pnpm-cache'), SDK, '@types/node@20'],
  ],
  yarn: (registry) => [
    'npx',
    ['-y', 'yarn@1', 'add', '--non-interactive', '--registry', registry, SDK, '@types/node@20'],
  ],
};
const LOCKFILES: Record<Manager, string> = { npm: 'package-lock.json', pnpm: 'pnpm-lock.yaml', yarn: 'yarn.lock' };

/** What `flow()` (consumer/src/flow.ts) sees on a healthy server, whichever the runtime. */
const expectedFlow = (login: string) => ({
  login,
  tokenType: 'Bearer',
  listed: true,
  viaTrpc: login,
  renewed: true,
  refused: '401 BAD_CREDENTIALS',
  afterLogout: '401 AUTH_REQUIRED',
  signedIn: false,
});

/** The command lines of the README's release recipe, in order, without their comments. */
function releaseRecipe(): string[] {
  const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
  const block = /### Releasing the SDK[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (block === undefined) throw new Error('README.md has no release recipe under "### Releasing the SDK"');
  return block
    .split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

/**
 * A git repository on `main` holding the workspace as it is now (tracked and new files, not ignored ones),
 * committed, with its dependencies installed from the local store: where a maintainer runs the recipe.
 */
async function workspaceClone(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  const listed = await run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], REPO, env);
  for (const file of listed.split('\0')) {
    if (!file || !existsSync(join(REPO, file))) continue;
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    cpSync(join(REPO, file), join(dir, file));
  }
  await run('git', ['init', '--quiet', '--initial-branch=main'], dir, env);
  await run('git', ['add', '--all'], dir, env);
  await run('git', ['commit', '--quiet', '--message', 'The workspace under test'], dir, env);
  await run('npx', ['-y', 'pnpm@10', 'install', '--offline', '--frozen-lockfile'], dir, env);
}

/** The import specifier of every entry the installed SDK exports. */
const entriesOf = (project: string): string[] =>
  Object.keys(JSON.parse(readFileSync(join(project, 'node_modules', SDK, 'package.json'), 'utf8')).exports).map(
    (subpath) => SDK + subpath.slice(1),
  );

/**
 * The release as users get it: `pnpm release` publishes to a real registry (Verdaccio, proxying the npm
 * registry for everything not ours), and empty projects outside the workspace install the SDK from there with
 * npm, pnpm and yarn, type-check it and run it against a live server, in Node and in a browser bundle.
 */
describe('the published SDK, from a registry', () => {
  let scratch: string;
  let registry: Registry;
  let server: ServerProcess;
  /** The workspace copy the release is made from, and its public packages before and after the release. */
  let workspace: string;
  let before: WorkspacePackage[];
  let published: WorkspacePackage[];
  /** Without the npm settings of whatever started the tests (`pnpm test` sets some). */
  let env: NodeJS.ProcessEnv;
  /** Publishing: our registry and its token. */
  let publishEnv: NodeJS.ProcessEnv;
  const consumers = {} as Record<Manager, string>;

  beforeAll(async () => {
    scratch = mkdtempSync(join(tmpdir(), 'api-users-release-'));
    expect(scratch.startsWith(REPO)).toBe(false);
    // Without the npm settings of whatever started the tests (`pnpm test` sets some); a git identity to commit as.
    env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_/i.test(key))),
      GIT_AUTHOR_NAME: 'Release test',
      GIT_AUTHOR_EMAIL: 'release@example.com',
      GIT_COMMITTER_NAME: 'Release test',
      GIT_COMMITTER_EMAIL: 'release@example.com',
    };
    workspace = join(scratch, 'workspace');
    [registry, server] = await Promise.all([
      startRegistry(join(scratch, 'registry')),
      spawnServer({ LOG_LEVEL: 'warn' }),
      workspaceClone(workspace, env),
    ]);
    publishEnv = { ...env, npm_config_userconfig: registry.npmrc };
    before = await publicPackages();
    expect(before.map((pkg) => pkg.name)).toContain(SDK);
    // A change waiting to be released, committed as a maintainer's changeset would be.
    writeFileSync(
      join(workspace, '.changeset/registry-test.md'),
      `---\n${before.map((pkg) => `"${pkg.name}": patch`).join('\n')}\n---\n\nA release made by the registry test.\n`,
    );
    await run('git', ['add', '--all'], workspace, env);
    await run('git', ['commit', '--quiet', '--message', 'A changeset'], workspace, env);
  });

  /** The workspace copy's public packages, as pnpm lists them. */
  async function publicPackages(): Promise<WorkspacePackage[]> {
    const listed = await run(
      'npx',
      ['-y', 'pnpm@10', '--recursive', 'list', '--depth', '-1', '--json'],
      workspace,
      env,
    );
    return (JSON.parse(listed) as WorkspacePackage[]).filter((pkg) => !pkg.private);
  }

  afterAll(async () => {
    await Promise.all([registry?.stop(), server?.stop()]);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });

  const packument = (name: string) => fetch(`${registry.url}${name.replace('/', '%2f')}`);

  it("the README's release recipe as written: versions, commits, checks without publishing, publishes complete tarballs", async () => {
    const [version, commit, dryRun, release, ...rest] = releaseRecipe();
    expect(rest).toEqual([]);
    expect(version).toMatch(/changeset version$/);
    await run('sh', ['-c', version as string], workspace, publishEnv);
    published = await publicPackages();
    // Every package got a new version from the changeset, and the edits wait uncommitted.
    expect(
      published.map(({ name, version }) => [name, version === before.find((pkg) => pkg.name === name)?.version]),
    ).toEqual(before.map((pkg) => [pkg.name, false]));
    expect(await run('git', ['status', '--porcelain'], workspace, env)).not.toBe('');

    await run('sh', ['-c', commit as string], workspace, publishEnv);
    expect(await run('git', ['status', '--porcelain'], workspace, env)).toBe('');

    const output = await run('sh', ['-c', dryRun as string], workspace, publishEnv);
    for (const { name, version } of published) {
      expect(output).toContain(`${name}@${version}`);
      expect((await packument(name)).status).toBe(404);
    }

    await run('sh', ['-c', release as string], workspace, publishEnv);
    const names = new Set(published.map((pkg) => pkg.name));
    const { engines } = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } };
    for (const { name, version } of published) {
      const res = await packument(name);
      expect(res.status, name).toBe(200);
      const { versions } = (await res.json()) as { versions: Record<string, { dist: { tarball: string } }> };
      const tarball = versions[version]?.dist.tarball;
      expect(tarball, `${name}@${version} is published`).toBeDefined();
      const dir = join(scratch, 'tarballs', name);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'package.tgz'), Buffer.from(await (await fetch(tarball as string)).arrayBuffer()));
      await run('tar', ['-xzf', 'package.tgz'], dir, env);
      expect(tarballProblems(join(dir, 'package'), names, engines.node), name).toEqual([]);
    }
  });

  it('installs alone from the registry with npm, pnpm and yarn, into empty projects outside the workspace', async () => {
    const sdk = published.find((pkg) => pkg.name === SDK);
    await Promise.all(
      MANAGERS.map(async (manager) => {
        const dir = join(scratch, 'consumers', manager);
        mkdirSync(dir, { recursive: true });
        cpSync(CONSUMER, dir, { recursive: true });
        const manifest = { name: `consumer-${manager}`, private: true, type: 'module' };
        writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest));
        const [command, args] = installs[manager](registry.url, scratch);
        await run(command, args, dir, env);
        consumers[manager] = dir;
      }),
    );
    for (const manager of MANAGERS) {
      const installed = JSON.parse(readFileSync(join(consumers[manager], 'node_modules', SDK, 'package.json'), 'utf8'));
      expect(installed.version, manager).toBe(sdk?.version);
      // Every entry of the SDK (`.`, and any other subpath it exports), imported with its types by one file.
      const entries = entriesOf(consumers[manager]);
      writeFileSync(
        join(consumers[manager], 'src/entries.ts'),
        `${entries.map((entry, i) => `import * as entry${i} from '${entry}';`).join('\n')}\n` +
          `console.log(JSON.stringify([${entries.map((_, i) => `Object.keys(entry${i}).length`).join(', ')}]));\n`,
      );
      const lockfile = readFileSync(join(consumers[manager], LOCKFILES[manager]), 'utf8');
      expect(lockfile, manager).toContain('@api-users/contract');
      expect(lockfile, manager).not.toContain('@api-users/server');
    }
  });

  // Independent of each other from here on: they run side by side.
  describe.concurrent('in each project', () => {
    it.for(MANAGERS)(
      '%s: every entry type-checks strictly (TypeScript 7), and the flow runs in Node',
      async (manager, { expect }) => {
        const dir = consumers[manager];
        const entries = entriesOf(dir);
        await run(TSC_7, ['-p', 'tsconfig.json'], dir, env);
        const counts = JSON.parse(await run(process.execPath, ['dist/entries.js'], dir, env)) as number[];
        expect(counts, entries.join(', ')).toHaveLength(entries.length);
        expect(
          counts.every((count) => count > 0),
          entries.join(', '),
        ).toBe(true);

        const login = uniqueLogin(manager);
        const output = await run(process.execPath, ['dist/node.js', server.url, login], dir, env);
        expect(JSON.parse(output)).toEqual(expectedFlow(login));
      },
    );

    it('npm: type-checks strictly under TypeScript 5 too', async ({ expect }) => {
      const tsc5 = join(consumers.npm, 'node_modules/.bin/tsc');
      expect(await run(tsc5, ['--version'], consumers.npm, env)).toMatch(/^Version 5\./);
      await run(tsc5, ['-p', 'tsconfig.json', '--noEmit'], consumers.npm, env);
    });

    it.skipIf(!hasChromium())(
      'npm: bundles for the browser with nothing of Node, and runs the flow in Chromium',
      async ({ expect }) => {
        const bundle = await build({
          absWorkingDir: consumers.npm,
          entryPoints: ['src/browser.ts'],
          bundle: true,
          platform: 'browser',
          format: 'esm',
          write: false,
          metafile: true,
          logLevel: 'silent',
        });
        const inputs = Object.keys(bundle.metafile.inputs);
        expect(inputs).toContain('node_modules/@api-users/sdk/dist/index.js');
        expect(inputs).toContain('node_modules/@api-users/contract/dist/index.js');
        // A Node built-in has no browser build: it fails the bundle, or is left outside it as an external import.
        const external = Object.values(bundle.metafile.inputs).flatMap((input) =>
          input.imports.filter((i) => i.external),
        );
        expect(external).toEqual([]);

        const browser = await launchChromium();
        try {
          const page = await browser.newPage();
          const errors: string[] = [];
          page.on('pageerror', (error) => errors.push(error.message));
          // Served from the API's own origin, as an app behind the same host would be.
          await page.route(`${server.url}/consumer/**`, (route) =>
            route.request().url().endsWith('.js')
              ? route.fulfill({ contentType: 'text/javascript', body: bundle.outputFiles[0]?.text ?? '' })
              : route.fulfill({
                  contentType: 'text/html',
                  body: '<!doctype html><body><script type="module" src="/consumer/browser.js"></script></body>',
                }),
          );
          const login = uniqueLogin('browser');
          await page.goto(`${server.url}/consumer/#login=${login}`);
          await page.waitForFunction(() => document.body.dataset.result ?? document.body.dataset.error);
          expect(await page.evaluate(() => document.body.dataset.error)).toBeUndefined();
          const result = await page.evaluate(() => document.body.dataset.result ?? '');
          expect(JSON.parse(result)).toEqual(expectedFlow(login));
          expect(errors).toEqual([]);
        } finally {
          await browser.close();
        }
      },
    );
  });
});
