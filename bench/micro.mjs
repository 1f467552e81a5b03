// In-process cost measurements: argon2 with the server's parameters, the server's token verification on first
// sight and from fast-jwt's cache, and the revocation check the access-token guard runs per request.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connect } from '@api-users/db';
import { median, requireFromServer, SERVER_DIR, timeConcurrent, timePerCall } from './lib.mjs';

/** apps/server/src/modules/auth/passwords.ts: OWASP_ARGON2 + Argon2id (the const enum's value, 2). */
export const SERVER_ARGON2 = { memoryCost: 19_456, timeCost: 2, parallelism: 1, algorithm: 2 };

/** Median time of one hash and one verify (ms), one at a time, with the server's parameters. */
export async function argon2Cost(samples = 9) {
  const argon2 = requireFromServer('@node-rs/argon2');
  const password = 'correct horse battery staple';
  const stored = await argon2.hash(password, SERVER_ARGON2); // warm-up
  const hashes = [];
  const verifies = [];
  for (let i = 0; i < samples; i++) {
    let t0 = performance.now();
    await argon2.hash(password, SERVER_ARGON2);
    hashes.push(performance.now() - t0);
    t0 = performance.now();
    if (!(await argon2.verify(stored, password))) throw new Error('argon2 verify failed');
    verifies.push(performance.now() - t0);
  }
  // What the machine really gives with several hashes at once: `cores` in flight, and 4 (libuv's default pool,
  // which is what the server runs when logins queue up). Two vCPUs seldom give twice one hash's rate.
  const parallel = {};
  for (const inFlight of [...new Set([os.availableParallelism(), 4])]) {
    const n = inFlight * 6;
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next++ < n) await argon2.verify(stored, password);
      }),
    );
    parallel[inFlight] = n / ((performance.now() - t0) / 1000);
  }
  return {
    hashMs: median(hashes),
    verifyMs: median(verifies),
    parallel,
    ceiling: Math.max(...Object.values(parallel)),
  };
}

/**
 * µs per `verify` of the server's own TokenService (apps/server/dist), so the bench measures its settings and
 * not a copy: for an HMAC secret (HS256, as JWT_SECRET alone signs), an Ed25519 and a P-256 key, the first
 * sight of a token (fast-jwt's cache misses: the signature is checked) and the same token again (cache hit).
 */
export async function jwtCost(secret) {
  const dist = (file) => import(pathToFileURL(join(SERVER_DIR, 'dist/modules/auth', file)).href);
  const [{ createTokenService }, { createKeyRing }] = await Promise.all([dist('tokens.js'), dist('keys.js')]);
  const base = { previousSecrets: [], verifyKeys: [], algorithm: 'HS256' };
  const costs = {};
  for (const [algorithm, settings] of [
    ['HS256', { ...base, secret }],
    ['EdDSA', { ...base, signingKey: generateKeyPairSync('ed25519').privateKey }],
    ['ES256', { ...base, signingKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey }],
  ]) {
    const service = createTokenService(await createKeyRing(settings), {
      accessTtlSeconds: 900,
      refreshTtlSeconds: 86_400,
      sessionMaxAgeSeconds: 90 * 86_400,
    });
    const session = () => ({
      userId: 1,
      role: 2,
      sid: randomUUID(),
      refreshToken: 'opaque',
      signedInAt: Date.now(),
      amr: ['pwd'],
    });
    const issue = () => service.issuePair(session(), Date.now()).access_token;
    const fresh = Array.from({ length: 3000 }, issue);
    let next = 0;
    const again = issue();
    costs[algorithm] = {
      firstUs: await timePerCall(() => service.verify(fresh[next++], 'access'), 2500, 500),
      againUs: await timePerCall(() => service.verify(again, 'access'), 20_000),
    };
  }
  return costs;
}

/**
 * The access check of apps/server/src/modules/auth/guard.ts (currentRole: session, revocation and user in
 * one statement), run against the given database: µs per check one at a time, and amortised with
 * `inFlight` checks at once.
 */
export async function revocationCheckCost(url, claims, { n = 5000, inFlight = 10 } = {}) {
  const { currentRole } = await import(pathToFileURL(join(SERVER_DIR, 'dist/modules/auth/guard.js')).href);
  const { db } = connect(url);
  try {
    const check = async () => {
      const deps = { db, clock: Date.now, config: { sessionMaxAgeSeconds: 90 * 86400 } };
      if ((await currentRole(deps, claims, Number(claims.sub))) === undefined) throw new Error('session not live');
    };
    return {
      sequentialUs: await timePerCall(check, n, 500),
      concurrentUs: await timeConcurrent(check, n, inFlight),
      inFlight,
    };
  } finally {
    await db.destroy();
  }
}

