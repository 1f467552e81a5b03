import {
  ADMIN,
  errorCodesOf,
  inputMessage,
  LoginSchema,
  type Operation,
  type OperationName,
  type OutputOf,
  operations,
  type TokenClaims,
} from '@api-users/contract';
import { isUnavailable } from '@api-users/db';
import type { FastifyBaseLogger } from 'fastify';
import type { Client, Context, Deps, Handler } from '../core/context.js';
import { AppError, refuse, validationError } from '../core/errors.js';
import { record } from '../modules/audit/audit.js';
import { authenticate, refreshCredential } from '../modules/auth/guard.js';
import { handlers } from '../modules/handlers.js';
import { challengeAccount } from '../modules/mfa/challenges.js';
import { assertMayAct } from '../modules/mfa/mfa.js';
import { accountReads } from '../modules/users/users.js';
import { describeError } from './errors.js';
import type { InFlight } from './in-flight.js';
import type { Metrics } from './metrics.js';
import { accountOf, type RateLimiter, RateLimitRefusal } from './rate-limit.js';

/** What running an operation needs besides the handlers' dependencies. */
export interface Runtime {
  deps: Deps;
  rateLimiter: RateLimiter;
  inFlight: InFlight;
  log: Pick<FastifyBaseLogger, 'warn'>;
  /** Counts each run when metrics are on. */
  metrics?: Metrics;
}

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
export function execute<K extends OperationName>(
  name: K,
  runtime: Runtime,
  request: OperationRequest,
): Promise<OutputOf<K>> {
  return runtime.inFlight.track(async () => {
    const started = performance.now();
    const count = (status: number, code: string | undefined, result?: unknown) =>
      runtime.metrics?.operation(name, (performance.now() - started) / 1000, status, code, result);
    try {
      const result = await run(name, runtime, request);
      count((operations[name] as Operation).status, undefined, result);
      return result;
    } catch (err) {
      if (err instanceof AppError && !declaredErrors.get(name)?.has(err.code)) {
        count(500, 'INTERNAL');
        throw new Error(`${name} answered ${err.code}, which the operation table does not declare`, { cause: err });
      }
      // Counted as it will be answered: describeError is the one mapping of errors to statuses and codes.
      const { status, body } = describeError(err);
      count(status, body.code);
      // Answered 503 as the client's retry, but an operator must see a database that stalls or is gone.
      if (isUnavailable(err)) {
        runtime.log.warn({ err, operation: name, requestId: request.requestId }, 'database unavailable: 503');
      }
      // A refused password attempt, like the others, is in the audit log: the first of a run, as RateLimitRefusal
      // says, naming the account under attack where there is one (never the login typed: people type passwords
      // into login fields).
      if (
        err instanceof RateLimitRefusal &&
        err.firstInWindow &&
        (operations[name] as Operation).rateLimit === 'password'
      ) {
        const { db, clock } = runtime.deps;
        const targetId = await targetOf(runtime.deps, request);
        await record(db, clock(), request, { type: 'login_failed', targetId, detail: 'rate_limited' });
      }
      throw err;
    }
  });
}

/**
 * Whom a password or code attempt counts against: the caller's account; a sign-in challenge's account and the
 * device its sign-in carried; or the login a sign-in names and the device of a valid device token for it.
 * Null for a challenge token that is no live challenge: it is refused before any code is checked.
 */
async function attemptOf(
  deps: Deps,
  input: unknown,
  caller: { userId: number } | null,
): Promise<{ account: string; device: string | undefined } | null> {
  if (caller) return { account: accountOf(caller), device: undefined };
  const { login, device_token, mfa_token } = (input ?? {}) as Record<string, unknown>;
  if (typeof mfa_token === 'string') {
    const challenge = await challengeAccount(deps.db, mfa_token, deps.clock());
    return challenge ? { account: accountOf(challenge), device: challenge.deviceId } : null;
  }
  if (typeof login !== 'string')
    throw new Error('A password-limited operation needs a caller, a login or an mfa_token');
  const device = typeof device_token === 'string' ? deps.devices.verify(login, device_token) : undefined;
  return { account: accountOf({ login }), device };
}

/** The account a refused password attempt was at: the caller's, or the one the login names; null for neither. */
async function targetOf(deps: Deps, request: OperationRequest): Promise<number | null> {
  const { login, mfa_token } = (request.input ?? {}) as Record<string, unknown>;
  if (typeof mfa_token === 'string') {
    return (await challengeAccount(deps.db, mfa_token, deps.clock()))?.userId ?? null;
  }
  if (typeof login !== 'string') {
    const caller = await authenticate(deps, request.authorization, 'optional').catch(() => null);
    return caller?.userId ?? null;
  }
  const folded = LoginSchema.safeParse(login);
  if (!folded.success) return null;
  const user = await deps.db.selectFrom('users').select('id_user').where('login', '=', folded.data).executeTakeFirst();
  return user?.id_user ?? null;
}

async function run<K extends OperationName>(
  name: K,
  { deps, rateLimiter }: Runtime,
  request: OperationRequest,
): Promise<OutputOf<K>> {
  const op: Operation = operations[name];
  if (op.rateLimit) await rateLimiter.attempt(name, request.ip);
  const readsAccount = accountReads[name] as ((input: unknown, claims: TokenClaims) => number) | undefined;
  // An operation that reads one account parses its input first, so that the guard's statement reads it too; a
  // refused token is still answered before a refused input, as everywhere.
  const parsedEarly = readsAccount && op.input.safeParse(request.input, { error: inputMessage });
  const readAlong =
    readsAccount && parsedEarly?.success ? (claims: TokenClaims) => readsAccount(parsedEarly.data, claims) : undefined;
  const caller =
    op.auth === 'refresh'
      ? await refreshCredential(deps, request.authorization)
      : await authenticate(deps, request.authorization, op.auth, readAlong);
  if (op.role === 'admin' && !(caller && 'role' in caller && caller.role === ADMIN)) throw refuse('adminsOnly');
  if (caller && 'claims' in caller) await assertMayAct(deps, caller, op);
  const input = parsedEarly ?? op.input.safeParse(request.input, { error: inputMessage });
  if (!input.success) throw validationError(input.error);
  if (op.rateLimit === 'email') await rateLimiter.mailTo(name, (input.data as { email: string }).email);
  const handler: Handler<K> = handlers[name];
  const { ip, userAgent, requestId } = request;
  // The guard returned a caller wherever the table asks for one; the schema of operation K parsed the input.
  const ctx = { ...deps, caller, client: { ip, userAgent, requestId } } as Context<K>;
  const handle = () => handler(ctx, input.data as Parameters<Handler<K>>[1]);
  const attempt =
    op.rateLimit === 'password'
      ? await attemptOf(deps, input.data, caller && 'userId' in caller ? caller : null)
      : null;
  const result = attempt
    ? await rateLimiter.guardPassword(name, attempt.account, request.ip, handle, attempt.device)
    : await handle();
  const output = op.output.safeParse(result);
  if (!output.success) throw new Error(`${name}: handler output does not match the contract`, { cause: output.error });
  return output.data as OutputOf<K>;
}
