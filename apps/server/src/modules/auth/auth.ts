import { ADMIN, type AuthMethod, USER } from '@api-users/contract';
import { insertUserRow, inTransaction, isUniqueViolation } from '@api-users/db';
import type { Deps, Handler, RefreshCaller } from '../../core/context.js';
import { refuse } from '../../core/errors.js';
import { record } from '../audit/audit.js';
import { assertCanMail } from '../email/email.js';
import { issueEmailToken } from '../email/email-tokens.js';
import {
  CHALLENGE_TTL_SECONDS,
  issueChallenge,
  openChallenge,
  spendChallenge,
  takeAttempt,
} from '../mfa/challenges.js';
import { checkCode, WITH_CODE } from '../mfa/mfa.js';
import { refuseCode, secondFactorsOf, spendSecondFactor } from '../mfa/second-factor.js';
import { endSession, endSessionsOf, methodsOf, rotateSession, startSession } from '../sessions/sessions.js';
import { newUserRow } from '../users/create.js';
import { refusePassword } from '../users/password-check.js';
import { assertAcceptablePassword } from '../users/password-policy.js';
import { roleOf, toUser } from '../users/users.js';

/** The methods of a sign-in with a password alone (RFC 8176). */
const PASSWORD: AuthMethod[] = ['pwd'];

/**
 * Anyone may create a user (only an admin, with REGISTRATION=admins); only an admin may create an admin, except
 * that the very first account of an empty database may make itself admin (claimed through a one-row table so two racing first accounts
 * cannot both win).
 */
export const register: Handler<'register'> = async (ctx, input) => {
  const { caller, client } = ctx;
  assertAcceptablePassword(input.password, 'password', { login: input.login });
  if (input.email !== undefined) assertCanMail(ctx);
  const role = input.user_role ?? USER;
  const exists = await ctx.db.selectFrom('users').select('id_user').where('login', '=', input.login).executeTakeFirst();
  if (exists) throw refuse('loginTaken');
  const bootstrap = role === ADMIN && caller?.role !== ADMIN;
  // REGISTRATION=admins: only an admin creates accounts, but for the first admin of an empty database.
  if (ctx.config.registration === 'admins' && caller?.role !== ADMIN && !bootstrap) throw refuse('registrationClosed');
  const now = ctx.clock();
  const row = await newUserRow(ctx.passwords, { ...input, user_role: role }, now);
  try {
    const { id, link } = await inTransaction(ctx.db, async (trx) => {
      if (bootstrap) {
        const anyone = await trx.selectFrom('users').select('id_user').limit(1).executeTakeFirst();
        if (anyone) throw refuse('onlyAdminCreatesAdmin');
        await trx.insertInto('admin_bootstrap').values({ id: 1 }).execute();
      }
      const id = await insertUserRow(trx, row);
      await record(trx, now, client, { type: 'register', actorId: caller?.userId ?? id, targetId: id });
      // The address counts once confirmed: until then it waits with its link.
      const link = input.email === undefined ? undefined : await issueEmailToken(trx, 'verify', id, input.email, now);
      return { id, link };
    });
    if (link && input.email !== undefined) ctx.mailer.send({ kind: 'verify', to: input.email, ...link });
    return toUser({ ...row, id_user: id, disabled: 0, email: null });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    throw refuse(bootstrap ? 'onlyAdminCreatesAdmin' : 'loginTaken');
  }
};

/**
 * Unknown login and wrong password take the same path (a dummy verify, one audit event) and give the same
 * answer, no sooner than the failed-login floor (which covers legacy hashes). A disabled account is said to
 * be one only after its correct password. A legacy hash that matches becomes argon2id here, written only over
 * the hash it verified (an admin's reset meanwhile stays). The session opens only if the account is still as
 * read (startSession): a sign-in that was verifying while the password, the role or the disabled flag changed,
 * or the account was deleted, is refused as a wrong password. An account with a second factor gets no session
 * yet but a challenge, finished by loginMfa.
 */