/** One page of 50 by keyset vs by OFFSET at the same depth, straight through kysely (ms per query). */
export async function pagingCost(url, depth) {
  const { db } = connect(url);
  const columns = /** @type {const} */ (['id_user', 'user_name', 'login', 'user_role', 'created_at']);
  try {
    const keyset = () =>
      db.selectFrom('users').select(columns).where('id_user', '>', depth).orderBy('id_user').limit(51).execute();
    const offset = () => db.selectFrom('users').select(columns).orderBy('id_user').limit(51).offset(depth).execute();
    return {
      keysetMs: (await timePerCall(keyset, 200, 20)) / 1000,
      offsetMs: (await timePerCall(offset, 5, 1)) / 1000,
    };
  } finally {
    await db.destroy();
  }
}

/**
 * A page of 50 with each filter of GET /users but `q`, through the server's own listUsers (apps/server/dist), so
 * the statement timed is the one the server runs. Returns [label, ms per page] pairs.
 */
export async function filterCost(url, depth) {
  const { listUsers } = await import(pathToFileURL(join(SERVER_DIR, 'dist/modules/users/users.js')).href);
  const { db } = connect(url);
  const ctx = { db, config: { usersReadableBy: 'everyone' }, caller: { userId: 1, role: 1 } };
  const page = (input) => () => listUsers(ctx, { limit: 50, ...input });
  /** @type {[string, { role?: number, cursor?: string, disabled?: boolean }][]} */
  const cases = [
    ['role=2, page 1', { role: 2 }],
    [`role=2, cursor=${depth}`, { role: 2, cursor: String(depth) }],
    ['role=1 (1 row in 1,000), page 1', { role: 1 }],
    [`role=1, cursor=${depth}`, { role: 1, cursor: String(depth) }],
    ['disabled=true (no row), page 1', { disabled: true }],
  ];
  try {
    const results = [];
    for (const [label, input] of cases) results.push([label, (await timePerCall(page(input), 100, 10)) / 1000]);
    return results;
  } finally {
    await db.destroy();
  }
}

/** The login the bench gives account `id` (databases.mjs). */
const benchLogin = (id) => `u${String(id).padStart(8, '0')}`;

/**
 * `q` searches of a page of 50 through the server's listUsers, each timed `calls` times: the prefixes an admin
 * types (every account, one account, none) and the ones that defeat a planner's guess, accounts clustered by id
 * (the last 1 %, two bands of 11 %, five bands of names), alone and with a rare role or no disabled account.
 * Returns each case's p50 and p99 (ms), and those of all calls together.
 */
export async function searchCost(url, rows, calls = 40) {
  const { listUsers } = await import(pathToFileURL(join(SERVER_DIR, 'dist/modules/users/users.js')).href);
  const { db } = connect(url);
  const ctx = { db, config: { usersReadableBy: 'everyone' }, caller: { userId: 1, role: 1 } };
  // Logins are u + 8 digits: the prefix of the last 1 % of ids, and that prefix one digit shorter.
  const lastPercent = benchLogin(rows * 0.99).replace(/0+$/, '');
  /** @type {[string, { q: string, cursor?: string, role?: number, disabled?: boolean }][]} */
  const cases = [
    ['"bench user" (every account)', { q: 'bench user' }],
    ['"bench user", deep cursor', { q: 'bench user', cursor: String(rows - 10_000) }],
    [`"${benchLogin(rows - 10)}" (one account, near the end)`, { q: benchLogin(rows - 10) }],
    ['"no such text" (no account)', { q: 'no such text' }],
    [`"${lastPercent}" (the last 1 % of ids)`, { q: lastPercent }],
    [`"${lastPercent.slice(0, -1)}" (two bands of ids, 11 %)`, { q: lastPercent.slice(0, -1) }],
    ['"bench user 99" (names in five bands)', { q: 'bench user 99' }],
    ['"bench user", role=1 (1 in 1,000)', { q: 'bench user', role: 1 }],
    ['"bench user", disabled=true (no account)', { q: 'bench user', disabled: true }],
  ];
  const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
  const summary = (times) => {
    const sorted = [...times].sort((x, y) => x - y);
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
  };
  try {
    const results = [];
    const all = [];
    for (const [label, input] of cases) {
      const search = () => listUsers(ctx, { limit: 50, ...input });
      await search();
      const times = [];
      for (let i = 0; i < calls; i++) {
        const t0 = process.hrtime.bigint();
        await search();
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      all.push(...times);
      results.push({ label, ...summary(times) });
    }
    return { cases: results, all: summary(all) };
  } finally {
    await db.destroy();
  }
}
