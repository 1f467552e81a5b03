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

/**
 * Where a client keeps the device token each sign-in answers with (OWASP device cookies), by login, and sends it
 * with its next sign-in to that login: an account under attack from elsewhere, whose sign-ins from unknown
 * clients are blocked for a while, stays open to this one. Kept across sign-outs; it opens nothing by itself.
 */
export interface DeviceStore {
  get(login: string): string | undefined | Promise<string | undefined>;
  set(login: string, deviceToken: string): void | Promise<void>;
}

/** Device tokens for as long as the process or page lives. */
export function memoryDeviceStore(): DeviceStore {
  const tokens = new Map<string, string>();
  return { get: (login) => tokens.get(login), set: (login, token) => void tokens.set(login, token) };
}

const DEVICE_KEY = 'api-users.device-token.';

/** The default: in a browser, localStorage (a device token is meant to outlive the tab); elsewhere memory. */
export function defaultDeviceStore(): DeviceStore {
  const storage = (globalThis as { localStorage?: Storage }).localStorage;
  if (!storage) return memoryDeviceStore();
  return {
    get: (login) => storage.getItem(DEVICE_KEY + login) ?? undefined,
    set: (login, token) => storage.setItem(DEVICE_KEY + login, token),
  };
}