export const login: Handler<'login'> = async (ctx, input) => {
  const { client } = ctx;
  const started = performance.now();
  const user = await ctx.db
    .selectFrom('users')
    .select(['id_user', 'user_role', 'password_hash', 'disabled', 'credentials_version'])
    .where('login', '=', input.login)
    .executeTakeFirst();
  const ok = await ctx.passwords.verify(user?.password_hash ?? null, input.password);
  const now = ctx.clock();
  if (!user || !ok) {
    const detail = user ? 'bad_password' : 'unknown_login';
    return refusePassword(ctx, started, now, client, { targetId: user?.id_user ?? null, detail }, 'signIn');
  }
  if (user.disabled) {
    await record(ctx.db, now, client, { type: 'login_failed', targetId: user.id_user, detail: 'disabled' });
    throw refuse('accountDisabled');
  }
  if (ctx.passwords.needsRehash(user.password_hash)) {
    const password_hash = await ctx.passwords.hash(input.password);
    await ctx.db
      .updateTable('users')
      .set({ password_hash })
      .where('id_user', '=', user.id_user)
      .where('password_hash', '=', user.password_hash)
      .execute();
  }
  const credentialsVersion = Number(user.credentials_version);
  const methods = await secondFactorsOf(ctx.db, user.id_user);
  if (methods.length > 0) {
    const deviceId = input.device_token === undefined ? undefined : ctx.devices.verify(input.login, input.device_token);
    const mfa_token = await inTransaction(ctx.db, async (trx) => {
      const token = await issueChallenge(trx, { userId: user.id_user, credentialsVersion, deviceId }, now);
      await record(trx, now, client, { type: 'mfa_challenged', actorId: user.id_user, targetId: user.id_user });
      return token;
    });
    return { mfa_required: true, mfa_token, expires_in: CHALLENGE_TTL_SECONDS, methods };
  }
  const account = { userId: user.id_user, credentialsVersion, amr: PASSWORD };
  const session = await inTransaction(ctx.db, async (trx) => {
    const opened = await startSession(trx, ctx.config, account, client, now);
    if (opened) {
      const event = { type: 'login', actorId: user.id_user, targetId: user.id_user, sessionId: opened.sid } as const;
      await record(trx, now, client, event);
    }
    return opened;
  });
  if (!session) {
    return refusePassword(
      ctx,
      started,
      now,
      client,
      { targetId: user.id_user, detail: 'credentials_changed' },
      'signIn',
    );
  }
  const signedIn = { userId: user.id_user, role: roleOf(user.user_role), signedInAt: now, amr: PASSWORD, ...session };
  // This client now knows the account: its next sign-ins are not stopped by a block an attack brought about.
  return { ...ctx.tokens.issuePair(signedIn, now), device_token: ctx.devices.issue(input.login) };
};

/**
 * The second step of a sign-in with a second factor: the challenge's code, then its session, in one transaction
 * (the code, the challenge and the session are spent or opened together). Every code sent takes one of the
 * challenge's attempts; the session opens only while the account's credentials are as the password step read
 * them.
 */
export const loginMfa: Handler<'loginMfa'> = async (ctx, input) => {
  const { client } = ctx;
  const now = ctx.clock();
  const challenge = await openChallenge(ctx.db, input.mfa_token, now);
  const { userId, credentialsVersion } = challenge;
  const user = await ctx.db
    .selectFrom('users')
    .select(['login', 'user_role', 'disabled'])
    .where('id_user', '=', userId)
    .executeTakeFirst();
  if (!user) throw refuse('challengeInvalid');
  if (user.disabled) {
    await record(ctx.db, now, client, { type: 'login_failed', targetId: userId, detail: 'disabled' });
    throw refuse('accountDisabled');
  }
  if (!(await takeAttempt(ctx.db, challenge.id, now))) throw refuse('challengeInvalid');
  const signedIn = await inTransaction(ctx.db, async (trx) => {
    const factor = await spendSecondFactor(trx, userId, input.code, now);
    if (factor === null) return null;
    if (!(await spendChallenge(trx, challenge.id, now))) throw refuse('challengeInvalid');
    const opened = await startSession(trx, ctx.config, { userId, credentialsVersion, amr: WITH_CODE }, client, now);
    if (!opened) throw refuse('challengeInvalid');
    await record(trx, now, client, {
      type: 'login',
      actorId: userId,
      targetId: userId,
      sessionId: opened.sid,
      detail: factor,
    });
    return opened;
  });
  if (signedIn === null) return refuseCode(ctx, now, client, userId);
  const session = { userId, role: roleOf(user.user_role), signedInAt: now, amr: WITH_CODE, ...signedIn };
  return { ...ctx.tokens.issuePair(session, now), device_token: ctx.devices.issue(user.login) };
};

