import { REST_PREFIX } from '@api-users/contract';
import { inject } from 'vitest';
import type { Fetch } from '../../src/index.js';

export const apiUrl = (): string => inject('apiUrl');
export const adminLogin = (): string => inject('adminLogin');

export const PASSWORD = 'a fine long password';

export { uniqueLogin } from '../../../../test-support/settings.js';

/** The real fetch, counting the requests whose URL contains `marker` (refresh calls, say). */
export function countingFetch(marker: string): { fetch: Fetch; count: () => number } {
  let count = 0;
  return {
    fetch: (input, init) => {
      if (String(input).includes(marker)) count++;
      return fetch(input, init);
    },
    count: () => count,
  };
}

/** Revokes an access token behind the client's back, so its next call meets a 401 (TOKEN_REVOKED). */
export async function revokeAccessToken(accessToken: string): Promise<void> {
  const res = await fetch(`${apiUrl()}${REST_PREFIX}/logout`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${accessToken}` },
  });
  if (res.status !== 200) throw new Error(`logout answered ${res.status}: ${await res.text()}`);
}

/** Spends a refresh token behind the client's back, so the client's next refresh is a replay. */
export async function spendRefreshToken(refreshToken: string): Promise<void> {
  const res = await fetch(`${apiUrl()}${REST_PREFIX}/refresh`, {
    method: 'POST',
    headers: { authorization: `Bearer ${refreshToken}`, 'content-type': 'application/json' },
    body: '{}',
  });
  if (res.status !== 200) throw new Error(`refresh answered ${res.status}: ${await res.text()}`);
}

/** What a raw request with this access token gets: 200 while the token works, 401 once it is revoked. */
export async function accessStatus(accessToken: string): Promise<number> {
  const res = await fetch(`${apiUrl()}${REST_PREFIX}/users?limit=1`, {
    headers: { authorization: `Bearer ${accessToken}` },
  });
  return res.status;
}
