// Helpers for the bench driver: resolving the server's own dependencies, child servers, autocannon runs.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { operations, REST_PREFIX, TRPC_PREFIX, trpcPathOf } from '@api-users/contract';
import autocannon from 'autocannon';

/** The REST path of an operation of the contract's table, its `:name` segments filled from `params`. */
export const restPath = (name, params = {}) =>
  REST_PREFIX + operations[name].path.replace(/:(\w+)/g, (_, key) => encodeURIComponent(String(params[key])));

/** The tRPC path of one operation of the table, or of a batch of several. */
export const trpcPath = (...names) => `${TRPC_PREFIX}/${names.map(trpcPathOf).join(',')}`;

/** Where the hand-written route answers in one statement, as the server does (tools/handwritten-server.mjs). */
export const ONE_STATEMENT_PREFIX = '/one-statement';

export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const ROOT = join(BENCH_DIR, '..');
export const SERVER_DIR = join(ROOT, 'apps/server');
export const DB_DIR = join(ROOT, 'packages/db');
export const SERVER_MAIN = join(SERVER_DIR, 'dist/main.js');
/** Every rate limit off (0 = no limit): a load test must not turn into a 429 test. */
export const RATE_LIMITS_OFF = {
  RATE_LIMIT_PER_ADDRESS: '0',
  RATE_LIMIT_FAILURES_PER_ACCOUNT_ADDRESS: '0',
  RATE_LIMIT_FAILURES_PER_ADDRESS: '0',
  RATE_LIMIT_FAILURES_PER_ACCOUNT: '0',
  RATE_LIMIT_FAILURES_PER_DEVICE: '0',
};

/** Production requires the passkeys' relying party to be named; a local one, as the bench serves nothing to browsers. */
export const LOCAL_PASSKEYS = { WEBAUTHN_RP_ID: 'localhost', WEBAUTHN_ORIGINS: 'http://localhost:5000' };

/** Resolves packages the way the server (or the db package) does, so the bench measures the same copies. */
export const requireFromServer = createRequire(join(SERVER_DIR, 'package.json'));
export const requireFromDb = createRequire(join(DB_DIR, 'package.json'));
export const requireFromBench = createRequire(join(BENCH_DIR, 'package.json'));

/** The version of a package as the given require resolves it (walks up from its entry to its package.json). */
export function versionOf(req, name) {
  try {
    let dir = dirname(req.resolve(name));
    for (;;) {
      const file = join(dir, 'package.json');
      if (existsSync(file)) {
        const pkg = JSON.parse(readFileSync(file, 'utf8'));
        if (pkg.name === name) return pkg.version;
      }
      const up = dirname(dir);
      if (up === dir) return 'unknown';
      dir = up;
    }
  } catch {
    return 'not found';
  }
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (srv.address());
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Starts `node <script>` as a child process and waits until `readyPath` answers 200.
 * Returns { url, port, stop(), output() }; stop() sends SIGTERM and waits for the exit (a CPU profile, when
 * asked for with nodeArgs, is written at that exit).
 */
export async function startServer({ name, script, env = {}, nodeArgs = [], readyPath = '/healthz' }) {
  const port = await freePort();
  let output = '';
  const child = spawn(process.execPath, [...nodeArgs, script], {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const keep = (chunk) => {
    output += chunk;
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  const exit = new Promise((resolve) =>
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      resolve(exited);
    }),
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`${name} exited during start (${JSON.stringify(exited)}):\n${output.trim()}`);
    try {
      const res = await fetch(url + readyPath);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${name} did not become ready within 30 s:\n${output.trim()}`);
    }
    await sleep(100);
  }
  return {
    name,
    url,
    port,
    pid: child.pid,
    output: () => output,
    /** Null while running; { code, signal } once the process has exited. */
    exited: () => exited,
    async stop() {
      if (!exited) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const result = await exit;
      clearTimeout(timer);
      return result;
    },
  };
}

/**
 * CPU time (user + system) a process has used so far, in µs, from /proc (Linux; clock ticks of 10 ms): over a
 * run of thousands of requests, the busy time per request, which the noise of a shared machine moves far less
 * than its throughput. Undefined where /proc is not there.
 */
export function cpuMicros(pid) {
  try {
    // Fields after the command's closing parenthesis: state is field 3, utime 14 and stime 15.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return undefined;
  }
}

/** { status, body, text } of an answer: body is the parsed JSON, or the text when it is not JSON. */
async function readAnswer(res) {
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { status: res.status, body, text };
}

/** POSTs JSON and returns { status, body, text }. */
export async function postJson(url, body, headers = {}) {
  return readAnswer(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  );
}

/** GETs and returns { status, body, text }. */
export async function getJson(url, headers = {}) {
  return readAnswer(await fetch(url, { headers }));
}

/**
 * One autocannon run, reduced to the figures the table needs. `expectBody` makes any different answer count
 * as a mismatch (reported with the errors).
 */
/**
 * One autocannon run against `url`; `expectBody` makes any other answer count as an error.
 * @param {{ url: string, connections: number, duration: number, method?: string, headers?: Record<string, string>,
 *   body?: string, expectBody?: string }} options
 */
export async function cannon({ url, connections, duration, method = 'GET', headers = {}, body, expectBody }) {
  const r = await autocannon({
    url,
    connections,
    duration,
    method,
    headers,
    body,
    expectBody,
    // Latencies of non-2xx answers are recorded too, so a fast error never hides in the figures.
    excludeErrorStats: false,
  });
  const codes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
  return {
    rps: r.duration > 0 ? r['2xx'] / r.duration : 0,
    p50: r.latency.p50,
    p99: r.latency.p99,
    mean: r.latency.average,
    requests: r.requests.total,
    errors: r.errors,
    timeouts: r.timeouts,
    mismatches: r.mismatches,
    non2xx: r.non2xx,
    status429: codes['429'] ?? 0,
    codes,
    duration: r.duration,
  };
}

/** Times `fn` (sync or async) `n` times after `warm` warm-up calls; returns µs per call. */
export async function timePerCall(fn, n, warm = Math.min(1000, n)) {
  for (let i = 0; i < warm; i++) await fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await fn();
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

/** Like timePerCall but keeps `inFlight` calls running at once; returns amortised µs per call. */
export async function timeConcurrent(fn, n, inFlight) {
  for (let i = 0; i < Math.min(200, n); i++) await fn();
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      await fn();
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: inFlight }, worker));
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Decodes a JWT's payload without verifying it (the bench only needs the session id and jti). */
export function jwtPayload(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8'));
}

/** Resident memory of a process in MiB, from /proc (0 where there is no /proc). */
export function rssMiB(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

/** Lays a report's tables out the way the repo's formatter (biome, which checks *.md) wants them. */
export function formatMarkdown(file) {
  const biome = join(ROOT, 'node_modules/.bin/biome');
  if (!existsSync(biome) || !resolve(file).startsWith(`${ROOT}/`)) return;
  const r = spawnSync(biome, ['format', '--write', file], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) console.error(`biome could not format ${file}: ${(r.stderr || r.stdout).trim().split('\n')[0]}`);
}
