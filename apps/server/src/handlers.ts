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
import type { Client } from './client.js';
import type { Deps } from './deps.js';
import { AppError, validationError } from './errors.js';
import { listAudit, record } from './modules/audit/audit.js';
import { changePassword, login, logout, logoutRefresh, refresh, register } from './modules/auth/auth.js';
import { authenticate, type Caller } from './modules/auth/guard.js';
import { introspect } from './modules/auth/introspect.js';
import {
  endMyOtherSessions,
  endMySession,
  endUserSession,
  endUserSessions,
  listMySessions,
  listUserSessions,
} from './modules/sessions/sessions.js';
import { deleteUser, setUserPassword, updateUser } from './modules/users/manage.js';
import { listUsers, me, setup, userById } from './modules/users/users.js';
import { accountOf, RateLimitRefusal } from './rate-limit.js';

/** Operations that take a token always get a caller; the others may get one (`optional`) or none. */
type CallerFor<K extends OperationName> = Operations[K]['auth'] extends 'access' | 'refresh' ? Caller : Caller | null;

/** What a handler knows of the request besides its input: who sent it, and from where. */
interface Context<K extends OperationName> {
  caller: CallerFor<K>;
  client: Client;
}

type Handlers = {
  [K in OperationName]: (deps: Deps, input: ParsedInputOf<K>, context: Context<K>) => Promise<OutputOf<K>>;
};

/** One handler per operation of the contract. */
const handlers: Handlers = {
  register: (deps, input, { caller, client }) => register(deps, input, caller, client),
  login: (deps, input, { client }) => login(deps, input, client),
  refresh: (deps, _input, { caller, client }) => refresh(deps, caller, client),
  logout: (deps, _input, { caller, client }) => logout(deps, caller, client),
  logoutRefresh: (deps, _input, { caller, client }) => logoutRefresh(deps, caller, client),
  introspect: (deps, input) => introspect(deps, input),
  listUsers: (deps, input, { caller }) => listUsers(deps, input, caller),
  userById: (deps, input, { caller }) => userById(deps, input, caller),
  getMe: (deps, _input, { caller }) => me(deps, caller),
  changePassword: (deps, input, { caller, client }) => changePassword(deps, input, caller, client),
  listMySessions: (deps, input, { caller }) => listMySessions(deps, caller, input),
  endMySession: (deps, input, { caller, client }) => endMySession(deps, caller, client, input),
  endMyOtherSessions: (deps, _input, { caller, client }) => endMyOtherSessions(deps, caller, client),
  updateUser: (deps, input, { caller, client }) => updateUser(deps, input, caller, client),
  deleteUser: (deps, input, { caller, client }) => deleteUser(deps, input, caller, client),
  setUserPassword: (deps, input, { caller, client }) => setUserPassword(deps, input, caller, client),
  listUserSessions: (deps, input, { caller }) => listUserSessions(deps, caller, input),
  endUserSessions: (deps, input, { caller, client }) => endUserSessions(deps, caller, client, input),
  endUserSession: (deps, input, { caller, client }) => endUserSession(deps, caller, client, input),
  listAudit: (deps, input) => listAudit(deps, input),
  setup: (deps) => setup(deps),
};

/** Each operation's error codes, looked up on every error answer. */
const declaredErrors = new Map(
  Object.entries(operations).map(([name, op]) => [name, new Set(errorCodesOf(op as Operation))]),
);

export interface OperationRequest extends Client {
  /** The `Authorization` header as sent. */
  authorization: string | undefined;
  /** The input before validation: a JSON body, or query and path parameters. */
  input: unknown;
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
      const op: Operation = operations[name];
      // A refused password attempt, like the others, is in the audit log (without the login it named): the
      // first of a run, as RateLimitRefusal says.
      if (err instanceof RateLimitRefusal && err.firstInWindow && op.rateLimit === 'password') {
        await record(deps.db, deps.clock(), request, { type: 'login_failed', detail: 'rate_limited' });
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
  const { ip, userAgent, requestId } = request;
  // The schema of operation K parsed the input, and the guard returned a caller wherever the table asks for one.
  const context = { caller: caller as CallerFor<K>, client: { ip, userAgent, requestId } };
  const handle = () => handler(deps, input.data as ParsedInputOf<K>, context);
  const result =
    op.rateLimit === 'password'
      ? await deps.rateLimiter.guardPassword(name, accountOf(input.data, caller), request.ip, handle)
      : await handle();
  const output = op.output.safeParse(result);
  if (!output.success) throw new Error(`${name}: handler output does not match the contract`, { cause: output.error });
  return output.data as OutputOf<K>;
}
