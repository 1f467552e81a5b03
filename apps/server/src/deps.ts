import type { Database } from '@api-users/db';
import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import type { InFlight } from './in-flight.js';
import type { FailedLoginFloor } from './modules/auth/failed-login-floor.js';
import type { PasswordHasher } from './modules/auth/passwords.js';
import type { TokenService } from './modules/auth/tokens.js';
import type { RateLimiter } from './rate-limit.js';

/** What the domain functions need from the outside world; built once in the composition root. */
export interface Deps {
  db: Kysely<Database>;
  clock: () => number;
  tokens: TokenService;
  passwords: PasswordHasher;
  failedLogins: FailedLoginFloor;
  rateLimiter: RateLimiter;
  inFlight: InFlight;
  config: Pick<
    Config,
    'accessTtlSeconds' | 'refreshTtlSeconds' | 'sessionMaxAgeSeconds' | 'usersReadableBy' | 'auditRetentionSeconds'
  >;
}
