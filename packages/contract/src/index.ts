export * from './errors.js';
export * from './messages.js';
export * from './operations.js';
export * from './schemas.js';
export type { AppRouter, TrpcErrorData, TrpcErrorShape } from './trpc.js';
export * from './wire.js';
