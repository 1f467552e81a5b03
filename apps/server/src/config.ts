import { dirname, join } from 'node:path';
import { DEFAULT_DATABASE_URL, dialectOf } from '@api-users/db';
import proxyAddr from '@fastify/proxy-addr';
import { z } from 'zod';
import type { Settings } from './core/context.js';
import type { RateLimitSettings } from './http/rate-limit.js';
import { KeyError, type KeySettings, parsePrivateKey, parsePublicKeys } from './modules/auth/keys.js';

/**
 * Digits only: an empty value (`PORT=`) or a word is refused with the variable named, where coercion would
 * read them as 0 (a random port, a limit turned off) or NaN.
 */
const wholeNumber = (min: number, max: number, fallback: number) => {
  const range = `must be a whole number from ${min} to ${max}`;
  return z
    .string()
    .regex(/^\d+$/, range)
    .transform(Number)
    .pipe(z.number().min(min, range).max(max, range))
    .default(fallback);
};

const seconds = wholeNumber;

/** A limit; 0 turns it off. */
const count = (fallback: number) => wholeNumber(0, 1_000_000, fallback);

/**
 * `false`, `true` (every hop: the client writes the left end of X-Forwarded-For), or the proxies' addresses
 * and CIDRs, checked as Fastify will compile them. (Fastify 5 reads no hop count: it would trust no one.)
 */
const trustProxy = z
  .string()
  .default('false')
  .transform((v, ctx): boolean | string[] => {
    if (v === 'true' || v === 'false') return v === 'true';
    if (/^\d+$/.test(v)) {
      ctx.addIssue({
        code: 'custom',
        message: 'a count of proxies is not read (Fastify 5): name their addresses/CIDRs',
      });
      return z.NEVER;
    }
    const proxies = v.split(',').map((entry) => entry.trim());
    try {
      proxyAddr.compile(proxies);
    } catch (err) {
      ctx.addIssue({
        code: 'custom',
        message: `true, false, or comma-separated addresses/CIDRs (${err instanceof Error ? err.message : 'refused'})`,
      });
      return z.NEVER;
    }
    return proxies;
  });

const secretList = z
  .string()
  .default('')
  .transform((s) => s.split(',').filter((x) => x.length > 0))
  .pipe(z.array(z.string().min(32, 'each previous secret must be at least 32 characters')));

