import { type AuditEventType, AuditEventTypeSchema } from '@api-users/contract';

export type { AppRouter } from '@api-users/contract';
/** Where the API serves tRPC (`/trpc`) under a base URL. */
export { TRPC_PREFIX } from '@api-users/contract/wire';
export { registerPasskey, signInWithPasskey } from './passkeys.js';
export * from './rest.js';
export { createTrpcClient, type TrpcClient } from './trpc-client.js';
/** Every type of event the audit log records, for filters. */
export const auditEventTypes: readonly AuditEventType[] = AuditEventTypeSchema.options;
