// The server against the hand-written route doing the same work (handwritten-server.mjs), on one database,
// in alternating rounds (ours, theirs, theirs, ours, ...) so a slow patch of a noisy machine hits both sides.
// run.mjs calls versusHandwritten() for each database; alone, `node bench/versus.mjs [--quick]` sets up its own
// databases (BENCH_DIALECTS, BENCH_MYSQL_URL as in run.mjs) and prints the ratios: the quick loop while profiling
// (BENCH_ONLY=<regex> picks pairs by label; BENCH_CPU_PROF=1 writes our server's profile to bench/profiles/).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, migrateAndSeed, mysqlVersion, removeTempDir } from './databases.mjs';
import { BENCH_DIR, cannon, getJson, median, startServer } from './lib.mjs';

/** ours ÷ hand-written by-id, at or above which the target passes; list and tRPC may be 10 % lower. */
export const TARGETS = { sqlite: 0.7, mysql: 0.85 };
export const SIDE_SLACK = 0.9;

const trpcInput = (value) => encodeURIComponent(JSON.stringify(value));

/** [label, our path, the hand-written path it is held against] */
const PAIRS = [
  ['REST GET /users/:id', '/api/v1/users/1', '/api/v1/users/1'],
  ['REST GET /users?limit=50', '/api/v1/users?limit=50', '/api/v1/users?limit=50'],
  ['tRPC users.byId', `/trpc/users.byId?input=${trpcInput({ id: 1 })}`, '/api/v1/users/1'],
  ['tRPC users.list (50)', `/trpc/users.list?input=${trpcInput({ limit: 50 })}`, '/api/v1/users?limit=50'],
];

export function startHandwritten({ dbUrl, env, nodeArgs = [] }) {
  return startServer({
    name: 'hand-written',
    script: join(BENCH_DIR, 'handwritten-server.mjs'),
    env: { ...env, DATABASE_URL: dbUrl },
    nodeArgs,
  });
}

async function expectedBody(url, headers) {
  const res = await getJson(url, headers);
  if (res.status !== 200) throw new Error(`preflight GET ${url} answered ${res.status}: ${res.text.slice(0, 300)}`);
  return res.text;
}

/**
 * Rounds of (ours, hand-written) per pair, the order flipped every round; returns per pair the median req/s
 * of each side, their ratio and every round's ratio. The hand-written REST answer must equal ours byte for
 * byte, or the two are not doing the same work.
 */
export async function versusHandwritten({ ours, theirs, headers, rounds, duration, warmup, connections, only, log }) {
  const results = [];
  for (const [label, ourPath, theirPath] of PAIRS.filter(([label]) => only?.test(label) ?? true)) {
    const sides = [
      { url: ours.url + ourPath, server: ours, runs: [] },
      { url: theirs.url + theirPath, server: theirs, runs: [] },
    ];
    for (const side of sides) side.expectBody = await expectedBody(side.url, headers);
    if (ourPath === theirPath && sides[0].expectBody !== sides[1].expectBody) {
      throw new Error(
        `${label}: the hand-written answer differs from ours:\n${sides[1].expectBody}\n${sides[0].expectBody}`,
      );
    }
    for (let round = 0; round < rounds; round++) {
      for (const side of round % 2 === 0 ? sides : [...sides].reverse()) {
        const opts = { url: side.url, headers, connections, expectBody: side.expectBody };
        if (warmup > 0) await cannon({ ...opts, duration: warmup });
        const r = await cannon({ ...opts, duration });
        if (side.server.exited()) throw new Error(`${side.server.name} exited during ${label}`);
        if (r.errors + r.mismatches + r.non2xx > 0) {
          throw new Error(`${label} on ${side.server.name}: ${r.errors + r.mismatches} errors, ${r.non2xx} non-2xx`);
        }
        side.runs.push(r.rps);
      }
    }
    const [our, their] = sides.map((s) => median(s.runs));
    const roundRatios = sides[0].runs.map((rps, i) => rps / sides[1].runs[i]);
    results.push({ label, ours: our, theirs: their, ratio: our / their, roundRatios });
    log?.(
      `${label}: ours ${our.toFixed(0)} req/s, hand-written ${their.toFixed(0)} req/s, ratio ${(our / their).toFixed(2)} (rounds ${roundRatios.map((x) => x.toFixed(2)).join(' ')})`,
    );
  }
  return results;
}

/** PASS/FAIL per pair: by-id REST against the database's target, the others against 90 % of it. */
export function versusTargets(dialect, results) {
  return results.map((r) => {
    const threshold = r.label === 'REST GET /users/:id' ? TARGETS[dialect] : TARGETS[dialect] * SIDE_SLACK;
    return { ...r, threshold, pass: r.ratio >= threshold };
  });
}

// ---------------------------------------------------------------------------------------------------------
// Alone: node bench/versus.mjs [--quick]

async function main() {
  const { SERVER_MAIN, RATE_LIMITS_OFF, postJson } = await import('./lib.mjs');
  const quick = process.argv.includes('--quick');
  const env = process.env;
  const dialects = (env.BENCH_DIALECTS ?? 'sqlite,mysql').split(',');
  const mysqlBase = env.BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
  const secret = 'versus-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
  const serverEnv = { NODE_ENV: 'production', JWT_SECRET: secret, LOG_LEVEL: 'warn', ...RATE_LIMITS_OFF };
  const prof = env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${join(BENCH_DIR, 'profiles')}`] : [];
  const log = (...a) => console.error('[versus]', ...a);
  for (const dialect of dialects) {
    if (dialect === 'mysql') {
      try {
        await mysqlVersion(mysqlBase);
      } catch (err) {
        log(`mysql skipped: ${err.message}`);
        continue;
      }
    }
    const database = await createDatabase(dialect, 'apiu_versus', mysqlBase);
    let ours;
    let theirs;
    try {
      await migrateAndSeed(dialect, database.url, 200);
      ours = await startServer({
        name: `server (${dialect})`,
        script: SERVER_MAIN,
        env: { ...serverEnv, DATABASE_URL: database.url },
        nodeArgs: prof,
        readyPath: '/readyz',
      });
      theirs = await startHandwritten({ dbUrl: database.url, env: serverEnv });
      const user = { user_name: 'Versus', login: 'versus.runner', password: 'versus password 123456' };
      await postJson(`${ours.url}/api/v1/register`, user);
      const login = await postJson(`${ours.url}/api/v1/login`, { login: user.login, password: user.password });
      const headers = { authorization: `Bearer ${login.body.access_token}` };
      const results = await versusHandwritten({
        ours,
        theirs,
        headers,
        rounds: Number(env.BENCH_ROUNDS ?? (quick ? 2 : 3)),
        duration: Number(env.BENCH_DURATION ?? (quick ? 3 : 5)),
        warmup: quick ? 1 : 2,
        connections: 50,
        only: env.BENCH_ONLY ? new RegExp(env.BENCH_ONLY) : undefined,
        log: (line) => log(`${dialect} ${line}`),
      });
      for (const r of versusTargets(dialect, results)) {
        console.log(
          `${dialect} ${r.label}: ${r.ratio.toFixed(2)} (≥ ${r.threshold.toFixed(2)}) ${r.pass ? 'PASS' : 'FAIL'}`,
        );
      }
    } finally {
      await Promise.all([ours?.stop(), theirs?.stop()]);
      await database.drop();
    }
  }
  removeTempDir();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