/** A key setting parsed as it is read, so a malformed key stops start-up with its variable named. */
const keySetting = <T>(parse: (text: string) => T) =>
  z.string().transform((text, ctx) => {
    try {
      return parse(text);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: err instanceof KeyError ? err.message : 'not a usable key' });
      return z.NEVER;
    }
  });

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: z
    .string()
    .regex(/^(mysql:\/\/|postgres(ql)?:\/\/|sqlite:)/, 'must start with mysql://, postgres:// or sqlite:')
    .default(DEFAULT_DATABASE_URL),
  DB_POOL_SIZE: wholeNumber(1, 500, 10),
  DB_STATEMENT_TIMEOUT: seconds(1, 600, 5),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: wholeNumber(0, 65535, 5000),
  METRICS_TOKEN: z
    .string()
    .min(32, 'at least 32 characters: it is the only thing between the internet and the metrics')
    .optional(),
  METRICS_PORT: wholeNumber(0, 65535, 0),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  JWT_PREVIOUS_SECRETS: secretList,
  JWT_ALGORITHM: z.enum(['HS256', 'HS512']).default('HS256'),
  JWT_SIGNING_KEY: keySetting(parsePrivateKey).optional(),
  JWT_VERIFY_KEYS: keySetting(parsePublicKeys).default([]),
  JWT_ISSUER: z.string().min(1).max(512).optional(),
  JWT_AUDIENCE: z.string().min(1).max(512).optional(),
  ACCESS_TOKEN_TTL: seconds(60, 3600, 900),
  REFRESH_TOKEN_TTL: seconds(300, 365 * 86400, 30 * 86400),
  SESSION_MAX_AGE: seconds(300, 10 * 365 * 86400, 90 * 86400),
  BODY_LIMIT: wholeNumber(1024, 1_048_576, 16_384),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_FORMAT: z.enum(['pretty', 'json']).optional(),
  PURGE_INTERVAL: seconds(0, 86_400, 3600),
  AUDIT_RETENTION: seconds(0, 100 * 365 * 86400, 365 * 86400),
  USERS_READABLE_BY: z.enum(['everyone', 'admins']).default('everyone'),
  REGISTRATION: z.enum(['open', 'admins']).default('open'),
  MFA_REQUIRED_FOR_ADMINS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  TOTP_ISSUER: z.string().min(1).max(64).default('Api users'),
  WEBAUTHN_RP_ID: z
    .string()
    .regex(
      /^(?=.*[a-z])[a-z0-9-]+(\.[a-z0-9-]+)*$/,
      'must be a domain name such as example.com (browsers refuse IP addresses)',
    )
    .optional(),
  WEBAUTHN_RP_NAME: z.string().min(1).max(64).default('Api users'),
  SMTP_URL: z
    .string()
    .regex(/^smtps?:\/\/[^/]+/, 'must be smtp://host:port or smtps://host:port (user:password@ before the host)')
    .optional(),
  MAIL_FROM: z.string().min(3).max(254).optional(),
  PUBLIC_URL: z.url('must be the URL people reach this service at, such as https://accounts.example.com').optional(),
  PRODUCT_NAME: z.string().min(1).max(64).default('Api users'),
  RATE_LIMIT_EMAIL_WINDOW: seconds(1, 7 * 86_400, 3600),
  WEBHOOK_ALLOW_PRIVATE: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  WEBHOOK_TIMEOUT: seconds(1, 60, 10),
  WEBHOOK_POLL_INTERVAL: seconds(0, 60, 1),
  RATE_LIMIT_PER_EMAIL: count(5),
  WEBAUTHN_ORIGINS: z
    .string()
    .optional()
    .transform((s) => s?.split(',').filter((x) => x.length > 0)),
  SHUTDOWN_DELAY: seconds(0, 600, 0),
  SHUTDOWN_TIMEOUT: seconds(1, 600, 10),
  HEADERS_TIMEOUT: seconds(1, 600, 10),
  REQUEST_TIMEOUT: seconds(1, 600, 30),
  CONNECTION_TIMEOUT: seconds(1, 3600, 60),
  KEEP_ALIVE_TIMEOUT: seconds(1, 3600, 72),
  RATE_LIMIT_WINDOW: seconds(1, 86_400, 60),
  RATE_LIMIT_PER_ADDRESS: count(30),
  RATE_LIMIT_FAILURE_WINDOW: seconds(1, 7 * 86_400, 3600),
  RATE_LIMIT_FAILURES_PER_ACCOUNT_ADDRESS: count(10),
  RATE_LIMIT_FAILURES_PER_ADDRESS: count(100),
  RATE_LIMIT_FAILURES_PER_ACCOUNT: count(100),
  RATE_LIMIT_FAILURES_PER_DEVICE: count(10),
  RATE_LIMIT_STORE: z.enum(['memory', 'redis', 'mysql', 'postgres']).default('memory'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must start with redis:// or rediss://')
    .default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z.string().default('api-users:'),
  TRUST_PROXY: trustProxy,
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((s) => s.split(',').filter((x) => x.length > 0))
    .pipe(z.array(z.url('each origin must be a URL such as https://app.example.com'))),
});

interface MailSettings {
  smtpUrl?: string;
  /** The From header of every mail. */
  from: string;
  /** Where the links mailed point (no trailing slash): the dashboard under it takes them. */
  publicUrl: string;
  productName: string;
  /** No SMTP outside production: each mail is written to the log instead of sent. */
  logOnly: boolean;
}

