// The servers a run measures: the baseline, the API server (restarted if something outside the bench stops it),
// and the preflight and measured autocannon runs against them.
import { join } from 'node:path';
import { CFG, elapsed, log, profArgs, SERVER_ENV, sleep, USER } from './config.mjs';
import { BENCH_DIR, cannon, getJson, postJson, restPath, SERVER_MAIN, startServer } from './lib.mjs';

/** Throws, with the end of its output, if the server process has gone. */
export function assertAlive(server) {
  const exit = server?.exited();
  if (exit) {
    throw new Error(
      `${server.name} exited (${JSON.stringify(exit)}); its last output:\n${server.output().slice(-3000)}`,
    );
  }
}

/** Warm-up (not recorded), then the measured run. */
export async function measure(label, opts, server) {
  if (CFG.warmup > 0) await cannon({ ...opts, duration: CFG.warmup });
  assertAlive(server);
  const r = await cannon({ ...opts, duration: CFG.duration });
  assertAlive(server);
  log(
    `${elapsed()} ${label}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors + r.mismatches}, non-2xx ${r.non2xx}`,
  );
  return r;
}

export async function baselineRun(label) {
  const server = await startServer({
    name: 'baseline',
    script: join(BENCH_DIR, 'baseline-server.mjs'),
    env: { LOG_LEVEL: 'warn' },
    nodeArgs: profArgs('baseline'),
  });
  try {
    const pre = await getJson(`${server.url}/`);
    if (pre.status !== 200) throw new Error(`baseline answered ${pre.status}`);
    return await measure(label, { url: `${server.url}/`, connections: CFG.connections, expectBody: pre.text }, server);
  } finally {
    await server.stop();
  }
}

export async function startApi(dialect, url, tag) {
  return startServer({
    name: `server (${dialect})`,
    script: SERVER_MAIN,
    env: { ...SERVER_ENV, DATABASE_URL: url },
    nodeArgs: profArgs(`server-${dialect}-${tag}`),
    readyPath: '/readyz',
  });
}

/** Registers the bench user (tolerating an existing one) and logs in. */
export async function signIn(base) {
  const reg = await postJson(`${base}${restPath('register')}`, USER);
  if (reg.status !== 201 && reg.status !== 409) throw new Error(`register answered ${reg.status}: ${reg.text}`);
  const res = await postJson(`${base}${restPath('login')}`, { login: USER.login, password: USER.password });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${res.text}`);
  return res.body.access_token;
}

/**
 * One GET that must answer 200 (and, for tRPC batches, no error inside): returns the body to expect.
 * @param {string} url
 * @param {Record<string, string>} headers
 * @param {(body: unknown) => boolean} [check]
 */
export async function preflight(url, headers, check = () => true) {
  const res = await getJson(url, headers);
  if (res.status !== 200 || !check(res.body)) {
    throw new Error(`preflight GET ${url} answered ${res.status}: ${res.text.slice(0, 300)}`);
  }
  return res.text;
}

export const trpcInput = (value) => encodeURIComponent(JSON.stringify(value));

/** Server log lines at warn or above (pino JSON): anything here deserves a look. */
export function warnLines(output) {
  return output
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .filter((l) => {
      try {
        return JSON.parse(l).level >= 40;
      } catch {
        return true;
      }
    });
}

/**
 * The API server of one part, restartable: other people's scripts on a shared machine may stop it (it then
 * exits 0, as after a SIGTERM). A scenario whose server went away is measured again on a fresh one.
 */
export class Api {
  constructor(dialect, url, tag, out) {
    this.dialect = dialect;
    this.dbUrl = url;
    this.tag = tag;
    this.out = out;
    /** @type {string | null} */
    this.url = null;
    this.server = null;
    /** @type {string | null} */
    this.token = null;
  }

  get auth() {
    return { authorization: `Bearer ${this.token}` };
  }

  async ensure() {
    if (this.server && !this.server.exited()) return;
    if (this.server) {
      const note = `${this.dialect}: the server stopped during a run (exit ${JSON.stringify(this.server.exited())}; exit code 0 means a SIGTERM/SIGINT from outside the bench); restarted and the run repeated`;
      log(note);
      this.out.notes.push(note);
      this.out.warnLines.push(...warnLines(this.server.output()));
    }
    this.server = await startApi(this.dialect, this.dbUrl, this.tag);
    this.url = this.server.url;
    this.token = await signIn(this.url);
  }

  /** Runs fn(this) on a live server, again (up to twice) if the server went away during it. */
  async scenario(fn) {
    for (let attempt = 1; ; attempt++) {
      await this.ensure();
      try {
        return await fn(this);
      } catch (err) {
        await sleep(300); // a server that just died may not have reported its exit yet
        if (attempt < 3 && this.server.exited()) continue;
        throw err;
      }
    }
  }

  async stop() {
    if (!this.server) return;
    // Requests whose client hung up at the end of a run are still being handled: let them finish first, or
    // the server (which does not wait for them) closes its pool under them and logs "Pool is closed".
    await sleep(1500);
    await this.server.stop();
    this.out.warnLines.push(...warnLines(this.server.output()));
    this.server = null;
  }
}
