/**
 * `@api-users/sdk/server`: for services that receive our access tokens. Server-only (it verifies with the
 * published keys); the browser entry `@api-users/sdk` imports nothing from here.
 */
export type { Introspection, TokenClaims } from '@api-users/contract';
export { ApiError, type ClientErrorCode } from './errors.js';
export type { Fetch } from './fetch.js';
export { createIntrospector, type IntrospectorOptions } from './introspect.js';
export {
  type AccessTokenClaims,
  createTokenVerifier,
  type TokenVerifier,
  type TokenVerifierOptions,
} from './token-verifier.js';
export { verifyWebhook, type WebhookEvent } from './webhooks.js';