export interface Config extends Settings {
  env: 'development' | 'test' | 'production';
  databaseUrl: string;
  dbPoolSize: number;
  /** Seconds a lock wait or statement may take before the request is answered 503 DB_UNAVAILABLE. */
  dbStatementTimeoutSeconds: number;
  host: string;
  port: number;
  jwt: KeySettings & {
    /** The `iss` of every new token, then required of every access token. */
    issuer?: string;
    /** The `aud` of every new token, then required of every access token. */
    audience?: string;
  };
  bodyLimit: number;
  logLevel: z.infer<typeof EnvSchema>['LOG_LEVEL'];
  /** `pretty`: one short line per request, for a person at a terminal (development's default); `json`: pino's objects. */
  logFormat: 'pretty' | 'json';
  rateLimit: RateLimitSettings;
  /** Fastify's trustProxy: false, true, or the addresses/CIDRs of the proxies whose X-Forwarded-For counts. */
  trustProxy: boolean | string[];
  /** Browser origins allowed to call the API; empty means no CORS headers at all. */
  corsOrigins: string[];
  /** Seconds between purges of expired sessions and revocations; 0 turns the job off. */
  purgeIntervalSeconds: number;
  /** How mail leaves: SMTP, the log (development without SMTP), or not at all (production without SMTP). */
  mail: MailSettings;
  /**
   * Prometheus metrics: off unless a token is set (GET /metrics on the API's port, with it as a bearer token) or
   * a port of their own (GET /metrics there, for a network only Prometheus reaches; the token is asked there too
   * when set).
   */
  metrics: { token?: string; port?: number };
  /** Seconds from SIGTERM during which /readyz answers 503 and requests are still served, before closing. */
  shutdownDelaySeconds: number;
  /** Seconds a SIGTERM may take to drain requests before the process exits anyway. */
  shutdownTimeoutSeconds: number;
  /** Seconds a client may take over one request, and may leave its connection idle. */
  timeouts: {
    /** To send the request's headers. */
    headers: number;
    /** To send the whole request, body included. */
    request: number;
    /** With nothing sent or read while a request is served. */
    connection: number;
    /** Between two requests on a kept-alive connection. */
    keepAlive: number;
  };
}

/** Development and test sign passkeys in at the local server: `localhost`, which browsers take as secure. */
function webauthnSettings(e: z.infer<typeof EnvSchema>): Settings['webauthn'] {
  return {
    rpId: e.WEBAUTHN_RP_ID ?? 'localhost',
    rpName: e.WEBAUTHN_RP_NAME,
    origins: e.WEBAUTHN_ORIGINS ?? [`http://localhost:${e.PORT}`],
  };
}

/**
 * The relying party must be named outside development (a default would be wrong for every real deployment);
 * each origin must be one a browser would use it from: https (http for localhost only), the RP ID's host or
 * one under it, no path.
 */
function webauthnProblems(e: z.infer<typeof EnvSchema>): string[] {
  if (e.NODE_ENV === 'production' && (e.WEBAUTHN_RP_ID === undefined || e.WEBAUTHN_ORIGINS === undefined)) {
    return [
      'WEBAUTHN_RP_ID, WEBAUTHN_ORIGINS: required when NODE_ENV is production (the domain passkeys belong to, ' +
        'such as example.com, and the origins the sign-in pages are served from, such as https://app.example.com)',
    ];
  }
  const { rpId, origins } = webauthnSettings(e);
  return origins.flatMap((origin) => {
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return [`WEBAUTHN_ORIGINS: ${origin} is not an origin such as https://app.example.com`];
    }
    const local = url.hostname === 'localhost';
    if (url.origin !== origin) return [`WEBAUTHN_ORIGINS: ${origin} must be an origin alone (${url.origin}), no path`];
    if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
      return [`WEBAUTHN_ORIGINS: ${origin} must be https (http only for localhost)`];
    }
    if (url.hostname !== rpId && !url.hostname.endsWith(`.${rpId}`)) {
      return [`WEBAUTHN_ORIGINS: ${origin} is not on WEBAUTHN_RP_ID ${rpId} or a domain under it`];
    }
    return [];
  });
}

