import { ADMIN, type OutputOf, type ParsedInputOf, type TokenPair, USER, type User } from '@api-users/contract';
import { inTransaction, isUniqueViolation } from '@api-users/db';
import type { Client } from '../../client.js';
import type { Deps } from '../../deps.js';
import { AppError } from '../../errors.js';
import { type AuditRecord, record } from '../audit/audit.js';
import { endSession, endSessionsOf, rotateSession, startSession } from '../sessions/sessions.js';
import { insertUser, newUserRow } from '../users/create.js';
import { roleOf, toUser } from '../users/users.js';
import type { Caller } from './guard.js';
import { assertAcceptablePassword } from './password-policy.js';

const loginTaken = () => new AppError('LOGIN_TAKEN', 'That login is already taken');
const badCredentials = () => new AppError('BAD_CREDENTIALS', 'Wrong login or password');

/**
 * A wrong password, wherever one is checked: an audit event, no answer before the failed-login floor (begun at
 * `started`), and the same error, so the answer says nothing about the account.
 */
async function refusePassword(
  deps: Deps,
  started: number,
  now: number,
  client: Client,
  event: Omit<AuditRecord, 'type'>,
): Promise<never> {
  await record(deps.db, now, client, { type: 'login_failed', ...event });
  await deps.failedLogins.wait(started);
  throw badCredentials();
}

/**
 * Anyone may create a user; only an admin may create an admin, except that the very first account of an
 * empty database may make itself admin (claimed through a one-row table so two racing first accounts
 * cannot both win).
 */
export async function register(
  deps: Deps,
  input: ParsedInputOf<'register'>,
  caller: Caller | null,
  client: Client,
): Promise<User> {
  assertAcceptablePassword(input.password);
  const role = input.user_role ?? USER;
  const exists = await deps.db
    .selectFrom('users')
    .select('id_user')
    .where('login', '=', input.login)
    .executeTakeFirst();
  if (exists) throw loginTaken();
  const bootstrap = role === ADMIN && caller?.role !== ADMIN;
  const now = deps.clock();
  const row = await newUserRow(deps.passwords, { ...input, user_role: role }, now);
  try {
    const id = await inTransaction(deps.db, async (trx) => {
      if (bootstrap) {
        const anyone = await trx.selectFrom('users').select('id_user').limit(1).executeTakeFirst();
        if (anyone) throw new AppError('FORBIDDEN', 'Only an admin can create an admin account');
        await trx.insertInto('admin_bootstrap').values({ id: 1 }).execute();
      }
      const id = await insertUser(trx, row);
      await record(trx, now, client, { type: 'register', actorId: caller?.userId ?? id, targetId: id });
      return id;
    });
    return toUser({ ...row, id_user: id, disabled: 0 });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    throw bootstrap ? new AppError('FORBIDDEN', 'Only an admin can create an admin account') : loginTaken();
  }
}

/**
 * Unknown login and wrong password take the same path (a dummy verify, one audit event) and give the same
 * answer, no sooner than the failed-login floor (which covers legacy hashes). A disabled account is said to
 * be one only after its correct password. A legacy hash that matches becomes argon2id here.
 */
export async function login(deps: Deps, input: ParsedInputOf<'login'>, client: Client): Promise<TokenPair> {
  const started = performance.now();
  const user = await deps.db
    .selectFrom('users')
    .select(['id_user', 'user_role', 'password_hash', 'disabled'])
    .where('login', '=', input.login)
    .executeTakeFirst();
  const ok = await deps.passwords.verify(user?.password_hash ?? null, input.password);
  const now = deps.clock();
  if (!user || !ok) {
    const detail = user ? 'bad_password' : 'unknown_login';
    return refusePassword(deps, started, now, client, { targetId: user?.id_user ?? null, detail });
  }
  if (user.disabled) {
    await record(deps.db, now, client, { type: 'login_failed', targetId: user.id_user, detail: 'disabled' });
    throw new AppError('ACCOUNT_DISABLED', 'This account is disabled; an admin can enable it');
  }
  if (deps.passwords.needsRehash(user.password_hash)) {
    const password_hash = await deps.passwords.hash(input.password);
    await deps.db.updateTable('users').set({ password_hash }).where('id_user', '=', user.id_user).execute();
  }
  const session = await inTransaction(deps.db, async (trx) => {
    const opened = await startSession(trx, deps.config, user.id_user, client, now);
    await record(trx, now, client, {
      type: 'login',
      actorId: user.id_user,
      targetId: user.id_user,
      sessionId: opened.sid,
    });
    return opened;
  });
  return deps.tokens.issuePair({ userId: user.id_user, role: roleOf(user.user_role), ...session }, now);
}

/**
 * Rotation: the session row names the one refresh token that may be spent, and the swap is a single
 * conditional UPDATE, so of two concurrent refreshes exactly one wins. A token that no longer matches is
 * a replay (RFC 9700 reuse detection): the whole session is ended. The new pair carries the role the
 * database holds now, and nothing is issued for a user that no longer exists or is disabled, or a session
 * older than SESSION_MAX_AGE, however often it was rotated.
 */
