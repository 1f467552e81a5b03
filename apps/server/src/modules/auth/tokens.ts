import { createHash, randomUUID } from 'node:crypto';
import { type TokenPair, UserRoleSchema } from '@api-users/contract';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { AppError } from '../../errors.js';

type TokenType = 'access' | 'refresh';

/** Every claim a token carries; nothing personal and nothing secret. */
const ClaimsSchema = z.object({
  sub: z.string().regex(/^\d{1,10}$/),
  type: z.enum(['access', 'refresh']),
  jti: z.uuid(),
  sid: z.uuid(),
  role: UserRoleSchema,
  iat: z.number().int(),
  nbf: z.number().int(),
  exp: z.number().int(),
});
export type Claims = z.infer<typeof ClaimsSchema>;

interface SessionRef {
  userId: number;
  role: 1 | 2;
  sid: string;
  /** The id the refresh token of the pair gets; the session row remembers it. */
  refreshJti: string;
}

export interface TokenService {
  issuePair(session: SessionRef, nowMs: number): TokenPair;
  /** Verifies signature, algorithm, time claims and type; throws the AppError to answer with. */
  verify(token: string, expected: TokenType): Promise<Claims>;
}

/** The key id is a digest prefix, so verifiers find the right secret without the token naming it. */
const keyId = (secret: string) => createHash('sha256').update(secret).digest('base64url').slice(0, 12);

/**
 * Leeway for clocks of several instances that are not perfectly in step: a token is accepted this long past
 * its `exp`, so its revocation and session rows are kept as long (purge.ts).
 */
export const CLOCK_TOLERANCE_MS = 5_000;

export function createTokenService(
  config: Pick<Config, 'jwt' | 'accessTtlSeconds' | 'refreshTtlSeconds'>,
): TokenService {
  const { secret, previousSecrets, algorithm } = config.jwt;
  const sign = createSigner({ key: secret, algorithm, kid: keyId(secret) });
  const keys = new Map([secret, ...previousSecrets].map((s) => [keyId(s), s]));
  const verifier = createVerifier({
    key: async ({ header }: { header: { kid?: string } }) => {
      const key = header.kid === undefined ? undefined : keys.get(header.kid);
      if (!key) throw new Error('unknown key id');
      return key;
    },
    algorithms: ['HS256', 'HS512'],
    checkTyp: 'JWT',
    clockTolerance: CLOCK_TOLERANCE_MS,
    requiredClaims: ['sub', 'type', 'jti', 'sid', 'role', 'iat', 'nbf', 'exp'],
    cache: true,
  });

  const token = (type: TokenType, s: SessionRef, jti: string, nowMs: number, ttl: number) => {
    const iat = Math.floor(nowMs / 1000);
    return sign({ sub: String(s.userId), type, jti, sid: s.sid, role: s.role, iat, nbf: iat, exp: iat + ttl });
  };

  return {
    issuePair(s, nowMs) {
      return {
        access_token: token('access', s, randomUUID(), nowMs, config.accessTtlSeconds),
        refresh_token: token('refresh', s, s.refreshJti, nowMs, config.refreshTtlSeconds),
        token_type: 'Bearer',
        expires_in: config.accessTtlSeconds,
      };
    },
    async verify(raw, expected) {
      let payload: unknown;
      try {
        payload = await verifier(raw);
      } catch (err) {
        if (err instanceof TokenError && err.code === TokenError.codes.expired) {
          throw new AppError('TOKEN_EXPIRED', 'The token has expired');
        }
        throw new AppError('INVALID_TOKEN', 'The token is not valid');
      }
      const claims = ClaimsSchema.safeParse(payload);
      if (!claims.success) throw new AppError('INVALID_TOKEN', 'The token is not valid');
      if (claims.data.type !== expected) {
        throw new AppError(
          'WRONG_TOKEN_TYPE',
          `This operation takes the ${expected} token of a pair, not the ${claims.data.type} token`,
        );
      }
      return claims.data;
    },
  };
}
