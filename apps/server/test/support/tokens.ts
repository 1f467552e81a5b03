import { randomUUID } from 'node:crypto';
import { createSigner } from 'fast-jwt';
import { TEST_SECRET } from './server.js';

/** Signs arbitrary claims, to make tokens the server never issued (expired, foreign, forged). */
export function forgeToken(
  claims: Record<string, unknown>,
  options: { secret?: string; algorithm?: 'HS256' | 'HS512'; kid?: string } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  const sign = createSigner({
    key: options.secret ?? TEST_SECRET,
    algorithm: options.algorithm ?? 'HS256',
    ...(options.kid ? { kid: options.kid } : {}),
  });
  return sign({
    sub: '1',
    type: 'access',
    jti: randomUUID(),
    sid: randomUUID(),
    role: 2,
    iat: now,
    nbf: now,
    exp: now + 600,
    ...claims,
  });
}

/** The kid the server gives tokens signed with `secret`, read off one of its tokens. */
export const kidOf = (token: string): string =>
  JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()).kid;
