// Soak: a bounded mixed load (loopback only) across two server instances on one database, on each database in
// turn, then checks that nothing was lost and that memory stayed flat. `pnpm soak` (60 s per database; SQLite, then
// MySQL and PostgreSQL when they answer); SOAK_SECONDS, SOAK_DB (sqlite, mysql, postgres, comma-separated),
// SOAK_WORKERS and SOAK_SETTLE_SECONDS override.
// Prints the figures and writes bench/soak-results.md.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REST_PREFIX } from '@api-users/contract';
import { connect } from '@api-users/db';
import { createDatabase, databaseVersion, removeTempDir } from './databases.mjs';
import {
  BENCH_DIR,
  formatMarkdown,
  LOCAL_PASSKEYS,
  median,
  RATE_LIMITS_OFF,
  rssMiB,
  SERVER_MAIN,
  startServer,
} from './lib.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 16);
/**
 * RSS is read this often under load, and once idle before and after. Flat: the idle reading after the run within
 * IDLE_FLAT of the one before (issue 25), and the median of the last third of the readings under load within
 * LOAD_FLAT of the first third's (medians, because each argon2 hash in flight holds 19 MiB for a moment).
 */
const SAMPLE_SECONDS = Math.max(1, Math.round(SECONDS / 20));
/**
 * Idle time before each idle reading: right after a load the heap still holds that load's garbage, which V8
 * collects once allocation stops for a while. Both idle readings follow a full load (the warm-up, the run) and
 * wait alike, so they compare what the run kept; each is the median of three, two seconds apart.
 */
const SETTLE_SECONDS = Number(process.env.SOAK_SETTLE_SECONDS ?? 20);
/** The warm-up: every worker, long enough for the heap to reach its working size before the first reading. */
const WARMUP_SECONDS = Number(process.env.SOAK_WARMUP_SECONDS ?? 30);
const IDLE_FLAT = 1.05;
const LOAD_FLAT = 1.1;
const PASSWORD = 'soak test password';

const reachable = async (dialect) =>
  databaseVersion(dialect).then(
    () => true,
    () => false,
  );
const dialects = process.env.SOAK_DB
  ? process.env.SOAK_DB.split(',').map((d) => d.trim())
  : [
      'sqlite',
      ...((await reachable('mysql')) ? ['mysql'] : []),
      ...((await reachable('postgres')) ? ['postgres'] : []),
    ];

