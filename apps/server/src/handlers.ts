import {
  ADMIN,
  errorCodesOf,
  type Operation,
  type OperationName,
  type Operations,
  type OutputOf,
  operations,
  type ParsedInputOf,
} from '@api-users/contract';
import type { Deps } from './deps.js';
import { AppError, validationError } from './errors.js';
import { login, logout, logoutRefresh, refresh, register } from './modules/auth/auth.js';
import { authenticate, type Caller } from './modules/auth/guard.js';
import { introspect } from './modules/auth/introspect.js';
import { listUsers, userById } from './modules/users/users.js';
import { accountOf } from './rate-limit.js';

/** Operations that take a token always get a caller; the others may get one (`optional`) or none. */
type CallerFor<K extends OperationName> = Operations[K]['auth'] extends 'access' | 'refresh' ? Caller : Caller | null;

type Handlers = {
  [K in OperationName]: (deps: Deps, input: ParsedInputOf<K>, caller: CallerFor<K>) => Promise<OutputOf<K>>;
};

/** One handler per operation of the contract. */
const handlers: Handlers = {
  register: (deps, input, caller) => register(deps, input, caller),
  login: (deps, input) => login(deps, input),
  refresh: (deps, _input, caller) => refresh(deps, caller),
  logout: (deps, _input, caller) => logout(deps, caller),
  logoutRefresh: (deps, _input, caller) => logoutRefresh(deps, caller),
  introspect: (deps, input) => introspect(deps, input),
  listUsers: (deps, input) => listUsers(deps, input),
  userById: (deps, input) => userById(deps, input),
};

/** Each operation's error codes, looked up on every error answer. */
const declaredErrors = new Map(
  Object.entries(operations).map(([name, op]) => [name, new Set(errorCodesOf(op as Operation))]),
);

export interface OperationRequest {
  /** The `Authorization` header as sent. */
  authorization: string | undefined;
  /** The input before validation: a JSON body, or query and path parameters. */
  input: unknown;
  /** The client's address, as Fastify resolved it (TRUST_PROXY decides whether X-Forwarded-For counts). */
  ip: string;
}

/**
 * Runs one operation the same way for every transport: the per-address rate limit, the token (so an
 * anonymous caller learns nothing about the input rules), the role, input validation, the handler (under
 * the password-failure limits where the table says `password`), and the output schema, which strips
 * anything not in the contract before it can reach the wire. An error the table does not declare for the
 * operation is a bug, answered as one.
 */
export function execute<K extends OperationName>(name: K, deps: Deps, request: OperationRequest): Promise<OutputOf<K>> {
  return deps.inFlight.track(async () => {
    try {
      return await run(name, deps, request);
    } catch (err) {
      if (err instanceof AppError && !declaredErrors.get(name)?.has(err.code)) {
        throw new Error(`${name} answered ${err.code}, which the operation table does not declare`, { cause: err });
      }
      throw err;
    }
  });
}

async function run<K extends OperationName>(name: K, deps: Deps, request: OperationRequest): Promise<OutputOf<K>> {
  const op: Operation = operations[name];
  if (op.rateLimit) await deps.rateLimiter.attempt(name, request.ip);
  const caller = await authenticate(deps, request.authorization, op.auth);
  if (op.role === 'admin' && caller?.role !== ADMIN) {
    throw new AppError('FORBIDDEN', 'This operation is for admins');
  }
  const input = op.input.safeParse(request.input);
  if (!input.success) throw validationError(input.error);
  const handler: Handlers[K] = handlers[name];
  // The schema of operation K parsed the input, and the guard returned a caller wherever the table asks for one.
  const handle = () => handler(deps, input.data as ParsedInputOf<K>, caller as CallerFor<K>);
  const result =
    op.rateLimit === 'password'
      ? await deps.rateLimiter.guardPassword(name, accountOf(input.data, caller), request.ip, handle)
      : await handle();
  const output = op.output.safeParse(result);
  if (!output.success) throw new Error(`${name}: handler output does not match the contract`, { cause: output.error });
  return output.data as OutputOf<K>;
}
