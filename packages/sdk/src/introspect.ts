import { type Introspection, IntrospectionSchema, operations, REST_PREFIX } from '@api-users/contract';
import { endpoint } from './client-options.js';
import { invalidResponse } from './errors.js';
import { apiFetch, type Fetch, readRestAnswer } from './fetch.js';

export interface IntrospectorOptions {
  /** Where the API is served, such as `https://api.example.com` (without `/api/v1`). */
  baseUrl: string;
  /** Defaults to the global `fetch`. */
  fetch?: Fetch;
}

/**
 * Asks the server whether an access token is live right now (RFC 7662): `{ active: true, ...claims }`, or
 * `{ active: false }` once it is revoked, expired or its session has ended. One request per call: use it where
 * offline verification is not enough (an admin action, a payment), not on every request.
 */
export function createIntrospector(options: IntrospectorOptions): (token: string) => Promise<Introspection> {
  const url = endpoint(options.baseUrl, REST_PREFIX) + operations.introspect.path;
  const fetchJson = apiFetch(options.fetch);
  return async (token) => {
    const res = await fetchJson(url, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    const answer = IntrospectionSchema.safeParse(await readRestAnswer(res, url));
    if (!answer.success) throw invalidResponse(res.status, `${res.status} from ${url} is not an introspection answer`);
    return answer.data;
  };
}
