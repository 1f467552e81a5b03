import type { AuthKind } from '@api-users/contract';
import type { Deps } from '../../deps.js';
import { AppError } from '../../errors.js';
import type { Claims } from './tokens.js';

/** The caller an operation sees: the verified claims of the token it sent. */
export interface Caller {
  userId: number;
  role: 1 | 2;
  claims: Claims;
}

/** RFC 6750 with RFC 7235's grammar: the scheme is case-insensitive, one or more spaces before the token. */
const BEARER = /^bearer +([A-Za-z0-9_.~+/=-]+)$/i;

/**
 * Checks the `Authorization` header against what the operation takes. Access tokens are also checked
 * against the database (revoked token or ended session), so every instance agrees at once; refresh tokens
 * are checked by the operation itself, which must update their session atomically anyway.
 */
export async function authenticate(deps: Deps, header: string | undefined, kind: AuthKind): Promise<Caller | null> {
  if (kind === 'none') return null;
  if (header === undefined || header === '') {
    if (kind === 'optional') return null;
    throw new AppError('AUTH_REQUIRED', 'Send a bearer token in the Authorization header');
  }
  const token = BEARER.exec(header)?.[1];
  if (!token) throw new AppError('INVALID_TOKEN', 'The Authorization header must be "Bearer <token>"');
  const claims = kind === 'refresh' ? await deps.tokens.verify(token, 'refresh') : await verifyAccessToken(deps, token);
  return { userId: Number(claims.sub), role: claims.role, claims };
}

/** An access token that is valid now: signed by us, unexpired, not revoked, its session not ended. */
export async function verifyAccessToken(deps: Deps, token: string): Promise<Claims> {
  const claims = await deps.tokens.verify(token, 'access');
  if (await isAccessRevoked(deps, claims)) throw new AppError('TOKEN_REVOKED', 'The token has been revoked');
  return claims;
}

async function isAccessRevoked(deps: Deps, claims: Claims): Promise<boolean> {
  const row = await deps.db
    .selectFrom('sessions')
    .select((eb) => [
      'revoked_at',
      eb.exists(eb.selectFrom('revoked_tokens').select('jti').where('jti', '=', claims.jti)).as('token_revoked'),
    ])
    .where('sid', '=', claims.sid)
    .executeTakeFirst();
  return !row || row.revoked_at !== null || Boolean(row.token_revoked);
}
