import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { LOCAL_PASSKEYS } from '../../../test-support/settings.js';
import { LAUNCHER, type ServerProcess, spawnServer } from '../../../test-support/spawn-server.js';
import { DASHBOARD_PATH } from '../src/http/adapters/dashboard.js';
import { DOCS_PREFIX, OPENAPI_PATH } from '../src/http/adapters/openapi.js';

/** What a browser sends for a page it navigates to. */
const BROWSER_ACCEPT = 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8';
const READY = 'Api users is ready: ';

/** `start` as it runs: the built server, as a process, logging as its NODE_ENV says. */
describe('first run', () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await spawnServer();
  });
  afterAll(() => server?.stop());

  const home = (accept?: string) => fetch(`${server.url}/`, accept ? { headers: { accept } } : {});

  it('answers GET / with JSON links to the docs, the dashboard and the OpenAPI document, each of which answers', async () => {
    for (const accept of [undefined, '*/*', 'application/json']) {
      const res = await home(accept);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('vary')).toMatch(/accept/i);
      expect(await res.json()).toEqual({
        name: 'Api users',
        // The suite runs on a build, and so with the dashboard built.
        links: { docs: DOCS_PREFIX, dashboard: DASHBOARD_PATH, openapi: OPENAPI_PATH },
      });
    }
    for (const [path, type] of [
      [DOCS_PREFIX, 'text/html'],
      [DASHBOARD_PATH, 'text/html'],
      [OPENAPI_PATH, 'application/json'],
    ]) {
      const res = await fetch(server.url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get('content-type'), path).toContain(type);
    }
  });

  it('answers a browser with a short HTML page linking to the same places, with no script to run', async () => {
    const res = await home(BROWSER_ACCEPT);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    const hrefs = [...html.matchAll(/<a href="([^"]+)">/g)].map((match) => match[1]);
    expect(hrefs).toEqual([DOCS_PREFIX, DASHBOARD_PATH, OPENAPI_PATH]);
    expect(html).not.toContain('<script');
  });

  it('logs the full URLs once it listens, as one JSON line outside development', async () => {
    await server.logged(READY);
    const lines = server.output().trim().split('\n');
    // Every line is JSON: a log collector reads them as they are.
    const records = lines.map((line) => JSON.parse(line) as { level: number; msg: string });
    const ready = records.find((record) => record.msg.startsWith(READY));
    expect(ready?.level).toBe(30);
    for (const path of [DOCS_PREFIX, DASHBOARD_PATH, OPENAPI_PATH]) expect(ready?.msg).toContain(server.url + path);
  });
});

describe('logs by NODE_ENV', () => {
  it('are JSON, one object a line, in production', async () => {
    const server = await spawnServer({ NODE_ENV: 'production', ...LOCAL_PASSKEYS });
    onTestFinished(() => server.stop());
    await server.logged(READY);
    const lines = server.output().trim().split('\n');
    expect(lines.length).toBeGreaterThan(1);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ level: expect.any(Number) });
  });

  it('are readable lines, not JSON, in development: one line a request', async () => {
    const server = await spawnServer({ NODE_ENV: 'development' });
    onTestFinished(() => server.stop());
    await server.logged(READY);
    await fetch(`${server.url}/api/v1/users/2?token=hunter2`);
    await fetch(`${server.url}/api/v1/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{',
    });
    await server.logged('POST /api/v1/login 400');
    const lines = server.output().trim().split('\n');
    for (const line of lines) expect(() => JSON.parse(line), line).toThrow();
    // pino-pretty's layout: time, level, message.
    expect(server.output()).toMatch(
      new RegExp(`^\\[\\d\\d:\\d\\d:\\d\\d\\.\\d{3}\\] INFO: ${READY}API documentation ${server.url}/docs`, 'm'),
    );
    // Each request is one line once answered: method, path (no query), status, time.
    const requests = lines.filter((line) => / INFO: (GET|POST) \/api\//.test(line));
    expect(requests).toEqual([
      expect.stringMatching(/^\[[\d:.]+\] INFO: GET \/api\/v1\/users\/2 401 \d+\.\d ms$/),
      expect.stringMatching(/^\[[\d:.]+\] INFO: POST \/api\/v1\/login 400 \d+\.\d ms$/),
    ]);
    expect(server.output()).not.toContain('hunter2');
  });

  it("keep pino's objects in development with LOG_FORMAT=json", async () => {
    const server = await spawnServer({ NODE_ENV: 'development', LOG_FORMAT: 'json' });
    onTestFinished(() => server.stop());
    await server.logged(READY);
    await fetch(`${server.url}/healthz`);
    await server.logged('request completed');
    const records = server
      .output()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(records.find((r) => r.msg === 'request completed')).toMatchObject({ res: { statusCode: 200 } });
  });
});

/** The root package's scripts (`start`, `admin`, …) run `scripts/built.mjs`: the build, then the command. */
describe('the commands as the package scripts run them', () => {
  it('start: after Ctrl-C (SIGINT) the server drains and exits 0, and prints no build summary', async () => {
    const server = await spawnServer({ NODE_ENV: 'development' }, { asStarted: true });
    await server.logged(READY);
    server.child.kill('SIGINT');
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('SIGINT: draining requests');
    expect(server.output()).not.toMatch(/turbo|Tasks:/);
  });

  it('admin: a refusal prints its sentence and nothing else, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-users-admin-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const cli = fileURLToPath(new URL('../dist/admin-cli.js', import.meta.url));
    const refused = await promisify(execFile)(process.execPath, [LAUNCHER, cli, 'promote', '--login', 'nobody.here'], {
      env: { PATH: process.env.PATH ?? '', DATABASE_URL: `sqlite:${join(dir, 'api.sqlite')}` },
    }).then(
      () => ({ code: 0, stdout: '', stderr: '' }),
      (err: { code: number; stdout: string; stderr: string }) => err,
    );
    expect(refused).toMatchObject({ code: 1, stdout: '', stderr: 'No account has the login nobody.here\n' });
  });
});
