import { randomUUID } from 'node:crypto';
import { type TokenClaims, TokenClaimsSchema } from '@api-users/contract';
import { createSigner, createVerifier, TokenError } from 'fast-jwt';
import type { SessionRef, Settings, TokenService, TokenType } from '../../core/context.js';
import { AppError, refuse } from '../../core/errors.js';
import type { KeyRing } from './keys.js';

/** What fast-jwt's verifier answers with `complete: true`. */
interface Decoded {
  header: { kid?: string; typ?: string };
  payload: unknown;
}

/** Where tokens are issued for and how long they live. */
export interface TokenSettings extends Pick<Settings, 'accessTtlSeconds' | 'sessionMaxAgeSeconds'> {
  /** The `iss` of every new token, then required of every access token. */
  issuer?: string | undefined;
  /** The `aud` of every new token, then required of every access token. */
  audience?: string | undefined;
}

/**
 * Leeway for clocks of several instances that are not perfectly in step: a token is accepted this long past
 * its `exp`, so its revocation and session rows are kept as long (purge.ts).
 */
export const CLOCK_TOLERANCE_MS = 5_000;

/**
 * RFC 9068 names access tokens `at+jwt`, so no other JWT can pass for one. Refresh tokens are opaque now
 * (sessions/refresh-tokens.ts); the refresh JWTs issued before are plain JWTs, still verified until they expire.
 */
const TYP: Record<TokenType, string> = { access: 'at+jwt', refresh: 'JWT' };

export function createTokenService(keys: KeyRing, config: TokenSettings): TokenService {
  const { issuer, audience } = config;
  const { signing } = keys;
  const signAccess = createSigner({
    key: signing.key,
    algorithm: signing.alg,
    kid: signing.kid,
    header: { alg: signing.alg, typ: TYP.access },
  });
  const verifier = createVerifier({
    key: async ({ header }: { header: { kid?: string; alg?: string } }) => {
      const key = header.kid === undefined ? undefined : keys.verification.get(header.kid);
      // Each key verifies tokens of its own algorithm only: an HS512 token is no token of an HS256 secret.
      if (!key || key.alg !== header.alg) throw new Error('unknown key id or algorithm');
      return key.key;
    },
    algorithms: [...new Set([...keys.verification.values()].map((k) => k.alg))],
    clockTolerance: CLOCK_TOLERANCE_MS,
    requiredClaims: ['sub', 'type', 'jti', 'sid', 'role', 'iat', 'nbf', 'exp'],
    complete: true,
    cache: true,
  });

  /**
   * What a token issued by this version must also carry. `iss` and `aud` are required of access tokens, the
   * ones other services see; a refresh token is held to its session row instead, so that setting or changing
   * JWT_ISSUER or JWT_AUDIENCE signs nobody out: their next refresh brings access tokens with the new values.
   */
  const followsCurrentRules = (typ: unknown, claims: TokenClaims) =>
    typ === TYP[claims.type] &&
    (claims.type === 'refresh' ||
      ((issuer === undefined || claims.iss === issuer) &&
        (audience === undefined || [claims.aud].flat().includes(audience))));

  const accessToken = (s: SessionRef, iat: number, exp: number) =>
    signAccess({
      ...(issuer === undefined ? {} : { iss: issuer }),
      ...(audience === undefined ? {} : { aud: audience }),
      sub: String(s.userId),
      type: 'access',
      jti: randomUUID(),
      sid: s.sid,
      role: s.role,
      iat,
      nbf: iat,
      exp,
      amr: s.amr,
    });

  /** The claims of a verified token, if they follow the rules of its key; frozen, as callers share them. */
  const checkClaims = ({ header, payload }: Decoded): TokenClaims => {
    const claims = TokenClaimsSchema.safeParse(payload);
    const { kid, typ } = header;
    const legacy = kid !== undefined && keys.verification.get(kid)?.legacy === true;
    if (!claims.success || !(legacy ? typ === 'JWT' : followsCurrentRules(typ, claims.data))) {
      throw refuse('invalidToken');
    }
    return Object.freeze(claims.data);
  };
  const checked = new WeakMap<Decoded, TokenClaims>();

  return {
    issuePair(s, nowMs) {
      const iat = Math.floor(nowMs / 1000);
      // An access token never outlives its session: it stops at SESSION_MAX_AGE after sign-in, as the session does.
      const sessionEnds = Math.floor((s.signedInAt + config.sessionMaxAgeSeconds * 1000) / 1000);
      const accessExp = Math.min(iat + config.accessTtlSeconds, sessionEnds);
      return {
        access_token: accessToken(s, iat, accessExp),
        refresh_token: s.refreshToken,
        token_type: 'Bearer',
        expires_in: accessExp - iat,
      };
    },
    async verify(raw, expected) {
      let decoded: Decoded;
      try {
        decoded = await verifier(raw);
      } catch (err) {
        if (err instanceof TokenError && err.code === TokenError.codes.expired) {
          throw refuse('tokenExpired');
        }
        throw refuse('invalidToken');
      }
      // fast-jwt answers a cached token with the object it cached (after checking its times again), so the
      // claims of a token seen before need no second parse; any other object is parsed.
      const claims = checked.get(decoded) ?? checkClaims(decoded);
      checked.set(decoded, claims);
      if (claims.type !== expected) {
        throw new AppError(
          'WRONG_TOKEN_TYPE',
          `This operation takes the ${expected} token of a pair, not the ${claims.type} token`,
        );
      }
      return claims;
    },
  };
}
