import type { TRPCBuiltRouter, TRPCErrorShape, TRPCMutationProcedure, TRPCQueryProcedure } from '@trpc/server';
import type { ErrorBody } from './errors.js';
import type { InputOf, OperationName, Operations, OutputOf } from './operations.js';

/** What a tRPC error carries in `data`: the REST error body plus the HTTP status. */
export type TrpcErrorData = ErrorBody & { httpStatus: number };
export type TrpcErrorShape = TRPCErrorShape<TrpcErrorData>;

type ProcedureOf<K extends OperationName> = Operations[K]['method'] extends 'GET'
  ? TRPCQueryProcedure<{ input: InputOf<K>; output: OutputOf<K>; meta: object; errorShape: TrpcErrorShape }>
  : TRPCMutationProcedure<{ input: InputOf<K>; output: OutputOf<K>; meta: object; errorShape: TrpcErrorShape }>;

type Namespace = Operations[OperationName]['router'];
type ProceduresOf<N extends Namespace> = {
  [K in OperationName as Operations[K]['router'] extends N ? Operations[K]['procedure'] : never]: ProcedureOf<K>;
};

/**
 * The tRPC router's type, derived from the operation table alone, so clients need not see the server.
 * The server builds its router from the same table; the tRPC client tests call every procedure through it.
 */
export type AppRouter = TRPCBuiltRouter<
  { ctx: object; meta: object; errorShape: TrpcErrorShape; transformer: false },
  { [N in Namespace]: ProceduresOf<N> }
>;
