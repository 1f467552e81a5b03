import {
  type ClientOptions,
  createClient,
  createTrpcClient,
  type InputOf,
  type OperationName,
  type OutputOf,
} from '../../src/index.js';

type Call<K extends OperationName> = (input: InputOf<K>) => Promise<OutputOf<K>>;

/** Every operation as one function, whichever client sends it, so one test body covers both transports. */
export interface Calls {
  register: Call<'register'>;
  login: Call<'login'>;
  refresh: () => Promise<OutputOf<'refresh'>>;
  logout: () => Promise<OutputOf<'logout'>>;
  logoutRefresh: () => Promise<OutputOf<'logoutRefresh'>>;
  listUsers: Call<'listUsers'>;
  userById: Call<'userById'>;
}

export const transports: Record<'rest' | 'trpc', (options: ClientOptions) => Calls> = {
  rest(options) {
    const client = createClient(options);
    return {
      register: client.auth.register,
      login: client.auth.login,
      refresh: client.auth.refresh,
      logout: client.auth.logout,
      logoutRefresh: client.auth.logoutRefresh,
      listUsers: client.users.list,
      userById: client.users.byId,
    };
  },
  trpc(options) {
    const client = createTrpcClient(options);
    return {
      register: (input) => client.auth.register.mutate(input),
      login: (input) => client.auth.login.mutate(input),
      refresh: () => client.auth.refresh.mutate(),
      logout: () => client.auth.logout.mutate(),
      logoutRefresh: () => client.auth.logoutRefresh.mutate(),
      listUsers: (input) => client.users.list.query(input),
      userById: (input) => client.users.byId.query(input),
    };
  },
};

export const transportNames = Object.keys(transports) as (keyof typeof transports)[];
