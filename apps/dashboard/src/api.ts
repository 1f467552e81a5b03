import { type ApiError, createClient, type TokenStore, type Tokens, type UserRole } from '@api-users/sdk';

/** Where the token pair is kept (the tests read the same key). */
const TOKENS_KEY = 'api-users.dashboard.tokens';

/**
 * sessionStorage, not localStorage: each tab is then a session of its own, so two tabs never spend one
 * refresh token at once (the server would take the second use as theft and end the session).
 */
const tokenStore: TokenStore = {
  get: () => {
    const saved = sessionStorage.getItem(TOKENS_KEY);
    return saved === null ? null : (JSON.parse(saved) as Tokens);
  },
  set: (tokens) => sessionStorage.setItem(TOKENS_KEY, JSON.stringify(tokens)),
  clear: () => sessionStorage.removeItem(TOKENS_KEY),
};

let sessionExpired: (error: ApiError) => void = () => {};

/** Sets what happens when the SDK's refresh is refused: the tokens are gone, the user must sign in again. */
export const onSessionExpired = (listener: (error: ApiError) => void): void => {
  sessionExpired = listener;
};

// The API is this page's own origin: the Fastify app in production, Vite's proxy in development.
export const api = createClient({
  baseUrl: location.origin,
  tokenStore,
  onSessionExpired: (error) => sessionExpired(error),
});

/** Who the access token says is signed in. */
export interface Claims {
  userId: number;
  role: UserRole;
}

/**
 * Reads `sub` and `role` from the access token without verifying it: this only decides what to show,
 * and the server checks the token (and the role) on every call.
 */
export async function signedIn(): Promise<Claims | null> {
  const tokens = await tokenStore.get();
  const payload = tokens?.access_token.split('.')[1];
  if (payload === undefined) return null;
  try {
    const claims = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { sub?: unknown; role?: unknown };
    const userId = Number(claims.sub);
    const role = claims.role === 1 || claims.role === 2 ? claims.role : null;
    return Number.isInteger(userId) && role !== null ? { userId, role } : null;
  } catch {
    return null;
  }
}

/**
 * Revokes the access token (logout), then the session behind it (logoutRefresh), and forgets both tokens.
 * Resolves to the failures, if any: the tokens are forgotten all the same.
 */
export async function signOut(): Promise<unknown[]> {
  // The SDK clears the store after logout; this view of it keeps the refresh token for logoutRefresh. Any
  // refresh logout needs (an expired access token) still lands in the store, so logoutRefresh ends the live session.
  const keeping: TokenStore = { get: tokenStore.get, set: tokenStore.set, clear: () => {} };
  const failures: unknown[] = [];
  await createClient({ baseUrl: location.origin, tokenStore: keeping })
    .auth.logout()
    .catch((err: unknown) => failures.push(err));
  await api.auth.logoutRefresh().catch((err: unknown) => failures.push(err));
  return failures;
}
