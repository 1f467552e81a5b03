import { randomUUID } from 'node:crypto';
import { ADMIN, type OutputOf, type ParsedInputOf, type TokenPair, USER, type User } from '@api-users/contract';
import { isUniqueViolation } from '@api-users/db';
import type { Deps } from '../../deps.js';
import { AppError } from '../../errors.js';
import { roleOf, toUser } from '../users/users.js';
import type { Caller } from './guard.js';
import { assertAcceptablePassword } from './password-policy.js';

const loginTaken = () => new AppError('LOGIN_TAKEN', 'That login is already taken');
const badCredentials = () => new AppError('BAD_CREDENTIALS', 'Wrong login or password');

/**
 * Anyone may create a user; only an admin may create an admin, except that the very first account of an
 * empty database may make itself admin (claimed through a one-row table so two racing first accounts
 * cannot both win).
 */
export async function register(deps: Deps, input: ParsedInputOf<'register'>, caller: Caller | null): Promise<User> {
  assertAcceptablePassword(input.password);
  const role = input.user_role ?? USER;
  const exists = await deps.db
    .selectFrom('users')
    .select('id_user')
    .where('login', '=', input.login)
    .executeTakeFirst();
  if (exists) throw loginTaken();
  const bootstrap = role === ADMIN && caller?.role !== ADMIN;
  const row = {
    user_name: input.user_name,
    login: input.login,
    password_hash: await deps.passwords.hash(input.password),
    user_role: role,
    created_at: deps.clock(),
  };
  try {
    const id = await deps.db.transaction().execute(async (trx) => {
      if (bootstrap) {
        const anyone = await trx.selectFrom('users').select('id_user').limit(1).executeTakeFirst();
        if (anyone) throw new AppError('FORBIDDEN', 'Only an admin can create an admin account');
        await trx.insertInto('admin_bootstrap').values({ id: 1 }).execute();
      }
      const result = await trx.insertInto('users').values(row).executeTakeFirstOrThrow();
      return Number(result.insertId);
    });
    return toUser({ ...row, id_user: id });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    throw bootstrap ? new AppError('FORBIDDEN', 'Only an admin can create an admin account') : loginTaken();
  }
}

/**
 * Unknown login and wrong password take the same path (a dummy verify) and give the same answer, no sooner
 * than the failed-login floor (which covers legacy hashes). A legacy hash that matches becomes argon2id here.
 */
export async function login(deps: Deps, input: ParsedInputOf<'login'>): Promise<TokenPair> {
  const started = performance.now();
  const user = await deps.db
    .selectFrom('users')
    .select(['id_user', 'user_role', 'password_hash'])
    .where('login', '=', input.login)
    .executeTakeFirst();
  const ok = await deps.passwords.verify(user?.password_hash ?? null, input.password);
  if (!user || !ok) {
    await deps.failedLogins.wait(started);
    throw badCredentials();
  }
  if (deps.passwords.needsRehash(user.password_hash)) {
    const password_hash = await deps.passwords.hash(input.password);
    await deps.db.updateTable('users').set({ password_hash }).where('id_user', '=', user.id_user).execute();
  }
  const now = deps.clock();
  const session = {
    userId: user.id_user,
    role: roleOf(user.user_role),
    sid: randomUUID(),
    refreshJti: randomUUID(),
  };
  await deps.db
    .insertInto('sessions')
    .values({
      sid: session.sid,
      user_id: session.userId,
      refresh_jti: session.refreshJti,
      created_at: now,
      expires_at: now + deps.config.refreshTtlSeconds * 1000,
      revoked_at: null,
    })
    .execute();
  return deps.tokens.issuePair(session, now);
}

/**
 * Rotation: the session row names the one refresh token that may be spent, and the swap is a single
 * conditional UPDATE, so of two concurrent refreshes exactly one wins. A token that no longer matches is
 * a replay (RFC 9700 reuse detection): the whole session is ended. The new pair carries the role the
 * database holds now, and nothing is issued for a user that no longer exists or a session older than
 * SESSION_MAX_AGE, however often it was rotated.
 */
export async function refresh(deps: Deps, caller: Caller): Promise<TokenPair> {
  const { sid, jti } = caller.claims;
  const now = deps.clock();
  const session = await deps.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id_user', 'sessions.user_id')
    .select(['sessions.created_at', 'users.user_role'])
    .where('sessions.sid', '=', sid)
    .where('sessions.user_id', '=', caller.userId)
    .executeTakeFirst();
  if (!session) throw new AppError('TOKEN_REVOKED', 'The session has ended');
  if (Number(session.created_at) <= now - deps.config.sessionMaxAgeSeconds * 1000) {
    await endSession(deps, sid);
    throw new AppError('TOKEN_EXPIRED', 'The session has reached its maximum age; sign in again');
  }
  const refreshJti = randomUUID();
  const swapped = await deps.db
    .updateTable('sessions')
    .set({ refresh_jti: refreshJti, expires_at: now + deps.config.refreshTtlSeconds * 1000 })
    .where('sid', '=', sid)
    .where('refresh_jti', '=', jti)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (swapped.numUpdatedRows === 1n) {
    return deps.tokens.issuePair({ userId: caller.userId, role: roleOf(session.user_role), sid, refreshJti }, now);
  }
  const ended = await endSession(deps, sid);
  throw new AppError(
    'TOKEN_REVOKED',
    ended ? 'This refresh token was already used; the session has been ended' : 'The session has ended',
  );
}

export async function logout(deps: Deps, caller: Caller): Promise<OutputOf<'logout'>> {
  const { jti, exp } = caller.claims;
  try {
    await deps.db
      .insertInto('revoked_tokens')
      .values({ jti, expires_at: exp * 1000 })
      .execute();
  } catch (err) {
    // Two concurrent logouts with one token: the second finds it revoked already, which is what it asked for.
    if (!isUniqueViolation(err)) throw err;
  }
  return { msg: 'Access token revoked' };
}

/** Ends the refresh token's session: its refresh token and every access token issued in it stop working. */
export async function logoutRefresh(deps: Deps, caller: Caller): Promise<OutputOf<'logoutRefresh'>> {
  if (!(await endSession(deps, caller.claims.sid))) throw new AppError('TOKEN_REVOKED', 'The session has ended');
  return { msg: 'Refresh token revoked' };
}

/** Marks a live session revoked; false when it was already ended, expired or gone. */
async function endSession(deps: Deps, sid: string): Promise<boolean> {
  const now = deps.clock();
  const result = await deps.db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('sid', '=', sid)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return result.numUpdatedRows === 1n;
}
