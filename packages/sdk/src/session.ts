import type { Operation, OperationName, SignIn, TokenPair } from '@api-users/contract';
import { routes } from '@api-users/contract/routes';
import { foldText, isMfaRequired, refusesToken } from '@api-users/contract/wire';
import { ApiError } from './errors.js';
import type { DeviceStore, TokenStore, Tokens } from './token-store.js';

/** Sends one operation with the bearer token given (or none) and resolves to its output. */
type Send = (bearer: string | undefined) => Promise<unknown>;
/** Sends one operation with the bearer token and the input given. */
type SendInput = (bearer: string | undefined, input: unknown) => Promise<unknown>;

export interface SessionOptions {
  tokenStore: TokenStore;
  onSessionExpired: ((error: ApiError) => void) | undefined;
  /** The transport's own refresh call, sent with the refresh token given. */
  sendRefresh: Send;
  deviceStore: DeviceStore;
}

/** Runs operations with the right token and keeps the token store in step with the session. */
export interface Session {
  call(name: OperationName, input: unknown, send: SendInput): Promise<unknown>;
  /** Ends the stored session on the server with `sendLogoutRefresh` and clears the store, whatever happens. */
  signOut(sendLogoutRefresh: Send): Promise<void>;
}

// Named here so that renaming one in the contract breaks this file's type check instead of its behaviour.
const REFRESH: OperationName = 'refresh';
const LOGIN: OperationName = 'login';
const LOGIN_MFA: OperationName = 'loginMfa';

/**
 * The refresh under way for each store, shared by every client using that store. The server takes a second
 * use of a spent refresh token as theft and ends the session, so concurrent refreshes must become one.
 */
const refreshes = new WeakMap<TokenStore, Promise<unknown>>();

const tokensOf = (pair: TokenPair): Tokens => ({ access_token: pair.access_token, refresh_token: pair.refresh_token });

/** A 401 about the token sent (expired, revoked, ended session): not a wrong password, nor a client failure. */
const refusedToken = (err: unknown): err is ApiError =>
  err instanceof ApiError && err.code !== 'NETWORK_ERROR' && err.code !== 'INVALID_RESPONSE' && refusesToken(err.code);

/** A 4xx about what the caller sent (its input, a password or code, the change asked for), not about its token. */
const refusedInput = (err: unknown): boolean =>
  err instanceof ApiError && err.status >= 400 && err.status < 500 && !refusedToken(err);

/** The login a sign-in's input names, as the server folds it (the key of its device token); else undefined. */
function loginOf(input: unknown): string | undefined {
  const login = (input as { login?: unknown } | undefined)?.login;
  return typeof login === 'string' ? foldText(login.trim()) : undefined;
}

