import { type AppRouter, type OperationName, operationNames, TRPC_PREFIX, trpcPathOf } from '@api-users/contract';
import {
  createTRPCClient,
  createTRPCUntypedClient,
  httpLink,
  type TRPCClient,
  TRPCClientError,
  type TRPCLink,
} from '@trpc/client';
import { observable, observableToPromise } from '@trpc/server/observable';
import { type ClientOptions, endpoint } from './client-options.js';
import { ApiError, errorFromBody, invalidResponse } from './errors.js';
import { apiFetch } from './fetch.js';
import type { SignOut } from './rest-client.js';
import { createSession, type Session } from './session.js';
import { defaultDeviceStore, memoryTokenStore } from './token-store.js';

/** The @trpc/client client for the API's router: `client.users.list.query(…)`, `client.auth.login.mutate(…)`. */
export type TrpcClient = TRPCClient<AppRouter> & SignOut;

const operationByPath = new Map(operationNames.map((name) => [trpcPathOf(name), name]));

/**
 * A typed tRPC client for `${baseUrl}/trpc`, with the same token handling as the REST client. Its calls
 * reject with ApiError, as the REST client's do, instead of TRPCClientError.
 */
export function createTrpcClient(options: ClientOptions): TrpcClient {
  const fetchJson = apiFetch(options.fetch);
  // httpLink, not httpBatchLink: each call carries its own token (access or refresh), so calls cannot share
  // a request's headers.
  const wire = httpLink<AppRouter>({
    url: endpoint(options.baseUrl, TRPC_PREFIX),
    // tRPC's own init type differs from RequestInit only in how optional fields are spelled.
    fetch: (url, init) => fetchJson(url, init as RequestInit),
    headers: ({ op }) =>
      typeof op.context.bearer === 'string' ? { authorization: `Bearer ${op.context.bearer}` } : {},
  });
  // Refreshes go straight to the wire: through the session link they would wait for themselves.
  const direct = createTRPCUntypedClient<AppRouter>({ links: [wire] });
  const sendDirect = (name: OperationName) => (bearer: string | undefined) =>
    direct.mutation(trpcPathOf(name), undefined, { context: { bearer } }).catch((err: unknown) => {
      throw fromWire(err);
    });
  const session = createSession({
    tokenStore: options.tokenStore ?? memoryTokenStore(),
    deviceStore: options.deviceStore ?? defaultDeviceStore(),
    onSessionExpired: options.onSessionExpired,
    sendRefresh: sendDirect('refresh'),
  });
  const signOut: SignOut = { signOut: () => session.signOut(sendDirect('logoutRefresh')) };
  return withApiErrors(createTRPCClient<AppRouter>({ links: [sessionLink(session), wire] }), signOut);
}

/** Runs each call of the operation table through the session: its token, one renewal on a 401, the store. */
function sessionLink(session: Session): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) => {
      const name = operationByPath.get(op.path);
      if (!name) return next(op);
      return observable((observer) => {
        const send = (bearer: string | undefined, input: unknown) =>
          observableToPromise(next({ ...op, input, context: { ...op.context, bearer } })).then(
            (envelope) => ('data' in envelope.result ? envelope.result.data : undefined),
            (err: unknown) => {
              throw fromWire(err);
            },
          );
        session.call(name, op.input, send).then(
          (data) => {
            observer.next({ result: { type: 'data', data } });
            observer.complete();
          },
          // tRPC wraps whatever a link fails with; withApiErrors takes the ApiError back out.
          (err: unknown) => observer.error(TRPCClientError.from(err as Error)),
        );
      });
    };
}

/** What an error from the HTTP link stands for: the API's error, an abort as it is, or an unexpected answer. */
function fromWire(err: unknown): unknown {
  if (!(err instanceof TRPCClientError)) return err;
  // apiFetch's ApiError (network failure, non-JSON answer) and aborts arrive as the cause.
  if (err.cause instanceof ApiError || err.cause?.name === 'AbortError') return err.cause;
  const data: unknown = err.data;
  const status = httpStatusOf(data, err.meta?.response);
  // An answer in the REST error shape, not tRPC's envelope (a base URL with a path too many reaches the API's
  // own 404): the same ApiError REST would give.
  const body = errorFromBody(status, data) ?? errorFromBody(status, err.meta?.responseJSON);
  return body ?? invalidResponse(status, `${status} is not a tRPC answer (${err.message})`, err);
}

/** The status the API put in the error data, else the one the response came with, else 0. */
function httpStatusOf(data: unknown, response: unknown): number {
  const fromData = (data as { httpStatus?: unknown } | undefined)?.httpStatus;
  if (typeof fromData === 'number') return fromData;
  const fromResponse = (response as { status?: unknown } | undefined)?.status;
  return typeof fromResponse === 'number' ? fromResponse : 0;
}

/**
 * Makes every `.query()` and `.mutate()` reject with what the session link failed with (an ApiError, an
 * abort, a token store's own failure) instead of the TRPCClientError tRPC wraps it in.
 */
function withApiErrors<T extends object, Own extends object = object>(node: T, own?: Own): T & Own {
  return new Proxy(node, {
    get(target, key) {
      // The client's own methods (signOut), beside the router's namespaces at its root.
      if (own && Object.hasOwn(own, key)) return Reflect.get(own, key);
      const value: unknown = Reflect.get(target, key);
      if (typeof value !== 'function') return value;
      if (key === 'query' || key === 'mutate') {
        return (...args: unknown[]) =>
          (value as (...args: unknown[]) => Promise<unknown>)(...args).catch((err: unknown) => {
            throw err instanceof TRPCClientError && err.cause !== undefined ? err.cause : err;
          });
      }
      return withApiErrors(value);
    },
  }) as T & Own;
}
