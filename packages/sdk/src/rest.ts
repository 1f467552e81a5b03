/**
 * `@api-users/sdk/rest`: the REST client alone, for a browser app that wants to stay small. It ships without
 * zod and tRPC: the contract's schemas stay on the server, and this entry needs only the operation table's
 * routes. Everything here is exported by `@api-users/sdk` too.
 */
export type {
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
/** Where the API serves REST (`/api/v1`) under a base URL. */
export { isMfaRequired, REST_PREFIX } from '@api-users/contract/wire';
export type { ClientOptions } from './client-options.js';
export { ApiError, type ClientErrorCode } from './errors.js';
export type { Fetch } from './fetch.js';
export { createClient, type RestClient } from './rest-client.js';
export {
  type DeviceStore,
  memoryDeviceStore,
  memoryTokenStore,
  type TokenStore,
  type Tokens,
} from './token-store.js';
