import { type AppRouter, TRPC_PREFIX } from '@api-users/contract';
import { createTRPCClient, httpBatchLink, httpLink } from '@trpc/client';

/** The real @trpc/client against a listening server, typed from the contract alone. */
export function trpcClient(base: string, token?: string, batch = false) {
  const options = { url: `${base}${TRPC_PREFIX}`, headers: () => (token ? { authorization: `Bearer ${token}` } : {}) };
  return createTRPCClient<AppRouter>({ links: [batch ? httpBatchLink(options) : httpLink(options)] });
}