/** Mail needs a sender and the address its links point at, once it can leave the machine. */
function mailProblems(e: z.infer<typeof EnvSchema>): string[] {
  if (e.SMTP_URL === undefined) return [];
  const problems: string[] = [];
  if (e.MAIL_FROM === undefined)
    problems.push('MAIL_FROM: required with SMTP_URL (such as Api users <no-reply@example.com>)');
  if (e.PUBLIC_URL === undefined && e.NODE_ENV === 'production') {
    problems.push('PUBLIC_URL: required with SMTP_URL in production: the links mailed point at it');
  }
  return problems;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** Reads the environment; throws a ConfigError listing one line per problem. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  }
  const e = parsed.data;
  const signs = e.JWT_SIGNING_KEY !== undefined || e.JWT_SECRET !== undefined;
  if (!signs && e.NODE_ENV !== 'development') {
    throw new ConfigError([
      `JWT_SIGNING_KEY: required when NODE_ENV is ${e.NODE_ENV} (an Ed25519 or P-256 private key; ` +
        'or JWT_SECRET, at least 32 characters, to sign with HMAC)',
    ]);
  }
  const problems = [...rateLimitProblems(e), ...webauthnProblems(e), ...mailProblems(e)];
  // Node refuses to start a server whose headers may take longer than the whole request.
  if (e.HEADERS_TIMEOUT > e.REQUEST_TIMEOUT) problems.push('HEADERS_TIMEOUT: must not exceed REQUEST_TIMEOUT');
  if (e.METRICS_PORT > 0 && e.METRICS_PORT === e.PORT) problems.push('METRICS_PORT: must differ from PORT');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    env: e.NODE_ENV,
    databaseUrl: e.DATABASE_URL,
    dbPoolSize: e.DB_POOL_SIZE,
    dbStatementTimeoutSeconds: e.DB_STATEMENT_TIMEOUT,
    host: e.HOST,
    port: e.PORT,
    metrics: {
      ...(e.METRICS_TOKEN ? { token: e.METRICS_TOKEN } : {}),
      ...(e.METRICS_PORT > 0 ? { port: e.METRICS_PORT } : {}),
    },
    jwt: {
      ...(e.JWT_SIGNING_KEY ? { signingKey: e.JWT_SIGNING_KEY } : {}),
      verifyKeys: e.JWT_VERIFY_KEYS,
      ...(e.JWT_SECRET ? { secret: e.JWT_SECRET } : {}),
      previousSecrets: e.JWT_PREVIOUS_SECRETS,
      algorithm: e.JWT_ALGORITHM,
      ...(signs ? {} : { developmentKeyFile: developmentKeyFile(e.DATABASE_URL) }),
      ...(e.JWT_ISSUER ? { issuer: e.JWT_ISSUER } : {}),
      ...(e.JWT_AUDIENCE ? { audience: e.JWT_AUDIENCE } : {}),
    },
    accessTtlSeconds: e.ACCESS_TOKEN_TTL,
    refreshTtlSeconds: e.REFRESH_TOKEN_TTL,
    sessionMaxAgeSeconds: e.SESSION_MAX_AGE,
    bodyLimit: e.BODY_LIMIT,
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT ?? (e.NODE_ENV === 'development' ? 'pretty' : 'json'),
    rateLimit: {
      store: e.RATE_LIMIT_STORE,
      redisUrl: e.REDIS_URL,
      redisPrefix: e.REDIS_PREFIX,
      windowSeconds: e.RATE_LIMIT_WINDOW,
      perAddress: e.RATE_LIMIT_PER_ADDRESS,
      failureWindowSeconds: e.RATE_LIMIT_FAILURE_WINDOW,
      failuresPerAccountAddress: e.RATE_LIMIT_FAILURES_PER_ACCOUNT_ADDRESS,
      failuresPerAddress: e.RATE_LIMIT_FAILURES_PER_ADDRESS,
      failuresPerAccount: e.RATE_LIMIT_FAILURES_PER_ACCOUNT,
      failuresPerDevice: e.RATE_LIMIT_FAILURES_PER_DEVICE,
      emailWindowSeconds: e.RATE_LIMIT_EMAIL_WINDOW,
      perEmail: e.RATE_LIMIT_PER_EMAIL,
    },
    trustProxy: e.TRUST_PROXY,
    corsOrigins: e.CORS_ORIGINS,
    purgeIntervalSeconds: e.PURGE_INTERVAL,
    auditRetentionSeconds: e.AUDIT_RETENTION,
    usersReadableBy: e.USERS_READABLE_BY,
    registration: e.REGISTRATION,
    mfaRequiredForAdmins: e.MFA_REQUIRED_FOR_ADMINS,
    totpIssuer: e.TOTP_ISSUER,
    webauthn: webauthnSettings(e),
    webhooks: {
      requireHttps: e.NODE_ENV === 'production',
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE,
      timeoutMs: e.WEBHOOK_TIMEOUT * 1000,
      pollIntervalMs: e.WEBHOOK_POLL_INTERVAL * 1000,
    },
    mail: {
      ...(e.SMTP_URL === undefined ? {} : { smtpUrl: e.SMTP_URL }),
      from: e.MAIL_FROM ?? `${e.PRODUCT_NAME} <no-reply@localhost>`,
      publicUrl: (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
      productName: e.PRODUCT_NAME,
      // Development and tests without SMTP write each mail to the log; production refuses what needs mail.
      logOnly: e.SMTP_URL === undefined && e.NODE_ENV !== 'production',
    },
    shutdownDelaySeconds: e.SHUTDOWN_DELAY,
    shutdownTimeoutSeconds: e.SHUTDOWN_TIMEOUT,
    timeouts: {
      headers: e.HEADERS_TIMEOUT,
      request: e.REQUEST_TIMEOUT,
      connection: e.CONNECTION_TIMEOUT,
      keepAlive: e.KEEP_ALIVE_TIMEOUT,
    },
  };
}

