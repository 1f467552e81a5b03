import { describe, expectTypeOf, it } from 'vitest';
import {
  type ApiError,
  createClient,
  createTrpcClient,
  type ErrorCode,
  isMfaRequired,
  type OutputOf,
  type RestClient,
  type SignIn,
  type User,
} from '../src/index.js';

// Checked by `tsc` (pnpm typecheck); at run time these only build clients and send nothing.
describe('types from the contract', () => {
  const rest = createClient({ baseUrl: 'http://127.0.0.1:1' });
  const trpc = createTrpcClient({ baseUrl: 'http://127.0.0.1:1' });

  it('gives the REST client one method per operation, grouped by router', () => {
    expectTypeOf<keyof RestClient>().toEqualTypeOf<'auth' | 'users' | 'me' | 'audit' | 'webhooks' | 'signOut'>();
    expectTypeOf(rest.signOut).returns.resolves.toBeVoid();
    expectTypeOf(trpc.signOut).returns.resolves.toBeVoid();
    // A page's next_cursor goes back in as it came (null on the first page too).
    expectTypeOf<{ cursor: string | null }>().toExtend<NonNullable<Parameters<typeof rest.users.list>[0]>>();
    expectTypeOf<keyof RestClient['me']>().toEqualTypeOf<
      | 'get'
      | 'update'
      | 'deleteAccount'
      | 'changePassword'
      | 'email'
      | 'changeEmail'
      | 'mfa'
      | 'startTotp'
      | 'confirmTotp'
      | 'disableMfa'
      | 'regenerateRecoveryCodes'
      | 'passkeys'
      | 'startPasskeyRegistration'
      | 'addPasskey'
      | 'renamePasskey'
      | 'removePasskey'
      | 'sessions'
      | 'endSession'
      | 'endOtherSessions'
    >();
    expectTypeOf<keyof RestClient['auth']>().toEqualTypeOf<
      | 'register'
      | 'login'
      | 'loginMfa'
      | 'startPasskeySignIn'
      | 'loginPasskey'
      | 'refresh'
      | 'revokeAccessToken'
      | 'logoutRefresh'
      | 'verifyEmail'
      | 'forgotPassword'
      | 'resetPassword'
      | 'introspect'
      | 'setup'
    >();
    expectTypeOf<keyof RestClient['users']>().toEqualTypeOf<
      | 'list'
      | 'byId'
      | 'update'
      | 'remove'
      | 'setPassword'
      | 'lockout'
      | 'liftLockout'
      | 'removeMfa'
      | 'sessions'
      | 'endSessions'
      | 'endSession'
    >();
    expectTypeOf<keyof RestClient['audit']>().toEqualTypeOf<'list'>();
    expectTypeOf<keyof RestClient['webhooks']>().toEqualTypeOf<
      'create' | 'list' | 'update' | 'rotateSecret' | 'test' | 'redeliver' | 'remove' | 'deliveries'
    >();
    expectTypeOf(rest.users.list).returns.resolves.toEqualTypeOf<OutputOf<'listUsers'>>();
    expectTypeOf(rest.users.byId).returns.resolves.toEqualTypeOf<User>();
    expectTypeOf(rest.me.update).parameter(0).toEqualTypeOf<{ user_name: string }>();
    expectTypeOf(rest.me.update).returns.resolves.toEqualTypeOf<User>();
    // The device token is the SDK's to send (kept from the last sign-in); a caller may give one.
    expectTypeOf(rest.auth.login)
      .parameter(0)
      .toEqualTypeOf<{ login: string; password: string; device_token?: string | undefined }>();
    expectTypeOf(rest.auth.refresh).returns.resolves.toHaveProperty('refresh_token').toBeString();
    // Never called: only its type errors matter.
    const wrongInputs = () => [
      // @ts-expect-error login needs a password
      rest.auth.login({ login: 'someone' }),
      // @ts-expect-error byId needs an id
      rest.users.byId(),
      // @ts-expect-error ids are numbers (or their decimal strings), not booleans
      rest.users.byId({ id: true }),
    ];
    expectTypeOf(wrongInputs).toBeFunction();
  });

  it('types the tRPC client from AppRouter', () => {
    expectTypeOf(trpc.users.list.query).returns.resolves.toEqualTypeOf<OutputOf<'listUsers'>>();
    // A sign-in answers the pair, or a second factor's challenge the app branches on.
    expectTypeOf(trpc.auth.login.mutate).returns.resolves.toExtend<SignIn>();
    expectTypeOf(rest.auth.login).returns.resolves.toExtend<SignIn>();
    expectTypeOf(trpc.auth.loginMfa.mutate).returns.resolves.toHaveProperty('access_token').toBeString();
    const branch = async () => {
      const signIn = await rest.auth.login({ login: 'someone', password: 'a password' });
      return isMfaRequired(signIn) ? signIn.mfa_token : signIn.access_token;
    };
    expectTypeOf(branch).returns.resolves.toBeString();
    // @ts-expect-error users.list is a query, not a mutation
    expectTypeOf(trpc.users.list.mutate).toBeFunction();
  });

  it('types ApiError codes as the contract’s plus the client’s own', () => {
    expectTypeOf<ApiError['code']>().toEqualTypeOf<ErrorCode | 'NETWORK_ERROR' | 'INVALID_RESPONSE'>();
  });
});
