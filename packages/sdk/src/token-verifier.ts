import { type TokenClaims, TokenClaimsSchema } from '@api-users/contract';
import { createRemoteJWKSet, customFetch, errors, jwtVerify } from 'jose';
import { ApiError, invalidResponse } from './errors.js';
import { apiFetch, type Fetch } from './fetch.js';

export interface TokenVerifierOptions {
  /** The server's `JWT_ISSUER`: tokens of any other issuer are refused. */
  issuer: string;
  /** The server's `JWT_AUDIENCE`: tokens meant for another audience are refused. */
  audience: string;
  /** Where the server publishes its public keys: `https://api.example.com/.well-known/jwks.json`. */
  jwksUrl: string | URL;
  /** Leeway for clocks out of step, in seconds (default 5, as the server's). */
  clockToleranceSeconds?: number;
  /**
   * How long a fetched key set is used before it is fetched again, in ms (default 300 000, the server's
   * `max-age`): a key the server stopped publishing still verifies here until then.
   */
  cacheMaxAgeMs?: number;
  /** The least time between two fetches of the key set, in ms, however many unknown kids arrive (default 30 000). */
  cooldownMs?: number;
  /** Defaults to the global `fetch`. */
  fetch?: Fetch;
}

/** The claims of a verified access token (RFC 9068): `sub` is the user id as a string, `role` 1 admin or 2 user. */
export type AccessTokenClaims = TokenClaims & { type: 'access'; iss: string; aud: string | string[] };

export interface TokenVerifier {
  /**
   * The claims of a valid access token, checked offline against the cached key set: signature, `typ`,
   * issuer, audience and times. Revocation is not seen offline: use introspection where it matters.
   * Rejects with an ApiError: 401 `INVALID_TOKEN`, `TOKEN_EXPIRED` or `WRONG_TOKEN_TYPE`; or, when the key
   * set cannot be had, status 0 `NETWORK_ERROR` or `INVALID_RESPONSE`.
   */
  verify(token: string): Promise<AccessTokenClaims>;
  /** The same from an `Authorization` header (`Bearer <token>`); 401 `AUTH_REQUIRED` when there is none. */
  verifyAuthorization(header: string | undefined): Promise<AccessTokenClaims>;
}

/** RFC 6750 with RFC 7235's grammar: the scheme is case-insensitive. */
const BEARER = /^bearer +([A-Za-z0-9_.~+/=-]+)$/i;

const invalidToken = () => new ApiError(401, 'INVALID_TOKEN', 'The token is not valid');

/** Verifies our access tokens with the public keys the server publishes, refetched on an unknown kid. */
export function createTokenVerifier(options: TokenVerifierOptions): TokenVerifier {
  const fetchJson = apiFetch(options.fetch);
  const keys = createRemoteJWKSet(new URL(options.jwksUrl), {
    cacheMaxAge: options.cacheMaxAgeMs ?? 300_000,
    cooldownDuration: options.cooldownMs ?? 30_000,
    [customFetch]: async (url: string, init: RequestInit) => {
      const res = await fetchJson(url, init);
      if (res.status !== 200) throw invalidResponse(res.status, `${res.status} from ${url}`);
      return res;
    },
  });

  async function verify(token: string): Promise<AccessTokenClaims> {
    let result: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      result = await jwtVerify(token, keys, {
        issuer: options.issuer,
        audience: options.audience,
        // Asymmetric only: an HMAC secret is never published, so an HS* token cannot be ours to check.
        algorithms: ['EdDSA', 'ES256'],
        clockTolerance: options.clockToleranceSeconds ?? 5,
        requiredClaims: ['iss', 'aud', 'sub', 'jti', 'iat', 'nbf', 'exp'],
      });
    } catch (err) {
      throw verificationError(err);
    }
    const claims = TokenClaimsSchema.safeParse(result.payload);
    if (!claims.success) throw invalidToken();
    if (claims.data.type !== 'access') {
      throw new ApiError(401, 'WRONG_TOKEN_TYPE', 'An access token is needed, not a refresh token');
    }
    // RFC 9068: the typ keeps any other JWT signed with the same keys from passing for an access token.
    if (result.protectedHeader.typ !== 'at+jwt') throw invalidToken();
    return claims.data as AccessTokenClaims;
  }

  return {
    verify,
    async verifyAuthorization(header) {
      if (header === undefined || header === '') {
        throw new ApiError(401, 'AUTH_REQUIRED', 'Send a bearer token in the Authorization header');
      }
      const token = BEARER.exec(header)?.[1];
      if (!token) throw new ApiError(401, 'INVALID_TOKEN', 'The Authorization header must be "Bearer <token>"');
      return verify(token);
    },
  };
}

/** jose's errors as the SDK's: the key set's failures are not the token's. */
function verificationError(err: unknown): unknown {
  if (err instanceof ApiError) return err;
  if (err instanceof errors.JWTExpired) return new ApiError(401, 'TOKEN_EXPIRED', 'The token has expired');
  if (err instanceof errors.JWKSTimeout) {
    return new ApiError(0, 'NETWORK_ERROR', 'The key set did not arrive in time', undefined, { cause: err });
  }
  if (err instanceof errors.JWKSInvalid || (err instanceof errors.JOSEError && err.code === 'ERR_JOSE_GENERIC')) {
    return invalidResponse(200, 'the key set is not a JWK set', err);
  }
  if (err instanceof errors.JOSEError) return invalidToken();
  return err;
}
