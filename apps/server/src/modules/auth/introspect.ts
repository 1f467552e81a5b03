import { errorStatus } from '@api-users/contract';
import type { Handler } from '../../core/context.js';
import { AppError } from '../../core/errors.js';
import { verifyAccessToken } from './guard.js';

/**
 * RFC 7662: the claims of an access token that would be accepted right now, else `active: false` and nothing
 * more (RFC 7662 §2.2), whatever the reason: revoked, expired, ended session, user gone, a refresh token, not
 * ours.
 * Refresh tokens are never active here: they are for this service alone, not for the services that ask.
 */
export const introspect: Handler<'introspect'> = async (ctx, input) => {
  try {
    const { claims, role } = await verifyAccessToken(ctx, input.token);
    // The role the user has now, as every operation of this service uses it, not the one the token was issued with.
    return { ...claims, role, type: 'access', active: true };
  } catch (err) {
    // A refused token is an answer; anything else (the database is down) is not.
    if (err instanceof AppError && errorStatus[err.code] === 401) return { active: false };
    throw err;
  }
};
