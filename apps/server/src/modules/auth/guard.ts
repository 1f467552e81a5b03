import type { AuthKind, TokenClaims, UserRole } from '@api-users/contract';
import { type Database, prepared } from '@api-users/db';
import type { Kysely } from 'kysely';
import {
  type Caller,
  type Deps,
  type PublicRow,
  publicColumns,
  type RefreshCaller,
  type Settings,
} from '../../core/context.js';
import { refuse } from '../../core/errors.js';
import { readRefreshToken } from '../sessions/refresh-tokens.js';
import { earliestLiveSignIn } from '../sessions/sessions.js';
import { roleOf } from '../users/users.js';

/** RFC 6750 with RFC 7235's grammar: the scheme is case-insensitive, one or more spaces before the token. */
const BEARER = /^bearer +([A-Za-z0-9_.~+/=-]+)$/i;

/** The bearer token of an `Authorization` header; undefined when none was sent. */
function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  const token = BEARER.exec(header)?.[1];
  if (!token) throw refuse('notBearer');
  return token;
}

/**
 * Checks the access token of the `Authorization` header (required, or `optional`) against the database:
 * revoked token, ended session, user gone or disabled; the caller gets the role the database holds now, so
 * every instance agrees at once. `readAlong` names an account whose public row the same statement reads (the
 * caller's `readAlong`): an operation that reads one account makes one round trip instead of two.
 */
export async function authenticate(
  deps: Deps,
  header: string | undefined,
  kind: Exclude<AuthKind, 'refresh'>,
  readAlong?: (claims: TokenClaims) => number,
): Promise<Caller | null> {
  if (kind === 'none') return null;
  const token = bearerToken(header);
  if (token === undefined) {
    if (kind === 'optional') return null;
    throw refuse('authRequired');
  }
  return verifyAccessToken(deps, token, readAlong);
}

/**
 * The refresh token of the `Authorization` header, read: the session it names and its ref. The operation checks
 * both against the session row, which it must update atomically anyway. A refresh JWT issued before refresh
 * tokens became opaque is still taken (verified, its `jti` its ref) until it expires.
 */
export async function refreshCredential(deps: Deps, header: string | undefined): Promise<RefreshCaller> {
  const token = bearerToken(header);
  if (token === undefined) throw refuse('authRequired');
  const opaque = readRefreshToken(token);
  if (opaque) return opaque;
  const claims = await deps.tokens.verify(token, 'refresh');
  return { sid: claims.sid, ref: claims.jti };
}

/** The caller of an access token valid now: signed by us, unexpired, not revoked, session live, user there. */
export async function verifyAccessToken(
  deps: Deps,
  token: string,
  readAlong?: (claims: TokenClaims) => number,
): Promise<Caller> {
  if (readRefreshToken(token)) throw refuse('refreshAsAccess');
  const claims = await deps.tokens.verify(token, 'access');
  const userId = Number(claims.sub);
  const accountId = readAlong?.(claims);
  const [row] = await sessionState(deps.db, { jti: claims.jti, sid: claims.sid, userId, accountId });
  const role = row === undefined ? undefined : roleIfLive(deps, row);
  if (row === undefined || role === undefined) throw refuse('tokenRevoked');
  if (accountId === undefined) return { userId, role, claims };
  return { userId, role, claims, readAlong: accountOf(row) };
}

type SessionValues = { jti: string; sid: string; userId: number; accountId: number | undefined };

/**
 * The guard's one statement: the session, the user and whether this token id was revoked; with `accountId`,
 * also that account's public row (null columns when there is none). Only one account: a page read this way
 * repeated the guard's columns and its EXISTS on every row, and cost more than a second statement
 * (bench/README.md).
 */
const sessionState = prepared((db: Kysely<Database>, v: SessionValues) => {
  const query = db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id_user', 'sessions.user_id')
    .select((eb) => [
      'sessions.revoked_at',
      'sessions.expires_at',
      'sessions.created_at',
      'users.user_role',
      'users.disabled',
      eb.exists(eb.selectFrom('revoked_tokens').select('jti').where('jti', '=', v.jti)).as('token_revoked'),
    ])
    .where('sessions.sid', '=', v.sid)
    .where('sessions.user_id', '=', v.userId);
  if (v.accountId === undefined) return query;
  return query
    .leftJoin('users as account', (join) => join.on('account.id_user', '=', v.accountId as number))
    .select(publicColumns.map((column) => `account.${column} as account_${column}` as const));
});

type SessionRow = Awaited<ReturnType<typeof sessionState>>[number];

/** Each public column and its name in the guard's row when read along; worked out once, not per request. */
const accountColumns = publicColumns.map((column) => [column, `account_${column}`] as const);

/** The account the row carries; null when its columns are null (no such account). */
function accountOf(row: SessionRow): PublicRow | null {
  const fields = row as unknown as Record<string, unknown>;
  if (fields.account_id_user === null) return null;
  const account: Record<string, unknown> = {};
  for (const [column, alias] of accountColumns) account[column] = fields[alias];
  return account as PublicRow;
}

/**
 * The user's role now, or undefined when the token may not be used: its session ended, expired, passed
 * SESSION_MAX_AGE or is gone (the sessions a user sees and can end are exactly the ones whose tokens work),
 * the token itself was revoked, or the user no longer exists or is disabled.
 */
function roleIfLive(
  deps: Pick<Deps, 'clock'> & { config: Pick<Settings, 'sessionMaxAgeSeconds'> },
  row: SessionRow,
): UserRole | undefined {
  if (row.revoked_at !== null || row.token_revoked || row.disabled) return undefined;
  const now = deps.clock();
  if (Number(row.expires_at) <= now || Number(row.created_at) <= earliestLiveSignIn(deps.config, now)) return undefined;
  return roleOf(row.user_role);
}

/**
 * The guard's check alone, one statement as on every request (bench/micro.mjs measures it).
 * @public imported by bench/micro.mjs from the build
 */
export async function currentRole(
  deps: Pick<Deps, 'db' | 'clock'> & { config: Pick<Settings, 'sessionMaxAgeSeconds'> },
  claims: Pick<TokenClaims, 'sid' | 'jti'>,
  userId: number,
): Promise<UserRole | undefined> {
  const [row] = await sessionState(deps.db, { jti: claims.jti, sid: claims.sid, userId, accountId: undefined });
  return row && roleIfLive(deps, row);
}
