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
type TrpcNode = Partial<Record<'query' | 'mutate', AnyCall>>;

/** One entry per operation, from the table; both clients are typed from it, the functions here are not. */
const byName = (call: (name: OperationName) => AnyCall): Calls =>
  Object.fromEntries(operationNames.map((name) => [name, call(name)])) as Calls;

export const transports: Record<'rest' | 'trpc', (options: ClientOptions) => Calls> = {
  rest(options) {
    const client = createClient(options) as Record<string, Record<string, AnyCall>>;
    return byName((name) => client[operations[name].router]?.[operations[name].procedure] as AnyCall);
  },
  trpc(options) {
    const client = createTrpcClient(options) as Record<string, Record<string, TrpcNode>>;
    return byName((name) => {
      const { router, procedure, method } = operations[name];
      const send = client[router]?.[procedure]?.[method === 'GET' ? 'query' : 'mutate'];
      if (!send) throw new Error(`the tRPC client has no ${router}.${procedure}`);
      return send;
    });
  },
};

export const transportNames = Object.keys(transports) as (keyof typeof transports)[];
