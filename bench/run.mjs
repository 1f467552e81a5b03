#!/usr/bin/env node
// Load benchmark of the real server (SQLite and MySQL), every figure set against baselines measured in the same
// invocation. Prints the tables and writes bench/results.md. See bench/README.md. Each part measures one thing:
// transport.mjs (REST/tRPC GETs), logins.mjs (argon2-bound logins and the storm), paging.mjs (a million users),
// micro.mjs (in-process costs), tools/versus.mjs (ours against the hand-written route); report.mjs writes the
// results, with the soak's figures from bench/soak-results.md (`pnpm soak`, run apart: 10 minutes a database).
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { Api, baselineRun } from './api.mjs';
import { CFG, cores, elapsed, JWT_SECRET, log, PROFILE_DIR, profArgs, SERVER_ENV, WARNINGS_LOG } from './config.mjs';
import { createDatabase, databaseVersion, migrateAndSeed, removeTempDir, serverOf } from './databases.mjs';
import {
  formatMarkdown,
  jwtPayload,
  requireFromBench,
  requireFromDb,
  requireFromServer,
  rssMiB,
  SERVER_MAIN,
  versionOf,
} from './lib.mjs';
import { measureLogins } from './logins.mjs';
import { argon2Cost, jwtCost, revocationCheckCost } from './micro.mjs';
import { measurePaging } from './paging.mjs';
import { buildReport } from './report.mjs';
import { startHandwritten, trpcFastPathGain, versusHandwritten, versusTargets } from './tools/versus.mjs';
import { measureTransports } from './transport.mjs';

/** What each database's part had measured so far, for the report when it fails half-way. */
const partial = new Map();

/** Ours against the hand-written route on the same database, and the tRPC fast path against tRPC's handler. */
async function measureVersus(api, dbUrl, out) {
  const { dialect } = out;
  const theirs = await startHandwritten({ dbUrl, env: SERVER_ENV, nodeArgs: profArgs(`hand-written-${dialect}`) });
  try {
    const runOptions = {
      rounds: CFG.rounds,
      duration: CFG.versusDuration,
      warmup: CFG.warmup,
      connections: CFG.connections,
    };
    const logLine = (line) => log(`${elapsed()} ${dialect} ${line}`);
    const pairs = await versusHandwritten({ ours: api.server, theirs, headers: api.auth, ...runOptions, log: logLine });
    out.versus = versusTargets(dialect, pairs);
    out.fastPath = await trpcFastPathGain({ ours: api.server, headers: api.auth, ...runOptions, log: logLine });
  } finally {
    await theirs.stop();
  }
}

async function runDialect(dialect) {
  const out = { dialect, runs: {}, notes: [], warnLines: [] };
  partial.set(dialect, out);
  try {
    out.dbVersion = await databaseVersion(dialect);
  } catch (err) {
    out.skipped = `${dialect} at ${serverOf(dialect)} unreachable: ${err.message}`;
    log(out.skipped);
    return out;
  }
  // --- Part 1: a small database (200 users) for the transport, login and storm figures.
  const small = await createDatabase(dialect, 'apiu_bench');
  try {
    await migrateAndSeed(dialect, small.url, 200);
    const api = new Api(dialect, small.url, 'main', out);
    try {
      await measureTransports(api, out);
      await api.ensure();
      await measureVersus(api, small.url, out);

      // Revocation check (the guard's SELECT), timed directly while the server idles.
      await api.ensure();
      out.revocation = await revocationCheckCost(small.url, jwtPayload(api.token));
      log(
        `${elapsed()} ${dialect} revocation check: ${out.revocation.sequentialUs.toFixed(0)} µs sequential, ${out.revocation.concurrentUs.toFixed(0)} µs amortised`,
      );

      await measureLogins(api, out);
      out.rssMiB = rssMiB(api.server.pid);
    } finally {
      await api.stop();
    }
  } finally {
    await small.drop();
  }

  // --- Part 2: CFG.rows users, first page vs a deep page.
  await measurePaging(out);
  return out;
}

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
    `TokenService.verify: ${Object.entries(jwt)
      .map(([alg, c]) => `${alg} first ${c.firstUs.toFixed(2)} µs, again ${c.againUs.toFixed(2)} µs`)
      .join('; ')}`,
  );

  // The baseline runs before each database's part and once at the end; the ratios use their mean.
  const baselines = [];
  const dialects = [];
  for (const d of CFG.dialects) {
    if (!['sqlite', 'mysql', 'postgres'].includes(d)) throw new Error(`unknown dialect ${d}`);
    try {
      await databaseVersion(d);
    } catch (err) {
      const skipped = `${d} at ${serverOf(d)} unreachable: ${err instanceof Error ? err.message : String(err)}`;
      log(skipped);
      dialects.push({ dialect: d, skipped, runs: {} });
      continue;
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
    // `MySQL server 10.11…`, `PostgreSQL 15…`, `SQLite 3…`: the name, then the version.
    const [, name, version] = /^(.*) (\S+)$/.exec(d.dbVersion ?? '') ?? [];
    if (name && version) versions[name] = version;
  }

  const warnings = dialects.flatMap((d) => (d.warnLines ?? []).map((l) => `[${d.dialect}] ${l}`));
  if (warnings.length) writeFileSync(WARNINGS_LOG, `${warnings.join('\n')}\n`);
  else rmSync(WARNINGS_LOG, { force: true });
  const { text, targets } = buildReport({ baseline, baselines, dialects, argon, jwt, versions, loadStart });
  writeFileSync(CFG.out, `${text}\n`);
  formatMarkdown(CFG.out);
  console.log(readFileSync(CFG.out, 'utf8'));
  log(
    `wrote ${CFG.out}${CFG.cpuProf ? `; CPU profiles in ${PROFILE_DIR} (node bench/tools/profile-top.mjs <file>)` : ''}`,
  );
  const failed = targets.filter((t) => t.pass === false).length;
  if (failed && process.env.BENCH_STRICT === '1') process.exitCode = 1;
}

main()
  .catch((err) => {
    console.error(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exitCode = 2;
  })
  .finally(() => removeTempDir());
