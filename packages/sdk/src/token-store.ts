/** The token pair a session lives on. */
export interface Tokens {
  access_token: string;
  refresh_token: string;
}

/**
 * Where a client keeps its tokens. Each method may be synchronous (memory, localStorage) or return a
 * promise (secure storage, IndexedDB). Clients given the same store share one session and one refresh.
 */
export interface TokenStore {
  get(): Tokens | null | Promise<Tokens | null>;
  set(tokens: Tokens): void | Promise<void>;
  clear(): void | Promise<void>;
}

/** The default store: tokens live as long as the page or process does. */
export function memoryTokenStore(initial: Tokens | null = null): TokenStore {
  let tokens = initial;
  return {
    get: () => tokens,
    set: (next) => {
      tokens = { access_token: next.access_token, refresh_token: next.refresh_token };
    },
    clear: () => {
      tokens = null;
    },
  };
}
