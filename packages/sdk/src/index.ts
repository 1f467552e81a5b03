import { type AuditEventType, AuditEventTypeSchema } from '@api-users/contract';

export type {
  AppRouter,
  AuditEvent,
  AuditEventType,
  ErrorCode,
  InputOf,
  Issue,
  MfaRequired,
  OperationName,
  OutputOf,
  Passkey,
  Session,
  SignIn,
  TokenPair,
  User,
  UserRole,
} from '@api-users/contract';
/** Whether a sign-in (`auth.login`) asks for a second factor: then finish it with `auth.loginMfa`. */
/** Where the API serves REST (`/api/v1`) and tRPC (`/trpc`) under a base URL. */
export { isMfaRequired, REST_PREFIX, TRPC_PREFIX } from '@api-users/contract';
export type { ClientOptions } from './client-options.js';
export { ApiError, type ClientErrorCode } from './errors.js';
export type { Fetch } from './fetch.js';
export { registerPasskey, signInWithPasskey } from './passkeys.js';
export { createClient, type RestClient } from './rest-client.js';
export {
  type DeviceStore,
  memoryDeviceStore,
  memoryTokenStore,
  type TokenStore,
  type Tokens,
} from './token-store.js';
export { createTrpcClient, type TrpcClient } from './trpc-client.js';
/** Every type of event the audit log records, for filters. */
export const auditEventTypes: readonly AuditEventType[] = AuditEventTypeSchema.options;
