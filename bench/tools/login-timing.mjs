// Account-enumeration check: a refused login must take the same time whatever the account. Against a real
// server, interleaves the kinds of failed login and prints their medians and ratios, twice: with only argon2
// hashes stored, then with imported werkzeug hashes (pbkdf2, scrypt) and an account without a password, where
// the failed-login floor must hide the legacy verifications' cost. Also prints what each hash costs to verify.
import { pbkdf2Sync, randomBytes, scryptSync } from 'node:crypto';
import { connect } from '@api-users/db';
import { createDatabase, removeTempDir } from '../databases.mjs';
import {
  LOCAL_PASSKEYS,
  postJson,
  RATE_LIMITS_OFF,
  requireFromServer,
  restPath,
  SERVER_DIR,
  SERVER_MAIN,
  startServer,
} from '../lib.mjs';

const ROUNDS = Number(process.env.TIMING_ROUNDS ?? 300);
const LEGACY_ROUNDS = Number(process.env.LEGACY_ROUNDS ?? 40);
const WRONG = 'not the password';

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))];
};
const median = (xs) => quantile(xs, 0.5);
const ms = (x) => `${x.toFixed(1)} ms`;

const database = await createDatabase('sqlite', `apiu_timing_${process.pid}`);
const env = {
  NODE_ENV: 'production',
  JWT_SECRET: 'timing-secret-that-is-at-least-32-characters',
  DATABASE_URL: database.url,
  LOG_LEVEL: 'info',
  ...RATE_LIMITS_OFF,
  ...LOCAL_PASSKEYS,
};
const start = () => startServer({ name: 'server', script: SERVER_MAIN, env });

/** Interleaves the kinds `rounds` times; returns each kind's times and the distinct answers. */
async function measure(url, kinds, rounds) {
  const times = Object.fromEntries(Object.keys(kinds).map((k) => [k, []]));
  const bodies = new Set();
  for (let i = 0; i < rounds; i++) {
    for (const [kind, body] of Object.entries(kinds)) {
      const started = process.hrtime.bigint();
      const res = await postJson(`${url}${restPath('login')}`, body());
      times[kind].push(Number(process.hrtime.bigint() - started) / 1e6);
      bodies.add(`${res.status} ${res.text}`);
    }
  }
  return { times, bodies };
}

/**
 * Prints each kind's median and 90th percentile against the unknown login's; true when every one is within
 * 10 % of it and there was one answer only.
 */
function report(title, { times, bodies }) {
  const [p50, p90] = [0.5, 0.9].map((q) => quantile(times['unknown login'], q));
  console.log(title);
  let pass = bodies.size === 1;
  for (const [kind, t] of Object.entries(times)) {
    const [m, n] = [median(t), quantile(t, 0.9)];
    pass &&= Math.abs(m / p50 - 1) <= 0.1 && Math.abs(n / p90 - 1) <= 0.1;
    console.log(
      `  ${kind.padEnd(38)} median ${ms(m).padStart(9)} ×${(m / p50).toFixed(3)}   p90 ${ms(n).padStart(9)} ×${(n / p90).toFixed(3)}`,
    );
  }
  console.log(`  distinct answers: ${bodies.size} (${[...bodies].join(' | ')})`);
  console.log(`  ${pass ? 'PASS' : 'FAIL'}: one answer; every median and p90 within 10 % of the unknown login's`);
  return pass;
}

const ghost = () => ({ login: `ghost.${randomBytes(5).toString('hex')}`, password: WRONG });
const werkzeug = {
  pbkdf2: (password, iterations) => {
    const salt = randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 16);
    return `pbkdf2:sha256:${iterations}$${salt}$${pbkdf2Sync(password, salt, iterations, 32, 'sha256').toString('hex')}`;
  },
  scrypt: (password) => {
    const salt = randomBytes(12).toString('base64url').replace(/[-_]/g, 'x').slice(0, 16);
    const key = scryptSync(password, salt, 64, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
    return `scrypt:32768:8:1$${salt}$${key.toString('hex')}`;
  },
};