export async function refresh(deps: Deps, caller: Caller, client: Client): Promise<TokenPair> {
  const { sid, jti } = caller.claims;
  const now = deps.clock();
  const session = await deps.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id_user', 'sessions.user_id')
    .select(['sessions.created_at', 'users.user_role', 'users.disabled'])
    .where('sessions.sid', '=', sid)
    .where('sessions.user_id', '=', caller.userId)
    .executeTakeFirst();
  if (!session) throw new AppError('TOKEN_REVOKED', 'The session has ended');
  if (session.disabled) {
    await endSession(deps.db, sid, now);
    throw new AppError('TOKEN_REVOKED', 'The account is disabled; the session has ended');
  }
  if (Number(session.created_at) <= now - deps.config.sessionMaxAgeSeconds * 1000) {
    await endSession(deps.db, sid, now);
    throw new AppError('TOKEN_EXPIRED', 'The session has reached its maximum age; sign in again');
  }
  const event = { actorId: caller.userId, targetId: caller.userId, sessionId: sid };
  const refreshJti = await inTransaction(deps.db, async (trx) => {
    const rotated = await rotateSession(trx, deps.config, sid, client, now, jti);
    if (rotated !== null) await record(trx, now, client, { type: 'refresh', ...event });
    return rotated;
  });
  if (refreshJti !== null) {
    return deps.tokens.issuePair({ userId: caller.userId, role: roleOf(session.user_role), sid, refreshJti }, now);
  }
  const ended = await inTransaction(deps.db, async (trx) => {
    if (!(await endSession(trx, sid, now))) return false;
    await record(trx, now, client, { type: 'refresh_reused', ...event });
    return true;
  });
  throw new AppError(
    'TOKEN_REVOKED',
    ended ? 'This refresh token was already used; the session has been ended' : 'The session has ended',
  );
}

export async function logout(deps: Deps, caller: Caller, client: Client): Promise<OutputOf<'logout'>> {
  const { jti, exp, sid } = caller.claims;
  const now = deps.clock();
  try {
    await inTransaction(deps.db, async (trx) => {
      await trx
        .insertInto('revoked_tokens')
        .values({ jti, expires_at: exp * 1000 })
        .execute();
      await record(trx, now, client, {
        type: 'logout',
        actorId: caller.userId,
        targetId: caller.userId,
        sessionId: sid,
      });
    });
  } catch (err) {
    // Two concurrent logouts with one token: the second finds it revoked already, which is what it asked for.
    if (!isUniqueViolation(err)) throw err;
  }
  return { msg: 'Access token revoked' };
}

/** Ends the refresh token's session: its refresh token and every access token issued in it stop working. */
export async function logoutRefresh(deps: Deps, caller: Caller, client: Client): Promise<OutputOf<'logoutRefresh'>> {
  const { sid } = caller.claims;
  const now = deps.clock();
  const ended = await inTransaction(deps.db, async (trx) => {
    if (!(await endSession(trx, sid, now))) return false;
    await record(trx, now, client, {
      type: 'logout2',
      actorId: caller.userId,
      targetId: caller.userId,
      sessionId: sid,
    });
    return true;
  });
  if (!ended) throw new AppError('TOKEN_REVOKED', 'The session has ended');
  return { msg: 'Refresh token revoked' };
}

/**
 * The current password is checked as at sign-in (same verify, same answer for a wrong one); the new one must
 * pass the password rules. Every session ends, the caller's too, so no token issued before the change works
 * (a thief's copy included), and the answer is the pair of a new session, as at sign-in: all in one
 * transaction with the audit event.
 */
export async function changePassword(
  deps: Deps,
  input: ParsedInputOf<'changePassword'>,
  caller: Caller,
  client: Client,
): Promise<TokenPair> {
  assertAcceptablePassword(input.new_password, 'new_password');
  const started = performance.now();
  const user = await deps.db
    .selectFrom('users')
    .select(['password_hash', 'user_role'])
    .where('id_user', '=', caller.userId)
    .executeTakeFirst();
  const ok = await deps.passwords.verify(user?.password_hash ?? null, input.current_password);
  const now = deps.clock();
  const self = { actorId: caller.userId, targetId: caller.userId };
  if (!user || !ok) return refusePassword(deps, started, now, client, { ...self, detail: 'bad_password' });
  const password_hash = await deps.passwords.hash(input.new_password);
  const session = await inTransaction(deps.db, async (trx) => {
    if (!(await endSession(trx, caller.claims.sid, now, caller.userId))) {
      throw new AppError('TOKEN_REVOKED', 'The session has ended');
    }
    await trx.updateTable('users').set({ password_hash }).where('id_user', '=', caller.userId).execute();
    await endSessionsOf(trx, caller.userId, now);
    const opened = await startSession(trx, deps.config, caller.userId, client, now);
    await record(trx, now, client, { type: 'password_changed', ...self, sessionId: opened.sid });
    return opened;
  });
  return deps.tokens.issuePair({ userId: caller.userId, role: roleOf(user.user_role), ...session }, now);
}
