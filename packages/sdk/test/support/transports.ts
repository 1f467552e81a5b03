import { type Operations, operationNames, operations } from '@api-users/contract';
import {
  type ClientOptions,
  createClient,
  createTrpcClient,
  type OperationName,
  type RestClient,
} from '../../src/index.js';

type Router<K extends OperationName> = Operations[K]['router'];

/**
 * Every operation of the table as one function named after it, whichever client sends it, so one test body
 * covers both transports and a new operation cannot be left out.
 */
export type Calls = {
  [K in OperationName]: RestClient[Router<K>][Operations[K]['procedure'] & keyof RestClient[Router<K>]];
};

type AnyCall = (input?: unknown) => Promise<unknown>;

/** The function at `path` in a client (`users`, `list`). */
const at = (client: object, ...path: string[]): unknown =>
  path.reduce<unknown>((node, key) => Reflect.get(Object(node), key), client);

/** One entry per operation, from the table; both clients are typed from it, the functions here are not. */
const byName = (call: (name: OperationName) => AnyCall): Calls =>
  Object.fromEntries(operationNames.map((name) => [name, call(name)])) as Calls;

/** Every operation, and the client's own sign-out. */
export type Client = Calls & Pick<RestClient, 'signOut'>;

export const transports: Record<'rest' | 'trpc', (options: ClientOptions) => Client> = {
  rest(options) {
    const client = createClient(options);
    const calls = byName((name) => at(client, operations[name].router, operations[name].procedure) as AnyCall);
    return { ...calls, signOut: client.signOut };
  },
  trpc(options) {
    const client = createTrpcClient(options);
    const calls = byName((name) => {
      const { router, procedure, method } = operations[name];
      const send = at(client, router, procedure, method === 'GET' ? 'query' : 'mutate');
      if (typeof send !== 'function') throw new Error(`the tRPC client has no ${router}.${procedure}`);
      return send as AnyCall;
    });
    return { ...calls, signOut: client.signOut };
  },
};

export const transportNames = Object.keys(transports) as (keyof typeof transports)[];
