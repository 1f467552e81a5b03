#!/usr/bin/env node
// Load benchmark of the real server (SQLite and MySQL), every figure set against a bare-Fastify baseline
// measured in the same invocation. Prints the tables and writes bench/results.md. See bench/README.md.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { createDatabase, migrateAndSeed, mysqlVersion, removeTempDir, sqliteVersion } from './databases.mjs';
import {
  BENCH_DIR,
  cannon,
  formatMarkdown,
  getJson,
  jwtPayload,
  postJson,
  RATE_LIMITS_OFF,
  requireFromBench,
  requireFromDb,
  requireFromServer,
  rssMiB,
  SERVER_MAIN,
  startServer,
  versionOf,
} from './lib.mjs';
import { argon2Cost, filterCost, jwtCost, pagingCost, revocationCheckCost } from './micro.mjs';
import {
  FAST_PATH_MIN_GAIN,
  startHandwritten,
  TARGETS,
  trpcFastPathGain,
  versusHandwritten,
  versusTargets,
} from './versus.mjs';

const env = process.env;
const quick = process.argv.includes('--quick') || env.BENCH_QUICK === '1';
const cores = os.availableParallelism();
const CFG = {
  duration: Number(env.BENCH_DURATION ?? (quick ? 3 : 8)),
  warmup: Number(env.BENCH_WARMUP ?? (quick ? 1 : 2)),
  connections: Number(env.BENCH_CONNECTIONS ?? 50),
  loginConnections: Number(env.BENCH_LOGIN_CONNECTIONS ?? cores * 4),
  rows: Number(env.BENCH_ROWS ?? (quick ? 100_000 : 1_000_000)),
  dialects: (env.BENCH_DIALECTS ?? 'sqlite,mysql').split(',').map((s) => s.trim()),
  mysqlBase: env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306',
  /** Alternating rounds (and seconds per run) of ours against the hand-written route. */
  rounds: Number(env.BENCH_ROUNDS ?? (quick ? 1 : 3)),
  versusDuration: Number(env.BENCH_VERSUS_DURATION ?? (quick ? 3 : 5)),
  cpuProf: env.BENCH_CPU_PROF === '1',
  out: env.BENCH_OUT ?? join(BENCH_DIR, 'results.md'),
};
CFG.deepCursor = Number(env.BENCH_DEEP_CURSOR ?? Math.max(0, CFG.rows - 10_000));

const JWT_SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PROFILE_DIR = join(BENCH_DIR, 'profiles');
const WARNINGS_LOG = join(BENCH_DIR, 'server-warnings.log');
const SERVER_ENV = {
  NODE_ENV: 'production',
  JWT_SECRET,
  LOG_LEVEL: 'warn',
  ...RATE_LIMITS_OFF,
};
const USER = { user_name: 'Bench Runner', login: 'bench.runner', password: 'bench password 123456' };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (...a) => console.error('[bench]', ...a);
const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;

// ---------------------------------------------------------------------------------------------------------
// Runs

/** Throws, with the end of its output, if the server process has gone. */
function assertAlive(server) {
  const exit = server?.exited();
  if (exit) {
    throw new Error(
      `${server.name} exited (${JSON.stringify(exit)}); its last output:\n${server.output().slice(-3000)}`,
    );
  }
}

/** Warm-up (not recorded), then the measured run. */
async function measure(label, opts, server) {
  if (CFG.warmup > 0) await cannon({ ...opts, duration: CFG.warmup });
  assertAlive(server);
  const r = await cannon({ ...opts, duration: CFG.duration });
  assertAlive(server);
  log(
    `${elapsed()} ${label}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50} ms, p99 ${r.p99} ms, errors ${r.errors + r.mismatches}, non-2xx ${r.non2xx}`,
  );
  return r;
}

