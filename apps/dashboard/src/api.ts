import { type ApiError, createClient, type TokenStore, type Tokens } from '@api-users/sdk';

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

/** Whether this tab holds a session (the server decides whether it still works). */
export const hasSession = async (): Promise<boolean> => (await tokenStore.get()) !== null;