/**
 * The session a refresh token names, with what refresh and sign-out check of it and of its account, once the
 * token is shown to be its live one or the one before. No session by that id (ended and purged, its account
 * deleted) is an ended session; a token the session never had is none of ours (a guess at a session id).
 */
async function sessionOfRefreshToken(db: Deps['db'], { sid, ref }: RefreshCaller) {
  const session = await db
    .selectFrom('sessions')
    // A left join: a session whose account is gone (deleted behind the app's back) is still told apart.
    .leftJoin('users', 'users.id_user', 'sessions.user_id')
    .select([
      'sessions.user_id',
      'sessions.created_at',
      'sessions.expires_at',
      'sessions.revoked_at',
      'sessions.refresh_ref',
      'sessions.previous_refresh_ref',
      'sessions.amr',
      'users.user_role',
      'users.disabled',
    ])
    .where('sessions.sid', '=', sid)
    .executeTakeFirst();
  if (!session?.user_role) throw refuse('sessionEnded');
  if (ref !== session.refresh_ref && ref !== session.previous_refresh_ref) throw refuse('invalidToken');
  return { ...session, user_role: session.user_role };
}

/**
 * Rotation: the session row knows the one refresh token that may be spent, and the swap is a single
 * conditional UPDATE, so of two concurrent refreshes exactly one wins. The token it replaced, sent again, is a
 * replay (RFC 9700 reuse detection): the whole session is ended. A token that was never the session's ends
 * nothing (it may be a guess at a session id). The new pair carries the role the database holds now, and
 * nothing is issued for a user that no longer exists or is disabled, or a session older than SESSION_MAX_AGE,
 * however often it was rotated.
 */
export const refresh: Handler<'refresh'> = async (ctx) => {
  const { caller, client } = ctx;
  const { sid, ref } = caller;
  const now = ctx.clock();
  const session = await sessionOfRefreshToken(ctx.db, caller);
  if (session.revoked_at !== null) throw refuse('sessionEnded');
  if (Number(session.expires_at) <= now) throw refuse('refreshExpired');
  const userId = session.user_id;
  if (session.disabled) {
    await endSession(ctx.db, sid, now);
    throw refuse('sessionOfDisabled');
  }
  if (Number(session.created_at) <= now - ctx.config.sessionMaxAgeSeconds * 1000) {
    await endSession(ctx.db, sid, now);
    throw refuse('sessionTooOld');
  }
  const event = { actorId: userId, targetId: userId, sessionId: sid };
  const refreshToken = await inTransaction(ctx.db, async (trx) => {
    const rotated = await rotateSession(trx, ctx.config, sid, client, now, ref);
    if (rotated !== null) await record(trx, now, client, { type: 'refresh', ...event });
    return rotated;
  });
  if (refreshToken !== null) {
    const role = roleOf(session.user_role);
    const signedInAt = Number(session.created_at);
    return ctx.tokens.issuePair({ userId, role, sid, refreshToken, signedInAt, amr: methodsOf(session.amr) }, now);
  }
  const ended = await inTransaction(ctx.db, async (trx) => {
    if (!(await endSession(trx, sid, now))) return false;
    await record(trx, now, client, { type: 'refresh_reused', ...event });
    return true;
  });
  throw refuse(ended ? 'refreshReused' : 'sessionEnded');
};

