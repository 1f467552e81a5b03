import type { AuthMethod } from '@api-users/contract';
import { inTransaction } from '@api-users/db';
import type { AuthenticationResponseJSON } from '@simplewebauthn/server';
import { generateAuthenticationOptions, verifyAuthenticationResponse } from '@simplewebauthn/server';
import type { Client, Deps, Handler } from '../../core/context.js';
import { refuse } from '../../core/errors.js';
import { record } from '../audit/audit.js';
import { beginCeremony, spendCeremony } from '../mfa/ceremonies.js';
import { openChallenge, spendChallenge } from '../mfa/challenges.js';
import { methodOf, passkeysOf, transportsOf, userHandleOf } from '../mfa/passkeys.js';
import { startSession } from '../sessions/sessions.js';
import { roleOf } from '../users/users.js';

/**
 * Without an mfa_token: a discoverable sign-in, any account's passkey may answer (the browser offers the ones
 * it holds for this RP). With one: the second step of a password sign-in, only that account's passkeys.
 */
export const startPasskeySignIn: Handler<'startPasskeySignIn'> = async (ctx, input) => {
  const now = ctx.clock();
  const challenge = input.mfa_token === undefined ? undefined : await openChallenge(ctx.db, input.mfa_token, now);
  const own = challenge ? await passkeysOf(ctx.db, challenge.userId) : [];
  if (challenge && own.length === 0) throw refuse('noPasskey');
  const options = await generateAuthenticationOptions({
    rpID: ctx.config.webauthn.rpId,
    allowCredentials: own.map((row) => ({ id: row.credential_id, transports: transportsOf(row) })),
    userVerification: 'required',
  });
  const ceremony_id = await beginCeremony(
    ctx.db,
    'sign_in',
    { challenge: options.challenge, userId: challenge?.userId ?? null, mfaChallengeId: challenge?.id ?? null },
    now,
  );
  return { ceremony_id, options: { ...options } };
};

/** A refused answer: one audit event (never the credential) and one answer, whatever was wrong with it. */
async function reject(
  deps: Deps,
  now: number,
  client: Client,
  targetId: number | null,
  detail: string,
): Promise<never> {
  await record(deps.db, now, client, { type: 'login_failed', targetId, detail });
  throw refuse('passkeyRejected');
}

/**
 * The answer is checked once (the ceremony is spent first), against the ceremony's challenge, this service's
 * origins and RP ID, the passkey's public key, user verification, its backup eligibility (fixed at registration),
 * and the signature counter: one that does not move forward means two authenticators hold the key (a clone),
 * which is refused and recorded. The session
 * opens in one transaction with the counter's update (and, for a second factor, with the password step spent).
 */