/**
 * Rate-limit settings that would defeat their purpose: one address must never be able to hold an account's
 * ceiling alone, and the MySQL store lives in the app's database.
 */
function rateLimitProblems(e: z.infer<typeof EnvSchema>): string[] {
  const problems: string[] = [];
  const ceiling = e.RATE_LIMIT_FAILURES_PER_ACCOUNT;
  const perAddress = e.RATE_LIMIT_FAILURES_PER_ACCOUNT_ADDRESS;
  if (ceiling > 0 && (perAddress === 0 || ceiling <= perAddress)) {
    problems.push(
      'RATE_LIMIT_FAILURES_PER_ACCOUNT: must be above RATE_LIMIT_FAILURES_PER_ACCOUNT_ADDRESS (itself not 0), ' +
        'or one address could lock an account out; 0 turns the ceiling off',
    );
  }
  const store = e.RATE_LIMIT_STORE;
  if ((store === 'mysql' || store === 'postgres') && dialectOf(e.DATABASE_URL) !== store) {
    problems.push(
      `RATE_LIMIT_STORE: ${store} keeps the counters in the app database, so DATABASE_URL must be ${store}://`,
    );
  }
  return problems;
}

/** The development key lives beside the SQLite file (./data/ by default), or in ./data/ on MySQL. */
function developmentKeyFile(databaseUrl: string): string {
  const sqlite = databaseUrl.startsWith('sqlite:') && databaseUrl !== 'sqlite::memory:';
  return join(sqlite ? dirname(databaseUrl.slice('sqlite:'.length)) : 'data', 'jwt-signing-key.pem');
}
