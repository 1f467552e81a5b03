import {
  type InputOf,
  type OperationName,
  operations,
  pathParameters,
  REST_PREFIX,
  TRPC_PREFIX,
  takesBody,
  trpcPathOf,
} from '@api-users/contract';
import { call, type Reply } from './http.js';

export type Transport = 'rest' | 'trpc';
export const transports: Transport[] = ['rest', 'trpc'];

export interface SendOptions {
  token?: string | undefined;
  headers?: Record<string, string>;
}

/**
 * Sends any operation of the table over REST or over tRPC's HTTP protocol, read from the table as a client
 * would: the answer's status and body (for tRPC, the `data` of a result or of an error, which carries the
 * REST error body). One test body thus covers both transports, and a new operation needs no new helper.
 */
export function operationClient(base: string, transport: Transport) {
  return <K extends OperationName>(name: K, input?: InputOf<K>, options: SendOptions = {}): Promise<Reply> => {
    const op = operations[name];
    const fields: Record<string, unknown> = { ...(input as object | undefined) };
    const callOptions = { ...(options.token ? { token: options.token } : {}), headers: { ...options.headers } };
    if (transport === 'trpc') {
      const path = `${TRPC_PREFIX}/${trpcPathOf(name)}`;
      const sent =
        op.method === 'GET'
          ? call(base, 'GET', `${path}?input=${encodeURIComponent(JSON.stringify(fields))}`, callOptions)
          : call(base, 'POST', path, { ...callOptions, json: fields });
      return sent.then((reply) => {
        if (reply.body?.result) return { ...reply, body: reply.body.result.data };
        const { httpStatus, ...body } = reply.body?.error?.data ?? {};
        if (httpStatus !== reply.status) throw new Error(`tRPC said ${httpStatus} in an answer of ${reply.status}`);
        return { ...reply, body };
      });
    }
    let path = op.path as string;
    for (const key of pathParameters(op)) {
      path = path.replace(`:${key}`, encodeURIComponent(String(fields[key])));
      delete fields[key];
    }
    if (takesBody(op)) return call(base, op.method, REST_PREFIX + path, { ...callOptions, json: fields });
    // A query string carries text: an object or array goes as its JSON (String() of one can throw: {toString: 0}).
    const text = (value: unknown) =>
      typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
    const query = new URLSearchParams(Object.entries(fields).map(([key, value]) => [key, text(value)]));
    const search = query.size > 0 ? `?${query}` : '';
    return call(base, op.method, REST_PREFIX + path + search, callOptions);
  };
}

export type OperationClient = ReturnType<typeof operationClient>;