async function baselineRun(label) {
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

function profArgs(name) {
  if (!CFG.cpuProf) return [];
  mkdirSync(PROFILE_DIR, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`];
}

async function startApi(dialect, url, tag) {
  return startServer({
    name: `server (${dialect})`,
    script: SERVER_MAIN,
    env: { ...SERVER_ENV, DATABASE_URL: url },
    nodeArgs: profArgs(`server-${dialect}-${tag}`),
    readyPath: '/readyz',
  });
}

/** Registers the bench user (tolerating an existing one) and logs in. */
async function signIn(base) {
  const reg = await postJson(`${base}/api/v1/register`, USER);
  if (reg.status !== 201 && reg.status !== 409) throw new Error(`register answered ${reg.status}: ${reg.text}`);
  const res = await postJson(`${base}/api/v1/login`, { login: USER.login, password: USER.password });
  if (res.status !== 200) throw new Error(`login answered ${res.status}: ${res.text}`);
  return res.body.access_token;
}

/** One GET that must answer 200 (and, for tRPC batches, no error inside): returns the body to expect. */
async function preflight(url, headers, check = () => true) {
  const res = await getJson(url, headers);
  if (res.status !== 200 || !check(res.body)) {
    throw new Error(`preflight GET ${url} answered ${res.status}: ${res.text.slice(0, 300)}`);
  }
  return res.text;
}

const trpcInput = (value) => encodeURIComponent(JSON.stringify(value));

/** Server log lines at warn or above (pino JSON): anything here deserves a look. */
function warnLines(output) {
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

/** What each database's part had measured so far, for the report when it fails half-way. */
const partial = new Map();

/**
 * The API server of one part, restartable: other people's scripts on a shared machine may stop it (it then
 * exits 0, as after a SIGTERM). A scenario whose server went away is measured again on a fresh one.
 */
class Api {
  constructor(dialect, url, tag, out) {
    Object.assign(this, { dialect, url: null, dbUrl: url, tag, out, server: null, token: null });
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

async function runDialect(dialect) {
  const out = { dialect, runs: {}, notes: [], warnLines: [] };
  partial.set(dialect, out);
  if (dialect === 'mysql') {
    try {
      out.dbVersion = await mysqlVersion(CFG.mysqlBase);
    } catch (err) {
      out.skipped = `MySQL at ${CFG.mysqlBase} unreachable: ${err.message}`;
      log(out.skipped);
      return out;
    }
  } else {
    out.dbVersion = `SQLite ${sqliteVersion()}`;
  }
  const C = CFG.connections;

  // --- Part 1: a small database (200 users) for the transport, login and storm figures.
  const small = await createDatabase(dialect, 'apiu_bench', CFG.mysqlBase);
  try {
    await migrateAndSeed(dialect, small.url, 200);
    const api = new Api(dialect, small.url, 'main', out);
    try {
      const scenarios = [
        ['app /healthz (no auth, no DB)', '/healthz', false],
        ['REST GET /users/:id', '/api/v1/users/1', true],
        ['REST GET /users?limit=50', '/api/v1/users?limit=50', true],
        ['tRPC users.byId', `/trpc/users.byId?input=${trpcInput({ id: 1 })}`, true],
        ['tRPC users.list (50)', `/trpc/users.list?input=${trpcInput({ limit: 50 })}`, true],
        [
          'tRPC batch byId+list',
          `/trpc/users.byId,users.list?batch=1&input=${trpcInput({ 0: { id: 1 }, 1: { limit: 50 } })}`,
          true,
          (body) => Array.isArray(body) && body.every((r) => r.result?.data !== undefined),
        ],
      ];
      for (const [label, path, authed, check] of scenarios) {
        out.runs[label] = await api.scenario(async ({ url, auth, server }) => {
          const headers = authed ? auth : {};
          const expectBody = await preflight(url + path, headers, check);
          return measure(`${dialect} ${label}`, { url: url + path, headers, connections: C, expectBody }, server);
        });
      }

      // The hand-written route on the same database, in alternating rounds with ours (versus.mjs).
      const theirs = await startHandwritten({
        dbUrl: small.url,
        env: SERVER_ENV,
        nodeArgs: profArgs(`hand-written-${dialect}`),
      });
      try {
        const runOptions = {
          rounds: CFG.rounds,
          duration: CFG.versusDuration,
          warmup: CFG.warmup,
          connections: C,
          log: (line) => log(`${elapsed()} ${dialect} ${line}`),
        };
        out.versus = await api.scenario(({ server, auth }) =>
          versusHandwritten({ ours: server, theirs, headers: auth, ...runOptions }),
        );
        out.fastPath = await api.scenario(({ server, auth }) =>
          trpcFastPathGain({ ours: server, headers: auth, ...runOptions }),
        );
      } finally {
        await theirs.stop();
      }

      // Revocation check (the guard's SELECT), timed directly while the server idles.
      await api.ensure();
      out.revocation = await revocationCheckCost(small.url, jwtPayload(api.token));
      log(
        `${elapsed()} ${dialect} revocation check: ${out.revocation.sequentialUs.toFixed(0)} µs sequential, ${out.revocation.concurrentUs.toFixed(0)} µs amortised`,
      );

      // The argon2 cost again, right before the logins, so the limit reflects the machine's load of the moment.
      out.argon = await argon2Cost(7);
      out.limit = cores / (out.argon.hashMs / 1000);
      log(
        `${elapsed()} ${dialect} argon2id: hash ${out.argon.hashMs.toFixed(1)} ms -> limit ${out.limit.toFixed(1)} logins/s; in-process ceiling ${out.argon.ceiling.toFixed(1)} verifies/s`,
      );

      // Logins: as many as the argon2 limit allows.
      const credentials = { login: USER.login, password: USER.password };
      const loginReq = (url) => ({
        url: `${url}/api/v1/login`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(credentials),
      });
      out.runs['REST POST /login'] = await api.scenario(async ({ url, server }) => {
        for (let i = 0; i < 4; i++) await postJson(`${url}/api/v1/login`, credentials);
        return measure(`${dialect} login`, { ...loginReq(url), connections: CFG.loginConnections }, server);
      });

      // Login storm: GET by id (as at rest) and logins at once, from two autocannon instances.
      await api.scenario(async ({ url, auth, server }) => {
        const byIdUrl = `${url}/api/v1/users/1`;
        const expectBody = await preflight(byIdUrl, auth);
        const [get, logins] = await Promise.all([
          cannon({ url: byIdUrl, headers: auth, connections: C, duration: CFG.duration, expectBody }),
          cannon({ ...loginReq(url), connections: CFG.loginConnections, duration: CFG.duration }),
        ]);
        assertAlive(server);
        out.runs['REST GET /users/:id during login storm'] = get;
        out.runs['REST POST /login (storm)'] = logins;
        log(
          `${elapsed()} ${dialect} storm: GET p99 ${get.p99} ms (${get.rps.toFixed(0)} req/s), logins ${logins.rps.toFixed(1)}/s`,
        );
      });
      out.rssMiB = rssMiB(api.server.pid);
    } finally {
      await api.stop();
    }
  } finally {
    await small.drop();
  }

  // --- Part 2: CFG.rows users, first page vs a deep page.
  const big = await createDatabase(dialect, 'apiu_bench_1m', CFG.mysqlBase);
  try {
    out.seedSeconds = await migrateAndSeed(dialect, big.url, CFG.rows);
    log(`${elapsed()} ${dialect} seeded ${CFG.rows} users in ${out.seedSeconds.toFixed(1)} s`);
    out.paging = await pagingCost(big.url, CFG.deepCursor);
    out.filters = await filterCost(big.url, CFG.deepCursor, CFG.rows);
    const api = new Api(dialect, big.url, 'paging', out);
    try {
      for (const [label, query] of [
        ['REST GET /users?limit=50, page 1', 'limit=50'],
        [`REST GET /users?limit=50&cursor=${CFG.deepCursor}`, `limit=50&cursor=${CFG.deepCursor}`],
        [`REST GET /users?limit=50&role=2&cursor=${CFG.deepCursor}`, `limit=50&role=2&cursor=${CFG.deepCursor}`],
      ]) {
        out.runs[label] = await api.scenario(async ({ url, auth, server }) => {
          const pageUrl = `${url}/api/v1/users?${query}`;
          const expectBody = await preflight(pageUrl, auth, (body) => body.items?.length === 50);
          return measure(`${dialect} ${label}`, { url: pageUrl, headers: auth, connections: C, expectBody }, server);
        });
      }
    } finally {
      await api.stop();
    }
  } finally {
    await big.drop();
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Report

const fmt = (n, digits = 0) => (n === null || n === undefined || Number.isNaN(n) ? 'n/a' : n.toFixed(digits));
const pct = (x) => `${(x * 100).toFixed(0)} %`;

function buildReport(ctx) {
  const { baseline, dialects, argon, jwt, versions } = ctx;
  const baseRps = baseline.rps;
  const baseP99 = baseline.p99;
  const baseUs = 1e6 / baseRps;
  const lines = [];
  const P = (s = '') => lines.push(s);

  P('# Api users — benchmark results');
  P();
  P(
    `Date: ${new Date(started).toISOString()} · run took ${elapsed()}${quick ? ' · **quick mode** (short runs, fewer rows)' : ''}`,
  );
  P();
  P(
    `Machine: ${cores} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, ${os.platform()} ${os.release()}; load average at start ${ctx.loadStart.map((x) => x.toFixed(2)).join(' ')}, at end ${os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  P();
  P(
    `Versions: ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  P();
  P(
    `Settings: autocannon ${CFG.connections} connections, ${CFG.duration} s per run after ${CFG.warmup} s warm-up; logins with ${CFG.loginConnections} connections; server NODE_ENV=production, LOG_LEVEL=warn, rate limits off, default DB_POOL_SIZE; argon2id m=19456 t=2 p=1.`,
  );
  P();
  P(
    `Baseline (bare Fastify, one constant JSON route, own process): **${fmt(baseRps)} req/s**, p50 ${baseline.p50} ms, p99 ${baseP99} ms — mean of ${ctx.baselines.length} runs spread over the invocation (${ctx.baselines.map((b) => fmt(b.rps)).join(', ')} req/s; the spread shows how noisy the machine was). Every ratio below is against it.`,
  );
  P();

  P('## Throughput and latency');
  P();
  P('| database | scenario | req/s | × baseline req/s | p50 ms | p99 ms | p99 × baseline | errors | non-2xx | 429 |');
  P('|---|---|--:|--:|--:|--:|--:|--:|--:|--:|');
  P(
    `| — | baseline (bare Fastify) | ${fmt(baseRps)} | 1.00 | ${baseline.p50} | ${baseP99} | 1.0 | ${baseline.errors + baseline.mismatches} | ${baseline.non2xx} | ${baseline.status429} |`,
  );
  for (const d of dialects) {
    if (d.skipped) {
      P(`| ${d.dialect} | skipped: ${d.skipped} | | | | | | | | |`);
      continue;
    }
    if (d.failed) P(`| ${d.dialect} | **run failed** (see Targets) | | | | | | | | |`);
    for (const [label, r] of Object.entries(d.runs)) {
      const isLogin = label.includes('login');
      P(
        `| ${d.dialect} | ${label} | ${fmt(r.rps, isLogin ? 1 : 0)} | ${(r.rps / baseRps).toFixed(isLogin ? 4 : 2)} | ${r.p50} | ${r.p99} | ${(r.p99 / baseP99).toFixed(1)} | ${r.errors + r.mismatches} | ${r.non2xx} | ${r.status429} |`,
      );
    }
  }
  P();
  P(
    'errors = socket errors + timeouts + answers whose body differed from the expected one (GETs are checked byte for byte against a preflight answer).',
  );
  P();

  P('## Against a hand-written route');
  P();
  P(
    `bench/handwritten-server.mjs does the same work as the server's two GETs and nothing else (see bench/README.md). Each pair ran ${CFG.rounds} alternating round(s) of ${CFG.versusDuration} s after ${CFG.warmup} s of warm-up, ${CFG.connections} connections, on the 200-user database; req/s are the medians. Targets: ours ÷ hand-written ≥ ${TARGETS.sqlite} on SQLite and ≥ ${TARGETS.mysql} on MySQL for REST by id; list and tRPC within 10 % of that (≥ 0.9 × the target).`,
  );
  P();
  P('| database | ours | against | ours req/s | hand-written req/s | ratio | each round | threshold | result |');
  P('|---|---|---|--:|--:|--:|---|--:|---|');
  for (const d of dialects) {
    if (!d.versus) continue;
    for (const r of versusTargets(d.dialect, d.versus)) {
      P(
        `| ${d.dialect} | ${r.label} | GET ${r.against} | ${fmt(r.ours)} | ${fmt(r.theirs)} | ${r.ratio.toFixed(2)} | ${r.roundRatios.map((x) => x.toFixed(2)).join(' ')} | ≥ ${r.threshold.toFixed(2)} | ${r.pass ? 'PASS' : '**FAIL**'} |`,
      );
    }
  }
  P();
  P(
    `tRPC queries are answered by adapters/trpc.ts's own path, a second copy of tRPC's wire format kept only while it is worth ≥ ${FAST_PATH_MIN_GAIN}× (a \`trpc-accept\` header sends the same query through tRPC's own handler; trpc-query-path.test.ts holds the two to one answer):`,
  );
  P();
  P("| database | own path req/s | tRPC's handler req/s | gain | each round | threshold | result |");
  P('|---|--:|--:|--:|---|--:|---|');
  for (const d of dialects) {
    const f = d.fastPath;
    if (!f) continue;
    P(
      `| ${d.dialect} | ${fmt(f.fast)} | ${fmt(f.trpc)} | ${f.gain.toFixed(2)}× | ${f.roundRatios.map((x) => x.toFixed(2)).join(' ')} | ≥ ${FAST_PATH_MIN_GAIN}× | ${f.gain >= FAST_PATH_MIN_GAIN ? 'PASS' : '**FAIL**'} |`,
    );
  }
  P();

  P('## Costs');
  P();
  P(
    `"× baseline request" divides the cost by the time one baseline request takes at saturation (1 / ${fmt(baseRps)} req/s = ${fmt(baseUs, 1)} µs).`,
  );
  P();
  P('| figure | value | × baseline request |');
  P('|---|--:|--:|');
  const argonRows = (where, a) => {
    const limit = cores / (a.hashMs / 1000);
    P(`| argon2id hash, one at a time (${where}) | ${fmt(a.hashMs, 1)} ms | ${fmt((a.hashMs * 1000) / baseUs, 0)} |`);
    P(
      `| argon2id verify, one at a time (${where}) | ${fmt(a.verifyMs, 1)} ms | ${fmt((a.verifyMs * 1000) / baseUs, 0)} |`,
    );
    P(
      `| login limit = ${cores} cores ÷ one hash (${where}) | ${fmt(limit, 1)} logins/s | ${(limit / baseRps).toFixed(4)} × baseline req/s |`,
    );
    for (const [inFlight, perSecond] of Object.entries(a.parallel)) {
      P(
        `| argon2id verifies/s in-process, ${inFlight} in flight (${where}) | ${fmt(perSecond, 1)} /s | ${(perSecond / limit).toFixed(2)} × the limit |`,
      );
    }
  };
  argonRows('at start', argon);
  for (const d of dialects) if (d.argon) argonRows(`before the ${d.dialect} logins`, d.argon);
  P(
    `| JWT verify, fast-jwt cache on (server's options) | ${fmt(jwt.cachedUs, 2)} µs | ${fmt(jwt.cachedUs / baseUs, 3)} |`,
  );
  P(`| JWT verify, fast-jwt cache off | ${fmt(jwt.uncachedUs, 2)} µs | ${fmt(jwt.uncachedUs / baseUs, 3)} |`);
  for (const [algorithm, us] of Object.entries(jwt.uncachedByAlgorithmUs)) {
    P(`| JWT verify ${algorithm}, fast-jwt cache off | ${fmt(us, 2)} µs | ${fmt(us / baseUs, 3)} |`);
  }
  P(
    `| server TokenService.verify (cache on + claims schema) | ${jwt.serviceUs === null ? `n/a (${jwt.serviceError})` : `${fmt(jwt.serviceUs, 2)} µs`} | ${fmt(jwt.serviceUs / baseUs, 3)} |`,
  );
  for (const d of dialects) {
    if (d.skipped || d.failed) continue;
    const rv = d.revocation;
    P(
      `| ${d.dialect}: revocation check (guard's SELECT), one at a time | ${fmt(rv.sequentialUs, 0)} µs | ${fmt(rv.sequentialUs / baseUs, 2)} |`,
    );
    P(
      `| ${d.dialect}: revocation check, ${rv.inFlight} in flight, amortised | ${fmt(rv.concurrentUs, 0)} µs | ${fmt(rv.concurrentUs / baseUs, 2)} |`,
    );
    const byId = d.runs['REST GET /users/:id'];
    if (byId) {
      P(
        `| ${d.dialect}: one authenticated GET by id at saturation (1 / req/s) | ${fmt(1e6 / byId.rps, 0)} µs | ${fmt(1e6 / byId.rps / baseUs, 2)} |`,
      );
    }
    if (d.rssMiB) P(`| ${d.dialect}: server RSS after the transport, login and storm runs | ${fmt(d.rssMiB)} MiB | |`);
    P(`| ${d.dialect}: seeding ${CFG.rows.toLocaleString('en-US')} users | ${fmt(d.seedSeconds, 1)} s | |`);
    P(
      `| ${d.dialect}: page of 50 at depth ${CFG.deepCursor}, keyset (kysely direct) | ${fmt(d.paging.keysetMs, 2)} ms | ${fmt((d.paging.keysetMs * 1000) / baseUs, 1)} |`,
    );
    P(
      `| ${d.dialect}: same page by OFFSET (for comparison; not what the server does) | ${fmt(d.paging.offsetMs, 1)} ms | ${fmt((d.paging.offsetMs * 1000) / baseUs, 0)} |`,
    );
    for (const [label, ms] of d.filters) {
      P(
        `| ${d.dialect}: page of 50, ${label} (the server's listUsers) | ${fmt(ms, 2)} ms | ${fmt((ms * 1000) / baseUs, 1)} |`,
      );
    }
  }
  P();

  P('## Targets');
  P();
  P('| target | measured | threshold | result |');
  P('|---|--:|--:|---|');
  const targets = [];
  const T = (name, measured, threshold, pass) => {
    targets.push({ name, pass });
    const result = { skip: 'SKIP', info: 'information' }[pass] ?? (pass ? 'PASS' : '**FAIL**');
    P(`| ${name} | ${measured} | ${threshold} | ${result} |`);
  };
  const mysql = dialects.find((d) => d.dialect === 'mysql');
  if (!mysql || mysql.skipped) T('MySQL: the hand-written route comparison', 'n/a', 'runs', 'skip');
  for (const d of dialects) {
    if (d.skipped) continue;
    if (d.failed) {
      T(`${d.dialect}: the run completed`, `failed: ${d.failed.split('\n')[0].slice(0, 200)}`, 'completes', false);
      continue;
    }
    const r = d.runs;
    const byId = r['REST GET /users/:id'];
    const list = r['REST GET /users?limit=50'];
    for (const v of versusTargets(d.dialect, d.versus ?? [])) {
      T(`${d.dialect}: ${v.label} ÷ the hand-written route`, v.ratio.toFixed(2), `≥ ${v.threshold.toFixed(2)}`, v.pass);
    }
    if (d.fastPath) {
      T(
        `${d.dialect}: tRPC query fast path ÷ tRPC's own handler`,
        `${d.fastPath.gain.toFixed(2)}×`,
        `≥ ${FAST_PATH_MIN_GAIN}×`,
        d.fastPath.gain >= FAST_PATH_MIN_GAIN,
      );
    }
    T(`${d.dialect}: authenticated GET by id ÷ bare Fastify`, pct(byId.rps / baseRps), '', 'info');
    const tId = r['tRPC users.byId'].rps / byId.rps;
    T(`${d.dialect}: tRPC users.byId vs REST req/s`, pct(tId), '≥ 80 %', tId >= 0.8);
    const tList = r['tRPC users.list (50)'].rps / list.rps;
    T(`${d.dialect}: tRPC users.list vs REST req/s`, pct(tList), '≥ 80 %', tList >= 0.8);
    // A batch does one byId and one list: REST's rate for that pair is 1 / (1/byId + 1/list).
    const restPair = 1 / (1 / byId.rps + 1 / list.rps);
    const tBatch = r['tRPC batch byId+list'].rps / restPair;
    T(`${d.dialect}: tRPC batch (byId+list) vs the REST pair`, pct(tBatch), '≥ 80 %', tBatch >= 0.8);
    const limit = d.limit;
    const login = r['REST POST /login'].rps / limit;
    T(
      `${d.dialect}: logins/s vs argon2 limit (${fmt(limit, 1)}/s)`,
      `${pct(login)} (${fmt(r['REST POST /login'].rps, 1)}/s)`,
      '≥ 85 %',
      login >= 0.85,
    );
    const ofCeiling = r['REST POST /login'].rps / d.argon.ceiling;
    T(
      `${d.dialect}: logins/s vs what argon2 gives in-process with several in flight (${fmt(d.argon.ceiling, 1)}/s) (informative)`,
      pct(ofCeiling),
      '≥ 85 %',
      ofCeiling >= 0.85,
    );
    const storm = r['REST GET /users/:id during login storm'].p99 / byId.p99;
    T(
      `${d.dialect}: GET p99 during login storm vs at rest`,
      `${storm.toFixed(1)}× (${r['REST GET /users/:id during login storm'].p99} vs ${byId.p99} ms)`,
      '≤ 3×',
      storm <= 3,
    );
    const page1 = r['REST GET /users?limit=50, page 1'];
    const deep = r[`REST GET /users?limit=50&cursor=${CFG.deepCursor}`];
    const deepRatio = page1.rps / deep.rps;
    T(
      `${d.dialect}: deep page (cursor=${CFG.deepCursor}) cost vs page 1, ${CFG.rows.toLocaleString('en-US')} rows`,
      `${deepRatio.toFixed(2)}× (${fmt(deep.rps)} vs ${fmt(page1.rps)} req/s)`,
      '≤ 1.5×',
      deepRatio <= 1.5,
    );
    const roleDeep = r[`REST GET /users?limit=50&role=2&cursor=${CFG.deepCursor}`];
    const roleRatio = page1.rps / roleDeep.rps;
    T(
      `${d.dialect}: role-filtered deep page (role=2, cursor=${CFG.deepCursor}) vs page 1`,
      `${roleRatio.toFixed(2)}× (${fmt(roleDeep.rps)} vs ${fmt(page1.rps)} req/s)`,
      '≤ 1.5×',
      roleRatio <= 1.5,
    );
  }
  const all = [baseline, ...ctx.baselines, ...dialects.flatMap((d) => Object.values(d.runs ?? {}))];
  const bad = all.reduce((n, r) => n + r.errors + r.mismatches + r.non2xx, 0);
  T('no errors, mismatches or non-2xx answers in any run', String(bad), '0', bad === 0);
  P();

  const notes = [];
  const limited = all.reduce((n, r) => n + r.status429, 0);
  if (limited > 0) {
    notes.push(
      `**${limited} answers were 429 (rate limited)**: the figures above are skewed. The bench starts the server with every RATE_LIMIT_PER_ADDRESS and RATE_LIMIT_FAILURES_* setting at 0; check the server's current rate-limit settings.`,
    );
  }
  for (const d of dialects) {
    notes.push(...(d.notes ?? []));
    if (d.warnLines?.length) {
      notes.push(
        `${d.dialect}: the server logged ${d.warnLines.length} line(s) at warn or above (all in bench/server-warnings.log), first: \`${d.warnLines[0].slice(0, 300)}\``,
      );
    }
  }
  if (notes.length) {
    P('## Notes');
    P();
    for (const n of notes) P(`- ${n}`);
    P();
  }
  P('How to read and rerun this: bench/README.md.');
  return { text: lines.join('\n'), targets };
}

// ---------------------------------------------------------------------------------------------------------

async function main() {
  try {
    readdirSync(join(SERVER_MAIN, '..'));
  } catch {
    throw new Error(
      'apps/server/dist is missing: build first (pnpm exec turbo run build --filter=@api-users/server...)',
    );
  }
  const loadStart = os.loadavg();
  const versions = {
    node: process.version,
    fastify: versionOf(requireFromServer, 'fastify'),
    '@trpc/server': versionOf(requireFromServer, '@trpc/server'),
    kysely: versionOf(requireFromServer, 'kysely'),
    zod: versionOf(requireFromServer, 'zod'),
    'fast-jwt': versionOf(requireFromServer, 'fast-jwt'),
    '@node-rs/argon2': versionOf(requireFromServer, '@node-rs/argon2'),
    mysql2: versionOf(requireFromDb, 'mysql2'),
    'better-sqlite3': versionOf(requireFromDb, 'better-sqlite3'),
    autocannon: versionOf(requireFromBench, 'autocannon'),
  };
  log(
    `${cores} cores; ${Object.entries(versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  );
  if (CFG.cpuProf) rmSync(PROFILE_DIR, { recursive: true, force: true });

  log('argon2 and JWT costs (in this process, before any server runs)');
  const argon = await argon2Cost();
  log(`argon2id: hash ${argon.hashMs.toFixed(1)} ms, verify ${argon.verifyMs.toFixed(1)} ms`);
  const jwt = await jwtCost(JWT_SECRET);
  log(
    `JWT verify: cache on ${jwt.cachedUs.toFixed(2)} µs, off ${jwt.uncachedUs.toFixed(2)} µs (EdDSA ${jwt.uncachedByAlgorithmUs.EdDSA.toFixed(2)}, ES256 ${jwt.uncachedByAlgorithmUs.ES256.toFixed(2)}), server service ${jwt.serviceUs?.toFixed(2) ?? jwt.serviceError}`,
  );

  // The baseline runs before each database's part and once at the end; the ratios use their mean.
  const baselines = [];
  const dialects = [];
  for (const d of CFG.dialects) {
    if (d !== 'sqlite' && d !== 'mysql') throw new Error(`unknown dialect ${d}`);
    if (d === 'mysql') {
      try {
        await mysqlVersion(CFG.mysqlBase);
      } catch (err) {
        const skipped = `MySQL at ${CFG.mysqlBase} unreachable: ${err instanceof Error ? err.message : String(err)}`;
        log(skipped);
        dialects.push({ dialect: d, skipped, runs: {} });
        continue;
      }
    }
    baselines.push(await baselineRun(`baseline (before ${d})`));
    try {
      dialects.push(await runDialect(d));
    } catch (err) {
      // One database's failure is reported; the other still runs.
      const message = err instanceof Error ? err.message : String(err);
      log(`${d} part failed: ${message}`);
      dialects.push({
        dialect: d,
        failed: message,
        runs: partial.get(d)?.runs ?? {},
        notes: partial.get(d)?.notes ?? [],
        warnLines: [],
      });
    }
  }
  baselines.push(await baselineRun('baseline (end)'));
  const mean = (k) => baselines.reduce((sum, b) => sum + b[k], 0) / baselines.length;
  const baseline = {
    ...baselines[0],
    rps: mean('rps'),
    // autocannon reports whole milliseconds; keep the mean readable.
    p50: Math.round(mean('p50') * 10) / 10,
    p99: Math.round(mean('p99') * 10) / 10,
    errors: 0,
    mismatches: 0,
    non2xx: 0,
    status429: 0,
  };
  for (const d of dialects) {
    const mysqlDb = d.dialect === 'mysql' && d.dbVersion ? `MySQL server ${d.dbVersion}` : null;
    if (mysqlDb) versions['MySQL server'] = d.dbVersion;
    if (d.dialect === 'sqlite' && d.dbVersion) versions.SQLite = d.dbVersion.replace('SQLite ', '');
  }

  const warnings = dialects.flatMap((d) => (d.warnLines ?? []).map((l) => `[${d.dialect}] ${l}`));
  if (warnings.length) writeFileSync(WARNINGS_LOG, `${warnings.join('\n')}\n`);
  else rmSync(WARNINGS_LOG, { force: true });
  const { text, targets } = buildReport({ baseline, baselines, dialects, argon, jwt, versions, loadStart });
  writeFileSync(CFG.out, `${text}\n`);
  formatMarkdown(CFG.out);
  console.log(readFileSync(CFG.out, 'utf8'));
  log(`wrote ${CFG.out}${CFG.cpuProf ? `; CPU profiles in ${PROFILE_DIR} (node bench/profile-top.mjs <file>)` : ''}`);
  const failed = targets.filter((t) => t.pass === false).length;
  if (failed && env.BENCH_STRICT === '1') process.exitCode = 1;
}

main()
  .catch((err) => {
    console.error(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 2;
  })
  .finally(() => removeTempDir());
