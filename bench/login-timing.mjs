// Account-enumeration check: a wrong password and an unknown login must take the same time. Interleaves the
// two kinds of failed login against a real server and prints both medians and their ratio.
import { createDatabase, removeTempDir } from './databases.mjs';
import { postJson, RATE_LIMITS_OFF, SERVER_MAIN, startServer } from './lib.mjs';

const ROUNDS = Number(process.env.TIMING_ROUNDS ?? 300);
const database = await createDatabase('sqlite', `apiu_timing_${process.pid}`);
const server = await startServer({
  name: 'server',
  script: SERVER_MAIN,
  env: {
    NODE_ENV: 'production',
    JWT_SECRET: 'timing-secret-that-is-at-least-32-characters',
    DATABASE_URL: database.url,
    LOG_LEVEL: 'warn',
    ...RATE_LIMITS_OFF,
  },
});

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

try {
  const login = `timing.${process.pid}`;
  await postJson(`${server.url}/api/v1/register`, { user_name: 'Timing', login, password: 'the right password' });
  const kinds = {
    'wrong password': () => ({ login, password: 'not the password' }),
    'unknown login': () => ({ login: `ghost.${Math.random().toString(36).slice(2)}`, password: 'not the password' }),
  };
  const times = { 'wrong password': [], 'unknown login': [] };
  const bodies = new Set();
  for (let i = 0; i < ROUNDS; i++) {
    for (const [kind, body] of Object.entries(kinds)) {
      const started = process.hrtime.bigint();
      const res = await postJson(`${server.url}/api/v1/login`, body());
      times[kind].push(Number(process.hrtime.bigint() - started) / 1e6);
      bodies.add(`${res.status} ${res.text}`);
    }
  }
  const wrong = median(times['wrong password']);
  const unknown = median(times['unknown login']);
  const ratio = unknown / wrong;
  console.log(`failed logins, ${ROUNDS} of each, interleaved:`);
  console.log(`  wrong password: median ${wrong.toFixed(2)} ms`);
  console.log(`  unknown login:  median ${unknown.toFixed(2)} ms`);
  console.log(
    `  ratio unknown/wrong: ${ratio.toFixed(3)} (${Math.abs(ratio - 1) <= 0.1 ? 'PASS' : 'FAIL'}: within 10 %)`,
  );
  console.log(`  distinct answers: ${bodies.size} (${[...bodies].join(' | ')})`);
  process.exitCode = bodies.size === 1 && Math.abs(ratio - 1) <= 0.1 ? 0 : 1;
} finally {
  await server.stop();
  await database.drop();
  removeTempDir();
}
