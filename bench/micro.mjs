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
 * A page of 50 with each filter of GET /users, through the server's own listUsers (apps/server/dist), so the
 * statement timed is the one the server runs. Returns [label, ms per page] pairs. `q` has no index: a text
 * found in every row fills a page at once, one found nowhere reads every row.
 */
export async function filterCost(url, depth, rows) {
  const { listUsers } = await import(pathToFileURL(join(SERVER_DIR, 'dist/modules/users/users.js')).href);
  const { db } = connect(url);
  const ctx = { db, config: { usersReadableBy: 'everyone' }, caller: { userId: 1, role: 1 } };
  const page = (input) => () => listUsers(ctx, { limit: 50, ...input });
  const last = `u${String(rows - 10).padStart(8, '0')}`;
  /** @type {[string, { role?: number, cursor?: string, disabled?: boolean, q?: string }][]} */
  const cases = [
    ['role=2, page 1', { role: 2 }],
    [`role=2, cursor=${depth}`, { role: 2, cursor: String(depth) }],
    ['role=1 (1 row in 1,000), page 1', { role: 1 }],
    [`role=1, cursor=${depth}`, { role: 1, cursor: String(depth) }],
    ['disabled=true (no row), page 1', { disabled: true }],
    ['q in every row ("bench user"), page 1', { q: 'bench user' }],
    [`q in one row near the end ("${last}")`, { q: last }],
    ['q in no row ("no such text"): reads every row', { q: 'no such text' }],
  ];
  try {
    const results = [];
    for (const [label, input] of cases) {
      // The full scans take long: fewer calls for them.
      const slow = input.q !== undefined && input.q !== 'bench user';
      results.push([label, (await timePerCall(page(input), slow ? 5 : 100, slow ? 1 : 10)) / 1000]);
    }
    return results;
  } finally {
    await db.destroy();
  }
}
