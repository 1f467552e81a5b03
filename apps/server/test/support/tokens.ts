import { createHash, randomUUID } from 'node:crypto';
import { type Algorithm, createSigner } from 'fast-jwt';
import { TEST_SECRET } from './server.js';

export interface ForgeOptions {
  /** The HMAC secret, or a private key as PEM; TEST_SECRET by default. */
  key?: string;
  algorithm?: Algorithm;
  kid?: string;
  /** `at+jwt` for access tokens and `JWT` for refresh tokens by default, as the server signs them. */
  typ?: string;
}

/** Signs arbitrary claims, to make tokens the server never issued (expired, foreign, forged). */
export function forgeToken(claims: Record<string, unknown>, options: ForgeOptions = {}) {
  const now = Math.floor(Date.now() / 1000);
  const payload = {
    sub: '1',
    type: 'access',
    jti: randomUUID(),
    sid: randomUUID(),
    role: 2,
    iat: now,
    nbf: now,
    exp: now + 600,
    ...claims,
  };
  const algorithm = options.algorithm ?? 'HS256';
  const sign = createSigner({
    key: options.key ?? TEST_SECRET,
    algorithm,
    ...(options.kid ? { kid: options.kid } : {}),
    header: { alg: algorithm, typ: options.typ ?? (payload.type === 'access' ? 'at+jwt' : 'JWT') },
  });
  return sign(payload);
}

/**
 * A token signed exactly as the server signed every token before asymmetric keys: HS256 with the secret,
 * `kid` the first 12 characters of the secret's SHA-256 (base64url), `typ` JWT, no `iss` or `aud`.
 */
export function signAsBefore(payload: Record<string, unknown>, secret = TEST_SECRET): string {
  const kid = createHash('sha256').update(secret).digest('base64url').slice(0, 12);
  return createSigner({ key: secret, algorithm: 'HS256', kid })(payload);
}

const part = (token: string, i: number) => JSON.parse(Buffer.from(token.split('.')[i] ?? '', 'base64url').toString());

/** The header of a token: `{ alg, typ, kid }`. */
export const headerOf = (token: string) => part(token, 0);
/** The claims of a token, unverified. */
export const claimsOf = (token: string) => part(token, 1);
/** The kid the server gives its tokens, read off one of them. */
export const kidOf = (token: string): string => headerOf(token).kid;
