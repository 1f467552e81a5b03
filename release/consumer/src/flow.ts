import { ApiError, createClient, createTrpcClient, isMfaRequired, memoryTokenStore, type User } from '@api-users/sdk';

const PASSWORD = 'a fine long password';

/** What a consumer observes of one account's whole life, in Node or in a browser alike. */
export async function flow(baseUrl: string, login: string) {
  const tokens = memoryTokenStore();
  const client = createClient({ baseUrl, tokenStore: tokens });
  const user: User = await client.auth.register({ user_name: 'Registry Consumer', login, password: PASSWORD });
  const pair = await client.auth.login({ login, password: PASSWORD });
  // An account with a second factor answers a challenge instead, finished with client.auth.loginMfa.
  if (isMfaRequired(pair)) throw new Error('this account has no second factor');

  const ids: number[] = [];
  let cursor: string | null | undefined;
  do {
    const page = await client.users.list(cursor ? { limit: 100, cursor } : { limit: 100 });
    ids.push(...page.items.map((u) => u.id_user));
    cursor = page.next_cursor;
  } while (cursor);

  const trpc = createTrpcClient({ baseUrl, tokenStore: tokens });
  const viaTrpc = await trpc.users.byId.query({ id: user.id_user });
  const renewed = await client.auth.refresh();

  const refused = await failure(client.auth.login({ login, password: 'not the password' }));
  await client.signOut();
  const afterLogout = await failure(client.users.byId({ id: user.id_user }));

  return {
    login: user.login,
    tokenType: pair.token_type,
    listed: ids.includes(user.id_user),
    viaTrpc: viaTrpc.login,
    renewed: renewed.refresh_token !== pair.refresh_token,
    refused,
    afterLogout,
    signedIn: (await tokens.get()) !== null,
  };
}

/** `status code` of the ApiError a call rejects with. */
async function failure(call: Promise<unknown>): Promise<string> {
  try {
    await call;
    return 'no error';
  } catch (err) {
    if (err instanceof ApiError) return `${err.status} ${err.code}`;
    throw err;
  }
}

// Never called: each line must fail to type-check, which shows the types are the contract's, not `any`.
export function typeErrors(client: ReturnType<typeof createClient>, trpc: ReturnType<typeof createTrpcClient>): void {
  // @ts-expect-error the password is required
  void client.auth.login({ login: 'ada' });
  // @ts-expect-error a user has no password field
  void ({} as User).password;
  // @ts-expect-error users.byId is a query, not a mutation
  void trpc.users.byId.mutate({ id: 1 });
}
