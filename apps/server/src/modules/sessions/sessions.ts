import { randomUUID } from 'node:crypto';
import type { AuthMethod, OutputOf, ParsedInputOf, Session } from '@api-users/contract';
import { type Database, inTransaction } from '@api-users/db';
import type { Kysely, Selectable } from 'kysely';
import type { Client, Deps, Handler, Settings } from '../../core/context.js';
import { refuse } from '../../core/errors.js';
import { record } from '../audit/audit.js';
import { pageOf } from '../paging.js';
import { isoTime } from '../times.js';
import { assertUserExists } from '../users/users.js';
import { newRefreshToken } from './refresh-tokens.js';

type SessionConfig = Pick<Settings, 'refreshTtlSeconds' | 'sessionMaxAgeSeconds'>;

/** The account a session is opened for, as the sign-in read it. */
export interface AccountAsRead {
  userId: number;
  /** `users.credentials_version` as read with the hash that was verified. */
  credentialsVersion: number;
  /** How the sign-in was made (RFC 8176), kept with the session for its tokens and its listing. */
  amr: AuthMethod[];
}

/** A session row's `amr` column as the methods it names (the column holds only what startSession wrote). */
export const methodsOf = (column: string): AuthMethod[] => column.split(',') as AuthMethod[];

/**
 * A new session for a sign-in, remembering the client; returns what its token pair needs. One statement
 * (INSERT ... SELECT) opens it only while the account is enabled and its credentials version is still the one
 * read: a password change, an admin's reset, a disable, a demotion or a delete that ended its sessions while
 * the sign-in was verifying leaves nothing opened (null), and an account deleted meanwhile no foreign-key error.
 */
export async function startSession(
  db: Kysely<Database>,
  config: SessionConfig,
  account: AccountAsRead,
  client: Client,
  now: number,
): Promise<{ sid: string; refreshToken: string } | null> {
  const sid = randomUUID();
  const refresh = newRefreshToken(sid);
  const inserted = await db
    .insertInto('sessions')
    .columns(['sid', 'user_id', 'refresh_ref', 'created_at', 'expires_at', 'client_address', 'user_agent', 'amr'])
    .expression((eb) =>
      eb
        .selectFrom('users')
        .select([
          eb.val(sid).as('sid'),
          'id_user',
          eb.val(refresh.ref).as('refresh_ref'),
          eb.val(now).as('created_at'),
          eb.val(now + config.refreshTtlSeconds * 1000).as('expires_at'),
          eb.val(client.ip).as('client_address'),
          eb.val<string | null>(client.userAgent ?? null).as('user_agent'),
          eb.val(account.amr.join(',')).as('amr'),
        ])
        .where('id_user', '=', account.userId)
        .where('credentials_version', '=', account.credentialsVersion)
        .where('disabled', '=', 0),
    )
    .executeTakeFirst();
  return inserted.numInsertedOrUpdatedRows === 1n ? { sid, refreshToken: refresh.token } : null;
}

/**
 * Gives a live session a new refresh token (the one its next pair carries) and a new expiry, and notes the
 * client: one conditional UPDATE, so of two concurrent rotations one wins. Only while `spent` (a ref) is the
 * session's live token; it is kept as the one before, so that sending it again is known as a replay. The new
 * token, or null when nothing was rotated.
 */
export async function rotateSession(
  db: Kysely<Database>,
  config: SessionConfig,
  sid: string,
  client: Client,
  now: number,
  spent: string,
): Promise<string | null> {
  const refresh = newRefreshToken(sid);
  const rotated = await db
    .updateTable('sessions')
    .set({
      refresh_ref: refresh.ref,
      previous_refresh_ref: spent,
      expires_at: now + config.refreshTtlSeconds * 1000,
      refreshed_at: now,
      refreshed_client_address: client.ip,
      refreshed_user_agent: client.userAgent ?? null,
    })
    .where('sid', '=', sid)
    .where('refresh_ref', '=', spent)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  return rotated.numUpdatedRows === 1n ? refresh.token : null;
}

/**
 * Marks a live session revoked (only if it is `userId`'s, when given); false when it was already ended,
 * expired, gone or someone else's.
 */
export async function endSession(db: Kysely<Database>, sid: string, now: number, userId?: number): Promise<boolean> {
  let query = db
    .updateTable('sessions')
    .set({ revoked_at: now })
    .where('sid', '=', sid)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now);
  if (userId !== undefined) query = query.where('user_id', '=', userId);
  return (await query.executeTakeFirst()).numUpdatedRows === 1n;
}

/**
 * Ends every session of a user (but `except`) in one statement, so their tokens are refused at once on every
 * instance; the change that calls for it records itself in the audit log.
 */
export async function endSessionsOf(db: Kysely<Database>, userId: number, now: number, except?: string) {
  let query = db.updateTable('sessions').set({ revoked_at: now }).where('user_id', '=', userId);
  if (except !== undefined) query = query.where('sid', '!=', except);
  await query.where('revoked_at', 'is', null).execute();
}