export const logout: Handler<'logout'> = async (ctx) => {
  const { caller, client } = ctx;
  const { jti, exp, sid } = caller.claims;
  const now = ctx.clock();
  try {
    await inTransaction(ctx.db, async (trx) => {
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
};

/**
 * Ends the refresh token's session: its refresh token and every access token issued in it stop working. The
 * token it replaced ends it too (whoever holds that one should not hold the session); any other ends nothing.
 */
export const logoutRefresh: Handler<'logoutRefresh'> = async (ctx) => {
  const { caller, client } = ctx;
  const { sid } = caller;
  const now = ctx.clock();
  const session = await sessionOfRefreshToken(ctx.db, caller);
  const userId = session.user_id;
  const ended = await inTransaction(ctx.db, async (trx) => {
    if (!(await endSession(trx, sid, now))) return false;
    await record(trx, now, client, { type: 'logout2', actorId: userId, targetId: userId, sessionId: sid });
    return true;
  });
  if (!ended) throw refuse('sessionEnded');
  return { msg: 'Refresh token revoked' };
};

/**
 * The current password is checked as at sign-in (same verify, same answer for a wrong one); the new one must
 * pass the password rules. Every session ends, the caller's too, so no token issued before the change works
 * (a thief's copy included), and the answer is the pair of a new session, as at sign-in: all in one
 * transaction with the audit event.
 */
export const changePassword: Handler<'changePassword'> = async (ctx, input) => {
  const { caller, client } = ctx;
  const started = performance.now();
  const user = await ctx.db
    .selectFrom('users')
    .select(['login', 'password_hash', 'user_role', 'credentials_version'])
    .where('id_user', '=', caller.userId)
    .executeTakeFirst();
  // The guard has just seen the account: one deleted since has no password to change (the refusal below).
  if (user)
    assertAcceptablePassword(input.new_password, 'new_password', {
      login: user.login,
      current: input.current_password,
    });
  const ok = await ctx.passwords.verify(user?.password_hash ?? null, input.current_password);
  const now = ctx.clock();
  const self = { actorId: caller.userId, targetId: caller.userId };
  if (!user || !ok) {
    return refusePassword(ctx, started, now, client, { ...self, detail: 'bad_password' }, 'confirmation');
  }
  const amr = (await checkCode(ctx, input.code, now)) === null ? PASSWORD : WITH_CODE;
  const password_hash = await ctx.passwords.hash(input.new_password);
  const session = await inTransaction(ctx.db, async (trx) => {
    if (!(await endSession(trx, caller.claims.sid, now, caller.userId))) {
      throw refuse('sessionEnded');
    }
    // Over the credentials the check read: a change that came between is not overwritten.
    const credentialsVersion = Number(user.credentials_version) + 1;
    const changed = await trx
      .updateTable('users')
      .set({ password_hash, credentials_version: credentialsVersion })
      .where('id_user', '=', caller.userId)
      .where('credentials_version', '=', credentialsVersion - 1)
      .executeTakeFirst();
    if (changed.numUpdatedRows !== 1n) throw refuse('sessionEnded');
    await endSessionsOf(trx, caller.userId, now);
    const opened = await startSession(trx, ctx.config, { userId: caller.userId, credentialsVersion, amr }, client, now);
    if (!opened) throw refuse('sessionEnded');
    await record(trx, now, client, { type: 'password_changed', ...self, sessionId: opened.sid });
    return opened;
  });
  // The owner proved the password: a block on the account's sign-ins, if any, goes.
  await ctx.signInLimits.lift(user.login);
  const signedIn = { userId: caller.userId, role: roleOf(user.user_role), signedInAt: now, amr, ...session };
  return { ...ctx.tokens.issuePair(signedIn, now), device_token: ctx.devices.issue(user.login) };
};
