import { createHash, randomBytes } from 'node:crypto';

/**
 * Refresh tokens are for this service alone, so they are no JWT that a resource server could be fooled into
 * accepting: `<sid>.<secret>`, the secret 32 random bytes (base64url). The session row keeps only the SHA-256 of
 * the secret (its `ref`), so a copy of the database opens no session.
 */
const SHAPE = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.([A-Za-z0-9_-]{43})$/;

const refOf = (secret: string): string => createHash('sha256').update(secret).digest('hex');

/** A new refresh token for the session, and the ref its row keeps. */
export function newRefreshToken(sid: string): { token: string; ref: string } {
  const secret = randomBytes(32).toString('base64url');
  return { token: `${sid}.${secret}`, ref: refOf(secret) };
}

/** The session a refresh token names and its ref; undefined for anything that is not one. */
export function readRefreshToken(token: string): { sid: string; ref: string } | undefined {
  const match = SHAPE.exec(token);
  return match ? { sid: match[1] as string, ref: refOf(match[2] as string) } : undefined;
}
