import type { InputOf, OperationName, Operations, OutputOf } from '@api-users/contract';
import { routes } from '@api-users/contract/routes';
import { pathParameters, REST_PREFIX, takesBody } from '@api-users/contract/wire';
import { type ClientOptions, endpoint } from './client-options.js';
import { apiFetch, type Fetch, readRestAnswer } from './fetch.js';
import { createSession } from './session.js';
import { defaultDeviceStore, memoryTokenStore } from './token-store.js';

type Namespace = Operations[OperationName]['router'];

/** The input may be left out when none of its fields is required (`users.list()`, `auth.refresh()`). */
type Method<K extends OperationName> =
  Record<string, never> extends NonNullable<InputOf<K>>
    ? (input?: InputOf<K>) => Promise<OutputOf<K>>
    : (input: InputOf<K>) => Promise<OutputOf<K>>;

/** One method per operation of the contract, grouped as the tRPC router is: `client.auth.login(…)`. */
type Groups = {
  [N in Namespace]: {
    [K in OperationName as Operations[K]['router'] extends N ? Operations[K]['procedure'] : never]: Method<K>;
  };
};

export type RestClient = Groups & SignOut;

export interface SignOut {
  /**
   * Ends the stored session on the server (`logoutRefresh`, so its access tokens stop working too) and clears
   * the store. The store is cleared even when the server cannot be told; a session it had ended already
   * counts as signed out.
   */
  signOut(): Promise<void>;
}

/** A typed client for the REST API under `${baseUrl}/api/v1`, generated from the operation table. */
export function createClient(options: ClientOptions): RestClient {
  const base = endpoint(options.baseUrl, REST_PREFIX);
  const fetchJson = apiFetch(options.fetch);
  const session = createSession({
    tokenStore: options.tokenStore ?? memoryTokenStore(),
    deviceStore: options.deviceStore ?? defaultDeviceStore(),
    onSessionExpired: options.onSessionExpired,
    sendRefresh: (bearer) => request(fetchJson, base, 'refresh', undefined, bearer),
  });
  const client: Record<string, Record<string, (input?: unknown) => Promise<unknown>>> = {};
  for (const name of Object.keys(routes) as OperationName[]) {
    const { router, procedure } = routes[name];
    const group = client[router] ?? {};
    group[procedure] = (input) =>
      session.call(name, input, (bearer, sent) => request(fetchJson, base, name, sent, bearer));
    client[router] = group;
  }
  const signOut = () => session.signOut((bearer) => request(fetchJson, base, 'logoutRefresh', undefined, bearer));
  // The loop above builds exactly the shape Groups maps out of the same table.
  return Object.assign(client as Groups, { signOut });
}

/**
 * One REST call, read the way the server reads it: `:name` path segments come from the input; POST and
 * PATCH send the rest of it as a JSON body, GET and DELETE as the query string (null and undefined left out).
 */
async function request(
  fetchJson: Fetch,
  base: string,
  name: OperationName,
  input: unknown,
  bearer: string | undefined,
): Promise<unknown> {
  const op = routes[name];
  const fields: Record<string, unknown> = { ...(input as object | undefined) };
  const inPath = pathParameters(op);
  let url = base + op.path.replace(/:(\w+)/g, (_, key: string) => encodeURIComponent(String(fields[key])));
  for (const key of inPath) delete fields[key];
  const headers: Record<string, string> = { accept: 'application/json' };
  if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
  const init: RequestInit = { method: op.method, headers };
  if (takesBody(op)) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(fields);
  } else {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(fields)) {
      if (value !== undefined && value !== null) query.set(key, String(value));
    }
    const search = query.toString();
    if (search) url += `?${search}`;
  }

  return readRestAnswer(await fetchJson(url, init), url);
}