/** The earliest sign-in a session may have and still work at `now` (SESSION_MAX_AGE). */
export const earliestLiveSignIn = (config: Pick<SessionConfig, 'sessionMaxAgeSeconds'>, now: number): number =>
  now - config.sessionMaxAgeSeconds * 1000;

/** A user's sessions that still work: not ended, not expired, not past SESSION_MAX_AGE (as the guard holds). */
function liveSessions(db: Kysely<Database>, config: SessionConfig, userId: number, now: number) {
  return db
    .selectFrom('sessions')
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .where('created_at', '>', earliestLiveSignIn(config, now));
}

/** Newest first; the cursor is the sign-in time and id of the last session shown. */
async function sessionPage(
  deps: Deps,
  userId: number,
  currentSid: string,
  input: ParsedInputOf<'listMySessions'>,
): Promise<OutputOf<'listMySessions'>> {
  const now = deps.clock();
  const maxAgeMs = deps.config.sessionMaxAgeSeconds * 1000;
  let query = liveSessions(deps.db, deps.config, userId, now)
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('sid', 'desc')
    .limit(input.limit + 1);
  if (input.cursor) {
    const [created, sid] = input.cursor.split('.') as [string, string];
    query = query.where((eb) =>
      eb.or([
        eb('created_at', '<', Number(created)),
        eb.and([eb('created_at', '=', Number(created)), eb('sid', '<', sid)]),
      ]),
    );
  }
  const toSession = (row: Selectable<Database['sessions']>): Session => ({
    id: row.sid,
    created_at: isoTime(row.created_at),
    refreshed_at: row.refreshed_at === null ? null : isoTime(row.refreshed_at),
    expires_at: isoTime(Math.min(Number(row.expires_at), Number(row.created_at) + maxAgeMs)),
    client_address: row.client_address,
    user_agent: row.user_agent,
    refreshed_client_address: row.refreshed_client_address,
    refreshed_user_agent: row.refreshed_user_agent,
    current: row.sid === currentSid,
    amr: methodsOf(row.amr),
  });
  return pageOf(await query.execute(), input.limit, toSession, (row) => `${row.created_at}.${row.sid}`);
}

/**
 * Ends a user's live sessions (but `except`) one by one, recording each with who ended it: one event per
 * session, so the log says which devices were signed out.
 */
async function endEach(
  deps: Deps,
  target: number,
  actor: number,
  client: Client,
  except?: string,
): Promise<OutputOf<'endMyOtherSessions'>> {
  const now = deps.clock();
  return inTransaction(deps.db, async (trx) => {
    let query = liveSessions(trx, deps.config, target, now).select('sid');
    if (except !== undefined) query = query.where('sid', '!=', except);
    let ended = 0;
    for (const { sid } of await query.execute()) {
      if (!(await endSession(trx, sid, now))) continue;
      await record(trx, now, client, { type: 'session_ended', actorId: actor, targetId: target, sessionId: sid });
      ended++;
    }
    return { ended };
  });
}

export const listMySessions: Handler<'listMySessions'> = (ctx, input) =>
  sessionPage(ctx, ctx.caller.userId, ctx.caller.claims.sid, input);

/** Ends one live session of `target`, recording who ended it. */
async function endOne(
  deps: Deps,
  target: number,
  sid: string,
  actor: number,
  client: Client,
): Promise<OutputOf<'endMySession'>> {
  const now = deps.clock();
  return inTransaction(deps.db, async (trx) => {
    if (!(await endSession(trx, sid, now, target))) {
      throw refuse('noSuchSession');
    }
    await record(trx, now, client, { type: 'session_ended', actorId: actor, targetId: target, sessionId: sid });
    return { ended: 1 };
  });
}

export const endMySession: Handler<'endMySession'> = (ctx, input) =>
  endOne(ctx, ctx.caller.userId, input.sid, ctx.caller.userId, ctx.client);

export const endUserSession: Handler<'endUserSession'> = (ctx, input) =>
  endOne(ctx, input.id, input.sid, ctx.caller.userId, ctx.client);

export const endMyOtherSessions: Handler<'endMyOtherSessions'> = (ctx) =>
  endEach(ctx, ctx.caller.userId, ctx.caller.userId, ctx.client, ctx.caller.claims.sid);

export const listUserSessions: Handler<'listUserSessions'> = async (ctx, input) => {
  await assertUserExists(ctx.db, input.id);
  return sessionPage(ctx, input.id, ctx.caller.claims.sid, input);
};

export const endUserSessions: Handler<'endUserSessions'> = async (ctx, input) => {
  await assertUserExists(ctx.db, input.id);
  return endEach(ctx, input.id, ctx.caller.userId, ctx.client);
};
