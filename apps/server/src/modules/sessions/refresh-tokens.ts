import { newOpaqueToken, opaqueTokenReader } from '../opaque-tokens.js';

/** Refresh tokens are opaque (opaque-tokens.ts), `<sid>.<secret>`: the session row keeps the digest as its `ref`. */
const readToken = opaqueTokenReader('');

/** A new refresh token for the session, and the ref its row keeps. */
export function newRefreshToken(sid: string): { token: string; ref: string } {
  const { token, digest } = newOpaqueToken(sid, '');
  return { token, ref: digest };
}

/** The session a refresh token names and its ref; undefined for anything that is not one. */
export function readRefreshToken(token: string): { sid: string; ref: string } | undefined {
  const read = readToken(token);
  return read && { sid: read.id, ref: read.digest };
}