let pass = true;
try {
  // What one verification costs, in this process (median of 5).
  const { verifyLegacyHash } = await import(`${SERVER_DIR}/dist/modules/auth/legacy-hashes.js`);
  const argon2 = requireFromServer('@node-rs/argon2');
  const argonHash = await argon2.hash('pw', { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
  const cost = async (verify) => {
    const t = [];
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      await verify();
      t.push(performance.now() - started);
    }
    return median(t);
  };
  console.log('one verification (median of 5, in process):');
  console.log(`  argon2id m=19456,t=2,p=1            ${ms(await cost(() => argon2.verify(argonHash, 'pw')))}`);
  for (const iterations of [150_000, 260_000, 600_000, 1_000_000]) {
    const h = werkzeug.pbkdf2('pw', iterations);
    console.log(`  pbkdf2:sha256:${String(iterations).padEnd(22)}${ms(await cost(() => verifyLegacyHash(h, 'pw')))}`);
  }
  const s = werkzeug.scrypt('pw');
  console.log(`  scrypt:32768:8:1                     ${ms(await cost(() => verifyLegacyHash(s, 'pw')))}`);

  // 1. Only argon2 hashes stored: no floor.
  let server = await start();
  const login = `timing.${process.pid}`;
  await postJson(`${server.url}${restPath('register')}`, {
    user_name: 'Timing',
    login,
    password: 'the right password',
  });
  pass &&= report(
    `\nfailed logins, only argon2 hashes stored, ${ROUNDS} of each, interleaved:`,
    await measure(
      server.url,
      { 'unknown login': ghost, 'wrong password, argon2id': () => ({ login, password: WRONG }) },
      ROUNDS,
    ),
  );
  await server.stop();

  // 2. Imported werkzeug hashes stored, as `pnpm import-flask` leaves them.
  const legacy = {
    'legacy.pbkdf2': werkzeug.pbkdf2('legacy password', 600_000),
    'legacy.scrypt': werkzeug.scrypt('legacy password'),
    'legacy.nopassword': '!needs-admin-set-password',
  };
  const { db } = connect(database.url);
  let id = 1000;
  for (const [legacyLogin, password_hash] of Object.entries(legacy)) {
    id++;
    await db
      .insertInto('users')
      .values({ id_user: id, user_name: legacyLogin, login: legacyLogin, password_hash, user_role: 2, created_at: 0 })
      .execute();
    await db.insertInto('flask_import').values({ flask_id: id, user_id: id, imported_at: 0 }).execute();
  }
  await db.destroy();
  server = await start();
  const floor = /failed logins are answered after (\d+) ms/.exec(server.output())?.[1];
  console.log(`\nfailed-login floor set at start (1.5 × the dearest accepted legacy verification): ${floor} ms`);
  pass &&= report(
    `failed logins, werkzeug hashes stored, ${LEGACY_ROUNDS} of each, interleaved:`,
    await measure(
      server.url,
      {
        'unknown login': ghost,
        'wrong password, argon2id': () => ({ login, password: WRONG }),
        'wrong password, pbkdf2:sha256:600000': () => ({ login: 'legacy.pbkdf2', password: WRONG }),
        'wrong password, scrypt:32768:8:1': () => ({ login: 'legacy.scrypt', password: WRONG }),
        'account without a password': () => ({ login: 'legacy.nopassword', password: WRONG }),
      },
      LEGACY_ROUNDS,
    ),
  );
  console.log('first successful login of an imported account (legacy verify + argon2id hash + update), once each:');
  for (const legacyLogin of ['legacy.pbkdf2', 'legacy.scrypt']) {
    const started = performance.now();
    const res = await postJson(`${server.url}${restPath('login')}`, {
      login: legacyLogin,
      password: 'legacy password',
    });
    console.log(`  ${legacyLogin.padEnd(38)} ${res.status} in ${ms(performance.now() - started)}`);
    pass &&= res.status === 200;
  }
  const started = performance.now();
  const again = await postJson(`${server.url}${restPath('login')}`, {
    login: 'legacy.pbkdf2',
    password: 'legacy password',
  });
  console.log(
    `  ${'legacy.pbkdf2 again (now argon2id)'.padEnd(38)} ${again.status} in ${ms(performance.now() - started)}`,
  );
  await server.stop();
  process.exitCode = pass ? 0 : 1;
} finally {
  await database.drop();
  removeTempDir();
}
