import { ApiError, errorFromBody, invalidResponse } from './errors.js';

/** The part of the global `fetch` the clients use; pass your own to add logging, proxies or test hooks. */
export type Fetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/**
 * Wraps `fetch` so both transports report the same two client-side failures the same way: the API could
 * not be reached (NETWORK_ERROR), or what answered was not the API's JSON (INVALID_RESPONSE).
 * Aborts are passed through unchanged, as callers asked for them.
 */
export function apiFetch(fetchImpl: Fetch | undefined): Fetch {
  // Looked up per call, not at creation, so a fetch installed later (polyfill, test hook) is used.
  const send: Fetch = fetchImpl ?? ((input, init) => globalThis.fetch(input, init));
  return async (input, init) => {
    let res: Response;
    try {
      res = await send(input, init);
    } catch (err) {
      if (err instanceof Error && err.name === 'AbortError') throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new ApiError(0, 'NETWORK_ERROR', `Cannot reach the API at ${String(input)}: ${reason}`, undefined, {
        cause: err,
      });
    }
    const type = res.headers.get('content-type') ?? '';
    if (!type.includes('json')) {
      throw invalidResponse(res.status, `${res.status} ${type || 'without a content type'} from ${String(input)}`);
    }
    return res;
  };
}

/** A REST answer's body: the output when the status is 2xx, else the API's error (INVALID_RESPONSE if none). */
export async function readRestAnswer(res: Response, url: string): Promise<unknown> {
  let body: unknown;
  try {
    body = await res.json();
  } catch (err) {
    throw invalidResponse(res.status, `${res.status} from ${url} is not valid JSON`, err);
  }
  if (res.ok) return body;
  throw (
    errorFromBody(res.status, body) ?? invalidResponse(res.status, `${res.status} from ${url} without an error body`)
  );
}
