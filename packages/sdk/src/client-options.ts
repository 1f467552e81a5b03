import type { ApiError } from './errors.js';
import type { Fetch } from './fetch.js';
import type { DeviceStore, TokenStore } from './token-store.js';

/** What both `createClient` (REST) and `createTrpcClient` take. */
export interface ClientOptions {
  /** Where the API is served, such as `https://api.example.com`; the clients add `/api/v1` or `/trpc`. */
  baseUrl: string;
  /** Defaults to the global `fetch`. */
  fetch?: Fetch;
  /** Defaults to a store in memory. Give two clients the same store to share one session. */
  tokenStore?: TokenStore;
  /**
   * Where the device token of each sign-in is kept, and sent with the next sign-in to the same login. Defaults to
   * localStorage in a browser and to memory elsewhere; nothing to do for the caller either way.
   */
  deviceStore?: DeviceStore;
  /**
   * Called once when the session has ended: a refresh was refused (expired, revoked or replayed refresh token).
   * The store is cleared by then; the call that needed the refresh rejects with the same error.
   */
  onSessionExpired?: (error: ApiError) => void;
}

/** `https://host/` + `/trpc` → `https://host/trpc`. */
export const endpoint = (baseUrl: string, prefix: string): string => baseUrl.replace(/\/+$/, '') + prefix;
