import type { ErrorCodeOf } from '@api-users/contract';
import { describe, expectTypeOf, it } from 'vitest';
import type { paths } from './clients/openapi-schema.gen.js';

type ErrorCodeAt<P extends keyof paths, M extends 'get' | 'post' | 'delete', S extends number> = paths[P][M] extends {
  responses: Record<S, { content: { 'application/json': { code: infer C } } }>;
}
  ? C
  : never;

describe('error codes typed from the operation table', () => {
  it('gives each operation exactly the codes it can answer with', () => {
    expectTypeOf<Extract<ErrorCodeOf<'register'>, 'LOGIN_TAKEN' | 'FORBIDDEN' | 'NOT_FOUND'>>().toEqualTypeOf<
      'LOGIN_TAKEN' | 'FORBIDDEN'
    >();
    expectTypeOf<
      Extract<ErrorCodeOf<'userById'>, 'NOT_FOUND' | 'RATE_LIMITED' | 'PAYLOAD_TOO_LARGE'>
    >().toEqualTypeOf<'NOT_FOUND'>();
    expectTypeOf<Extract<ErrorCodeOf<'login'>, 'AUTH_REQUIRED' | 'BAD_CREDENTIALS' | 'RATE_LIMITED'>>().toEqualTypeOf<
      'BAD_CREDENTIALS' | 'RATE_LIMITED'
    >();
  });

  it('lets a client generated from the OpenAPI document narrow the code by status', () => {
    expectTypeOf<ErrorCodeAt<'/register', 'post', 409>>().toEqualTypeOf<'LOGIN_TAKEN'>();
    expectTypeOf<ErrorCodeAt<'/register', 'post', 403>>().toEqualTypeOf<'FORBIDDEN' | 'MFA_ENROLMENT_REQUIRED'>();
    expectTypeOf<ErrorCodeAt<'/login', 'post', 401>>().toEqualTypeOf<'BAD_CREDENTIALS'>();
    expectTypeOf<ErrorCodeAt<'/users/{id}', 'get', 401>>().toEqualTypeOf<
      'AUTH_REQUIRED' | 'INVALID_TOKEN' | 'TOKEN_EXPIRED' | 'TOKEN_REVOKED' | 'WRONG_TOKEN_TYPE'
    >();
    expectTypeOf<ErrorCodeAt<'/users/{id}', 'get', 503>>().toEqualTypeOf<'DB_UNAVAILABLE' | 'SHUTTING_DOWN'>();
  });
});
