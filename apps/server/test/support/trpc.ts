import { type AppRouter, TRPC_PREFIX } from '@api-users/contract';
import { createTRPCClient, httpBatchLink, httpBatchStreamLink, httpLink } from '@trpc/client';

/** How the client sends its calls: one a request, batched, or batched with the answers streamed (JSONL). */
export type TrpcLink = 'single' | 'batch' | 'stream';
export const trpcLinks: TrpcLink[] = ['single', 'batch', 'stream'];

const links = { single: httpLink, batch: httpBatchLink, stream: httpBatchStreamLink };

/** The real @trpc/client against a listening server, typed from the contract alone. */
export function trpcClient(base: string, token?: string, link: TrpcLink = 'single') {
  const options = { url: `${base}${TRPC_PREFIX}`, headers: () => (token ? { authorization: `Bearer ${token}` } : {}) };
  return createTRPCClient<AppRouter>({ links: [links[link](options)] });
}