export const loginPasskey: Handler<'loginPasskey'> = async (ctx, input) => {
  const { client } = ctx;
  const now = ctx.clock();
  const ceremony = await spendCeremony(ctx.db, input.ceremony_id, 'sign_in', now);
  if (!ceremony) return reject(ctx, now, client, null, 'passkey_ceremony');
  const passkey = await ctx.db
    .selectFrom('passkeys')
    .innerJoin('users', 'users.id_user', 'passkeys.user_id')
    .select([
      'passkeys.id',
      'passkeys.user_id',
      'passkeys.credential_id',
      'passkeys.public_key',
      'passkeys.counter',
      'passkeys.transports',
      'passkeys.device_type',
      'users.login',
      'users.user_role',
      'users.disabled',
      'users.credentials_version',
    ])
    .where('passkeys.credential_id', '=', input.response.id)
    .executeTakeFirst();
  if (!passkey || (ceremony.userId !== null && passkey.user_id !== ceremony.userId)) {
    return reject(ctx, now, client, ceremony.userId, 'unknown_passkey');
  }
  const userId = passkey.user_id;
  const userHandle = (input.response.response as { userHandle?: unknown }).userHandle;
  if (userHandle !== undefined && userHandle !== null && userHandle !== userHandleOf(userId)) {
    return reject(ctx, now, client, userId, 'unknown_passkey');
  }
  const { rpId, origins } = ctx.config.webauthn;
  const stored = Number(passkey.counter);
  const verified = await verifyAuthenticationResponse({
    // The contract checked the answer's outline; the library checks every part of it.
    response: input.response as unknown as AuthenticationResponseJSON,
    expectedChallenge: ceremony.challenge,
    expectedOrigin: origins,
    expectedRPID: rpId,
    // The counter is compared below, so that a clone is told from a bad answer (the library throws for both).
    credential: {
      id: passkey.credential_id,
      publicKey: new Uint8Array(Buffer.from(passkey.public_key, 'base64url')),
      counter: 0,
      transports: transportsOf(passkey),
    },
    requireUserVerification: true,
  }).catch(() => undefined);
  if (!verified?.verified) return reject(ctx, now, client, userId, 'bad_passkey');
  const { newCounter, credentialBackedUp, credentialDeviceType } = verified.authenticationInfo;
  // Whether a credential may be backed up (synced) is fixed when it is made (WebAuthn's BE flag): an answer that
  // says otherwise comes from another authenticator than the one registered.
  if (credentialDeviceType !== passkey.device_type) return reject(ctx, now, client, userId, 'backup_eligibility');
  if ((newCounter > 0 || stored > 0) && newCounter <= stored) {
    await record(ctx.db, now, client, { type: 'passkey_cloned', targetId: userId, detail: `counter ${newCounter}` });
    throw refuse('passkeyRejected');
  }
  if (passkey.disabled) {
    await record(ctx.db, now, client, { type: 'login_failed', targetId: userId, detail: 'disabled' });
    throw refuse('accountDisabled');
  }
  const method = methodOf(passkey);
  const amr: AuthMethod[] = ceremony.mfaChallengeId === null ? [method] : ['pwd', method];
  const mfa = ceremony.mfaChallengeId === null ? undefined : await challengeOf(ctx, ceremony.mfaChallengeId, now);
  const credentialsVersion = mfa?.credentialsVersion ?? Number(passkey.credentials_version);
  const session = await inTransaction(ctx.db, async (trx) => {
    // Only over the counter read: of two answers racing with one signature, one signs in.
    const moved = await trx
      .updateTable('passkeys')
      .set({ counter: newCounter, backed_up: credentialBackedUp ? 1 : 0, last_used_at: now })
      .where('id', '=', passkey.id)
      .where('counter', '=', stored)
      .executeTakeFirst();
    if (moved.numUpdatedRows !== 1n) throw refuse('passkeyRejected');
    if (mfa && !(await spendChallenge(trx, mfa.id, now))) throw refuse('challengeInvalid');
    const opened = await startSession(trx, ctx.config, { userId, credentialsVersion, amr }, client, now);
    if (!opened) throw refuse(mfa ? 'challengeInvalid' : 'passkeyRejected');
    await record(trx, now, client, {
      type: 'login',
      actorId: userId,
      targetId: userId,
      sessionId: opened.sid,
      detail: 'passkey',
    });
    return opened;
  });
  const signedIn = { userId, role: roleOf(passkey.user_role), signedInAt: now, amr, ...session };
  return { ...ctx.tokens.issuePair(signedIn, now), device_token: ctx.devices.issue(passkey.login) };
};

/** The password step a ceremony finishes, if it is still live (read by its id, which only the ceremony knows). */
async function challengeOf(deps: Deps, id: string, now: number) {
  const row = await deps.db
    .selectFrom('mfa_challenges')
    .select(['id', 'credentials_version'])
    .where('id', '=', id)
    .where('used_at', 'is', null)
    .where('expires_at', '>', now)
    .executeTakeFirst();
  if (!row) throw refuse('challengeInvalid');
  return { id: row.id, credentialsVersion: Number(row.credentials_version) };
}
