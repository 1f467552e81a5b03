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

const BEARER = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/;

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
  const claims = await deps.tokens.verify(token, kind === 'refresh' ? 'refresh' : 'access');
  if (claims.type === 'access' && (await isAccessRevoked(deps, claims))) {
    throw new AppError('TOKEN_REVOKED', 'The token has been revoked');
  }
  return { userId: Number(claims.sub), role: claims.role, claims };
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
