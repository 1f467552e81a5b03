// Soak: a bounded mixed load (loopback only) across two server instances on one database, then checks that
// nothing was lost. `pnpm soak` (60 s on MySQL when it answers, else SQLite); SOAK_SECONDS and SOAK_DB override.
import { readFileSync } from 'node:fs';
import { connect } from '@api-users/db';
import { createDatabase, mysqlVersion, removeTempDir } from './databases.mjs';
import { RATE_LIMITS_OFF, SERVER_MAIN, startServer } from './lib.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 60);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 16);
const MYSQL_BASE = process.env.TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const PASSWORD = 'soak test password';

const dialect =
  process.env.SOAK_DB ??
  (await mysqlVersion(MYSQL_BASE).then(
    () => 'mysql',
    () => 'sqlite',
  ));
const database = await createDatabase(dialect, `apiu_soak_${process.pid}`, MYSQL_BASE);
const env = {
  NODE_ENV: 'production',
  JWT_SECRET: 'soak-secret-that-is-at-least-32-characters',
  DATABASE_URL: database.url,
  LOG_LEVEL: 'warn',
  ...RATE_LIMITS_OFF,
  PURGE_INTERVAL: '5',
};
const instances = [];
for (const name of ['a', 'b']) instances.push(await startServer({ name, script: SERVER_MAIN, env }));

/** Resident memory of a process in MiB, from /proc. */
const rssMiB = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

const counts = { requests: 0, '2xx': 0, '4xx': 0, '5xx': 0, unexpected: 0 };
const fivexx = [];
const registered = [];
let seq = 0;

/** One request to a random instance; `expect` is the status this step of the story should get. */
async function step(method, path, { json, token, expect }) {
  const base = instances[Math.floor(Math.random() * instances.length)].url;
  const headers = {};
  if (json !== undefined) headers['content-type'] = 'application/json';
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(`${base}/api/v1${path}`, {
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
async function worker(until) {
  while (Date.now() < until) {
    const login = `soak.${process.pid}.${seq++}`;
    const user = await step('POST', '/register', {
      json: { user_name: `Soak ${seq}`, login, password: PASSWORD },
      expect: 201,
    });
    if (user?.id_user) registered.push(login);
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

try {
  // Warm up, then take the starting memory.
  await Promise.all(Array.from({ length: 4 }, () => worker(Date.now() + 3000)));
  const rssStart = instances.map((i) => rssMiB(i.pid));
  const started = Date.now();
  await Promise.all(Array.from({ length: WORKERS }, () => worker(started + SECONDS * 1000)));
  const elapsed = (Date.now() - started) / 1000;
  const rssEnd = instances.map((i) => rssMiB(i.pid));

  const { db } = connect(database.url);
  let present = 0;
  for (let i = 0; i < registered.length; i += 1000) {
    const row = await db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('login', 'in', registered.slice(i, i + 1000))
      .executeTakeFirstOrThrow();
    present += Number(row.n);
  }
  await db.destroy();

  const growth = rssEnd.map((end, i) => end / rssStart[i]);
  const ok =
    fivexx.length === 0 && counts.unexpected === 0 && present === registered.length && growth.every((g) => g < 1.5);
  console.log(`soak on ${dialect}: ${elapsed.toFixed(0)} s, ${WORKERS} workers, 2 instances`);
  console.log(
    `requests ${counts.requests} (${(counts.requests / elapsed).toFixed(0)}/s): 2xx ${counts['2xx']}, 4xx ${counts['4xx']} (all expected: ${counts.unexpected === 0}), 5xx ${counts['5xx']}`,
  );
  console.log(`registrations: ${registered.length} succeeded, ${present} present in the database`);
  console.log(
    `RSS MiB start → end: ${instances.map((inst, i) => `${inst.name} ${rssStart[i].toFixed(0)} → ${rssEnd[i].toFixed(0)}`).join(', ')}`,
  );
  for (const line of fivexx.slice(0, 10)) console.log(`5xx: ${line}`);
  console.log(ok ? 'soak: PASS' : 'soak: FAIL');
  process.exitCode = ok ? 0 : 1;
} finally {
  for (const inst of instances) await inst.stop();
  await database.drop();
  removeTempDir();
}