export function createSession({
  tokenStore: store,
  onSessionExpired,
  sendRefresh,
  deviceStore,
}: SessionOptions): Session {
  /** The login of each sign-in waiting for its second factor, by its mfa_token: the key of the device token it ends with. */
  const pendingLogins = new Map<string, string>();

  /** The login a device token that `name` answers belongs to: a sign-in's, or the sign-in its challenge began. */
  function signInLogin(name: OperationName, input: unknown): string | undefined {
    if (name === LOGIN) return loginOf(input);
    if (name !== LOGIN_MFA) return undefined;
    const token = (input as { mfa_token?: unknown } | undefined)?.mfa_token;
    return typeof token === 'string' ? pendingLogins.get(token) : undefined;
  }

  /** A sign-in carries the device token of this login's last one, unless the caller gave one. */
  async function withDevice(name: OperationName, input: unknown): Promise<unknown> {
    const login = name === LOGIN ? loginOf(input) : undefined;
    if (login === undefined || (input as { device_token?: unknown }).device_token !== undefined) return input;
    const device_token = await deviceStore.get(login);
    return device_token === undefined ? input : { ...(input as object), device_token };
  }

  async function bearerFor(name: OperationName): Promise<string | undefined> {
    const auth = routes[name].auth;
    if (auth === 'none') return undefined;
    const tokens = await store.get();
    return auth === 'refresh' ? tokens?.refresh_token : tokens?.access_token;
  }

  /** Joins the refresh under way, or starts one; resolves to the new pair. */
  function refresh(): Promise<unknown> {
    let flight = refreshes.get(store);
    if (!flight) {
      flight = exchangeRefreshToken().finally(() => refreshes.delete(store));
      refreshes.set(store, flight);
    }
    return flight;
  }

  async function exchangeRefreshToken(): Promise<unknown> {
    const refreshToken = (await store.get())?.refresh_token;
    try {
      const pair = (await sendRefresh(refreshToken)) as TokenPair;
      await store.set(tokensOf(pair));
      return pair;
    } catch (err) {
      // A refused refresh token means the session is over; a network or server failure does not.
      if (refusedToken(err)) {
        await store.clear();
        if (refreshToken !== undefined) onSessionExpired?.(err);
      }
      throw err;
    }
  }

  /** After the access token `rejected` got a 401: whether a newer one is now in the store to retry with. */
  async function renew(rejected: string): Promise<boolean> {
    const flight = refreshes.get(store);
    if (flight !== undefined) {
      await flight;
      return true;
    }
    const tokens = await store.get();
    if (!tokens) return false;
    // A call that failed after another one already refreshed retries with that new token, spending nothing.
    if (tokens.access_token === rejected) await refresh();
    return true;
  }

  /** Sends with the token the operation takes; a 401 on an access token renews it once and retries. */
  async function sendRenewing(name: OperationName, send: Send): Promise<unknown> {
    const bearer = await bearerFor(name);
    try {
      return await send(bearer);
    } catch (err) {
      // Refresh-token operations are never retried: that would spend or replay the refresh token. Nor is a
      // wrong password (401 WRONG_PASSWORD, as when changing one): the token was fine.
      const renewable = routes[name].auth !== 'refresh' && bearer !== undefined && refusedToken(err);
      if (!renewable || !(await renew(bearer))) throw err;
      return send(await bearerFor(name));
    }
  }

  return {
    async call(name, input, send) {
      // An explicit refresh joins any automatic one, for the same reason automatic ones are collapsed.
      if (name === REFRESH) return refresh();
      const { signsIn, signsOut } = routes[name] as Pick<Operation, 'signsIn' | 'signsOut'>;
      let refused = false;
      try {
        const sent = await withDevice(name, input);
        const output = await sendRenewing(name, (bearer) => send(bearer, sent));
        const login = signInLogin(name, input);
        if (name === LOGIN_MFA) pendingLogins.delete((input as { mfa_token: string }).mfa_token);
        // Every pair a sign-in answers with (a password change's too) is the session's from now on; a second
        // factor asked for instead is the caller's to answer, with loginMfa.
        if (signsIn) {
          const signIn = output as SignIn;
          if (isMfaRequired(signIn)) {
            if (login !== undefined) pendingLogins.set(signIn.mfa_token, login);
            return output;
          }
          await store.set(tokensOf(signIn));
        }
        const device = (output as { device_token?: unknown }).device_token;
        if (login !== undefined && typeof device === 'string') await deviceStore.set(login, device);
        return output;
      } catch (err) {
        refused = refusedInput(err);
        throw err;
      } finally {
        // Forgotten even when the server could not be told (the caller asked to sign out), but not when it
        // refused what was sent (a wrong password for deleteMe, say): then the session goes on.
        if (signsOut && !refused) await store.clear();
      }
    },
    async signOut(sendLogoutRefresh) {
      const refreshToken = (await store.get())?.refresh_token;
      try {
        if (refreshToken !== undefined) await sendLogoutRefresh(refreshToken);
      } catch (err) {
        // A session the server has ended already is signed out: that is what was asked.
        if (!refusedToken(err)) throw err;
      } finally {
        await store.clear();
      }
    },
  };
}
