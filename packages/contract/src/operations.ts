import type { z } from 'zod';
import {
  IntrospectInputSchema,
  IntrospectionSchema,
  ListUsersInputSchema,
  LoginInputSchema,
  MessageSchema,
  NoInputSchema,
  RegisterInputSchema,
  TokenPairSchema,
  UserByIdInputSchema,
  UserPageSchema,
  UserSchema,
} from './schemas.js';

/**
 * Which token an operation takes from `Authorization: Bearer …`.
 * `optional`: none needed, but one that is sent must be a valid access token (register uses it to let an
 * admin create admins).
 */
export type AuthKind = 'none' | 'optional' | 'access' | 'refresh';

export interface Operation {
  /** tRPC namespace and procedure: `auth.register` */
  router: 'auth' | 'users';
  procedure: string;
  method: 'GET' | 'POST' | 'DELETE';
  /** REST path under /api/v1; `:name` segments are read into the input. */
  path: `/${string}`;
  auth: AuthKind;
  summary: string;
  input: z.ZodType;
  output: z.ZodType;
  status: 200 | 201;
  /** Attempts are counted per client address (and per login, where the input has one): 429 past the limit. */
  rateLimited?: true;
}

/** The one table every transport, the OpenAPI document and the SDK are generated from. */
export const operations = {
  register: {
    router: 'auth',
    procedure: 'register',
    method: 'POST',
    path: '/register',
    auth: 'optional',
    summary: 'Create an account. Only an admin (or the first account of an empty database) may create an admin.',
    input: RegisterInputSchema,
    output: UserSchema,
    status: 201,
    rateLimited: true,
  },
  login: {
    router: 'auth',
    procedure: 'login',
    method: 'POST',
    path: '/login',
    auth: 'none',
    summary: 'Exchange login and password for an access and a refresh token.',
    input: LoginInputSchema,
    output: TokenPairSchema,
    status: 200,
    rateLimited: true,
  },
  refresh: {
    router: 'auth',
    procedure: 'refresh',
    method: 'POST',
    path: '/refresh',
    auth: 'refresh',
    summary:
      'Exchange a refresh token for a new pair. The refresh token sent is spent; sending it again ends the session.',
    input: NoInputSchema,
    output: TokenPairSchema,
    status: 200,
    rateLimited: true,
  },
  logout: {
    router: 'auth',
    procedure: 'logout',
    method: 'DELETE',
    path: '/logout',
    auth: 'access',
    summary: 'Revoke the access token sent.',
    input: NoInputSchema,
    output: MessageSchema,
    status: 200,
  },
  logoutRefresh: {
    router: 'auth',
    procedure: 'logoutRefresh',
    method: 'DELETE',
    path: '/logout2',
    auth: 'refresh',
    summary: 'Revoke the refresh token sent, ending its session (its access tokens stop working too).',
    input: NoInputSchema,
    output: MessageSchema,
    status: 200,
  },
  introspect: {
    router: 'auth',
    procedure: 'introspect',
    method: 'POST',
    path: '/introspect',
    auth: 'none',
    summary:
      'RFC 7662 introspection: the claims of a live access token, else only active: false (revoked, expired, ' +
      'ended session, a refresh token, not ours). No credential but the token asked about.',
    input: IntrospectInputSchema,
    output: IntrospectionSchema,
    status: 200,
  },
  listUsers: {
    router: 'users',
    procedure: 'list',
    method: 'GET',
    path: '/users',
    auth: 'access',
    summary: 'List accounts in id order, a page at a time (keyset pagination).',
    input: ListUsersInputSchema,
    output: UserPageSchema,
    status: 200,
  },
  userById: {
    router: 'users',
    procedure: 'byId',
    method: 'GET',
    path: '/users/:id',
    auth: 'access',
    summary: 'One account by its id.',
    input: UserByIdInputSchema,
    output: UserSchema,
    status: 200,
  },
} as const satisfies Record<string, Operation>;

export type Operations = typeof operations;
export type OperationName = keyof Operations;
export type InputOf<K extends OperationName> = z.input<Operations[K]['input']>;
export type ParsedInputOf<K extends OperationName> = z.output<Operations[K]['input']>;
export type OutputOf<K extends OperationName> = z.output<Operations[K]['output']>;

export const operationNames = Object.keys(operations) as OperationName[];