/** One request to a random instance; `expect` is the status this step of the story should get. */
async function stepOn(run, method, path, { json, token, expect }) {
  const { instances, counts, fivexx } = run;
  const base = instances[Math.floor(Math.random() * instances.length)].url;
  const headers = {};
  if (json !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}${REST_PREFIX}${path}`, {
    method,
    headers,
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const body = await res.json().catch(() => null);
  counts.requests++;
  counts[`${Math.floor(res.status / 100)}xx`]++;
  if (res.status >= 500) fivexx.push(`${method} ${path} ${res.status} ${JSON.stringify(body)}`);
  else if (res.status !== expect) counts.unexpected++;
  return body;
}

/** A user's whole story, over and over, each call on either instance. */
async function worker(run, until) {
  const step = (...args) => stepOn(run, ...args);
  while (Date.now() < until) {
    const login = `soak.${process.pid}.${run.seq++}`;
    const user = await step('POST', '/register', {
      json: { user_name: `Soak ${run.seq}`, login, password: PASSWORD },
      expect: 201,
    });
    if (user?.id_user) run.registered.push(login);
    await step('POST', '/register', { json: { user_name: 'Again', login, password: PASSWORD }, expect: 409 });
    await step('POST', '/login', { json: { login, password: 'wrong password' }, expect: 401 });
    const pair = await step('POST', '/login', { json: { login, password: PASSWORD }, expect: 200 });
    const page = await step('GET', '/users?limit=20', { token: pair?.access_token, expect: 200 });
    await step('GET', `/users/${user?.id_user ?? 1}`, { token: pair?.access_token, expect: 200 });
    if (page?.next_cursor)
      await step('GET', `/users?limit=20&cursor=${page.next_cursor}`, { token: pair?.access_token, expect: 200 });
    await step('POST', '/refresh', { token: pair?.refresh_token, expect: 200 });
    await step('POST', '/refresh', { token: pair?.refresh_token, expect: 401 });
    const again = await step('POST', '/login', { json: { login, password: PASSWORD }, expect: 200 });
    await step('DELETE', '/logout', { token: again?.access_token, expect: 200 });
    await step('GET', '/users', { token: again?.access_token, expect: 401 });
    await step('DELETE', '/logout2', { token: again?.refresh_token, expect: 200 });
  }
}

/** Idle growth (after ÷ before) and load growth (median of the last third ÷ of the first third). */
function flatness(samples) {
  const idle = samples.at(-1) / samples[0];
  const load = samples.slice(1, -1);
  const third = Math.max(1, Math.floor(load.length / 3));
  const growth = median(load.slice(-third)) / median(load.slice(0, third));
  return { idle, load: growth, flat: idle <= IDLE_FLAT && growth <= LOAD_FLAT };
}

async function soak(dialect) {
  const database = await createDatabase(dialect, `apiu_soak_${process.pid}`);
  const env = {
    NODE_ENV: 'production',
    JWT_SECRET: 'soak-secret-that-is-at-least-32-characters',
    DATABASE_URL: database.url,
    LOG_LEVEL: 'warn',
    ...RATE_LIMITS_OFF,
    ...LOCAL_PASSKEYS,
    PURGE_INTERVAL: '5',
  };
  const run = {
    instances: [],
    counts: { requests: 0, '2xx': 0, '4xx': 0, '5xx': 0, unexpected: 0 },
    fivexx: [],
    registered: [],
    seq: 0,
  };
  try {
    for (const name of ['a', 'b']) run.instances.push(await startServer({ name, script: SERVER_MAIN, env }));
    // Warm up, then read memory idle, every SAMPLE_SECONDS while the load runs, and idle again.
    const warmupEnds = Date.now() + WARMUP_SECONDS * 1000;
    await Promise.all(Array.from({ length: WORKERS }, () => worker(run, warmupEnds)));
    const rss = run.instances.map(() => []);
    const sample = () => {
      for (const [i, inst] of run.instances.entries()) rss[i].push(rssMiB(inst.pid));
    };
    const idleSample = async () => {
      await sleep(SETTLE_SECONDS * 1000);
      const readings = [];
      for (let k = 0; k < 3; k++) {
        if (k > 0) await sleep(2000);
        readings.push(run.instances.map((inst) => rssMiB(inst.pid)));
      }
      for (const i of run.instances.keys()) rss[i].push(median(readings.map((r) => r[i] ?? 0)));
    };
    await idleSample();
    const sampler = setInterval(sample, SAMPLE_SECONDS * 1000);
    const started = Date.now();
    await Promise.all(Array.from({ length: WORKERS }, () => worker(run, started + SECONDS * 1000)));
    clearInterval(sampler);
    const elapsed = (Date.now() - started) / 1000;
    await idleSample();

    const { db } = connect(database.url);
    let present = 0;
    for (let i = 0; i < run.registered.length; i += 1000) {
      const row = await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll().as('n'))
        .where('login', 'in', run.registered.slice(i, i + 1000))
        .executeTakeFirstOrThrow();
      present += Number(row.n);
    }
    await db.destroy();

    const memory = rss.map(flatness);
    const { counts, fivexx, registered } = run;
    const ok =
      fivexx.length === 0 && counts.unexpected === 0 && present === registered.length && memory.every((m) => m.flat);
    const lines = [
      `soak on ${dialect}: ${elapsed.toFixed(0)} s, ${WORKERS} workers, 2 instances`,
      `requests ${counts.requests} (${(counts.requests / elapsed).toFixed(0)}/s): 2xx ${counts['2xx']}, 4xx ${counts['4xx']} (all expected: ${counts.unexpected === 0}), 5xx ${counts['5xx']}`,
      `registrations: ${registered.length} succeeded, ${present} present in the database`,
      ...run.instances.map(
        (inst, i) =>
          `RSS MiB of ${inst.name}, idle after the ${WARMUP_SECONDS} s warm-up, then every ${SAMPLE_SECONDS} s under load, then idle: ${rss[i].map((x) => x.toFixed(0)).join(' ')}; idle after ÷ before ${memory[i].idle.toFixed(2)}, under load last third ÷ first third (medians) ${memory[i].load.toFixed(2)} (flat: ≤ ${IDLE_FLAT} and ≤ ${LOAD_FLAT})`,
      ),
      ...fivexx.slice(0, 10).map((line) => `5xx: ${line}`),
      `soak on ${dialect}: ${ok ? 'PASS' : 'FAIL'}`,
    ];
    for (const line of lines) console.log(line);
    return { ok, lines };
  } finally {
    for (const inst of run.instances) await inst.stop();
    await database.drop();
  }
}

const results = [];
try {
  for (const dialect of dialects) results.push(await soak(dialect));
} finally {
  removeTempDir();
}
const skipped = process.env.SOAK_DB
  ? []
  : ['mysql', 'postgres'].filter((d) => !dialects.includes(d)).map((d) => `${d} did not answer: its soak was skipped.`);
const report = join(BENCH_DIR, 'soak-results.md');
writeFileSync(
  report,
  `# Soak results\n\nDate: ${new Date().toISOString()} · \`SOAK_SECONDS=${SECONDS}\` per database · written by bench/soak.mjs\n\n${[...results.flatMap((r) => [...r.lines, '']), ...skipped].map((l) => (l === '' ? '' : `- ${l}`)).join('\n')}\n`,
);
formatMarkdown(report);
process.exitCode = results.every((r) => r.ok) ? 0 : 1;
