// The bench's settings, read once from the environment and the command line (bench/README.md lists them), and
// what every part of the run shares: the log line, the clock, the servers' settings, CPU-profile arguments.
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { BENCH_DIR, LOCAL_PASSKEYS, RATE_LIMITS_OFF } from './lib.mjs';

const env = process.env;
export const quick = process.argv.includes('--quick') || env.BENCH_QUICK === '1';
export const cores = os.availableParallelism();
export const CFG = {
  duration: Number(env.BENCH_DURATION ?? (quick ? 3 : 8)),
  warmup: Number(env.BENCH_WARMUP ?? (quick ? 1 : 2)),
  connections: Number(env.BENCH_CONNECTIONS ?? 50),
  loginConnections: Number(env.BENCH_LOGIN_CONNECTIONS ?? cores * 4),
  rows: Number(env.BENCH_ROWS ?? (quick ? 100_000 : 1_000_000)),
  dialects: (env.BENCH_DIALECTS ?? 'sqlite,mysql,postgres').split(',').map((s) => s.trim()),
  /** Alternating rounds (and seconds per run) of ours against the hand-written route. */
  rounds: Number(env.BENCH_ROUNDS ?? (quick ? 1 : 3)),
  versusDuration: Number(env.BENCH_VERSUS_DURATION ?? (quick ? 3 : 5)),
  cpuProf: env.BENCH_CPU_PROF === '1',
  out: env.BENCH_OUT ?? join(BENCH_DIR, 'results.md'),
};
CFG.deepCursor = Number(env.BENCH_DEEP_CURSOR ?? Math.max(0, CFG.rows - 10_000));

export const JWT_SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
export const PROFILE_DIR = join(BENCH_DIR, 'profiles');
export const WARNINGS_LOG = join(BENCH_DIR, 'server-warnings.log');
export const SERVER_ENV = {
  NODE_ENV: 'production',
  JWT_SECRET,
  LOG_LEVEL: 'warn',
  ...RATE_LIMITS_OFF,
  ...LOCAL_PASSKEYS,
};
export const USER = { user_name: 'Bench Runner', login: 'bench.runner', password: 'bench password 123456' };

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const log = (...a) => console.error('[bench]', ...a);
export const started = Date.now();
export const elapsed = () => `${((Date.now() - started) / 1000).toFixed(0)}s`;

/** `node` arguments that profile a server into bench/profiles/ when BENCH_CPU_PROF=1. */
export function profArgs(name) {
  if (!CFG.cpuProf) return [];
  mkdirSync(PROFILE_DIR, { recursive: true });
  return ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`];
}
