import type { AuthMethod, Passkey } from '@api-users/contract';
import { type Database, inTransaction, isUniqueViolation } from '@api-users/db';
import type { AuthenticatorTransportFuture, RegistrationResponseJSON } from '@simplewebauthn/server';
import { generateRegistrationOptions, verifyRegistrationResponse } from '@simplewebauthn/server';
import type { Kysely, Selectable } from 'kysely';
import type { Handler } from '../../core/context.js';
import { refuse } from '../../core/errors.js';
import { record } from '../audit/audit.js';
import { isoTime, isoTimeOrNull } from '../times.js';
import { beginCeremony, spendCeremony } from './ceremonies.js';
import { checkCode, checkPassword } from './mfa.js';

type PasskeyRow = Selectable<Database['passkeys']>;

/**
 * The WebAuthn user handle of an account: its id, as bytes. Stable (a passkey names its account by it), and
 * no personal data (the login may change; the id never does).
 */
export const userHandleOf = (userId: number): string => Buffer.from(String(userId)).toString('base64url');

/** The longest credential id kept (base64url of 255 bytes): longer ones are refused, so it can be indexed. */
const MAX_CREDENTIAL_ID = 344;

/** RFC 8176: a synced passkey is a software-protected key, one bound to its authenticator a hardware one. */
export const methodOf = (row: Pick<PasskeyRow, 'device_type'>): AuthMethod =>
  row.device_type === 'multiDevice' ? 'swk' : 'hwk';

export const transportsOf = (row: Pick<PasskeyRow, 'transports'>): AuthenticatorTransportFuture[] =>
  row.transports === '' ? [] : (row.transports.split(',') as AuthenticatorTransportFuture[]);

function toPasskey(row: PasskeyRow): Passkey {
  return {
    id: row.id,
    name: row.name,
    created_at: isoTime(row.created_at),
    last_used_at: isoTimeOrNull(row.last_used_at),
    device_type: row.device_type === 'multiDevice' ? 'multiDevice' : 'singleDevice',
    backed_up: Number(row.backed_up) === 1,
  };
}

export const passkeysOf = (db: Kysely<Database>, userId: number) =>
  db.selectFrom('passkeys').selectAll().where('user_id', '=', userId).orderBy('created_at').orderBy('id').execute();

/** A refusal of a registration answer, next to the field it is about. */
const refuseRegistration = (message: string) => refuse('invalidRequest', [{ path: 'response', message }]);

export const listPasskeys: Handler<'listPasskeys'> = async (ctx) => ({
  items: (await passkeysOf(ctx.db, ctx.caller.userId)).map(toPasskey),
});

/**
 * A passkey signs in alone, so adding one asks for the password (and a code) first, as a password change does:
 * a stolen access token must not be able to add the thief's passkey.
 */
export const startPasskeyRegistration: Handler<'startPasskeyRegistration'> = async (ctx, input) => {
  const { userId } = ctx.caller;
  const now = await checkPassword(ctx, input.password);
  await checkCode(ctx, input.code, now);
  const user = await ctx.db
    .selectFrom('users')
    .select(['login', 'user_name'])
    .where('id_user', '=', userId)
    .executeTakeFirstOrThrow();
  const { rpId, rpName } = ctx.config.webauthn;
  const options = await generateRegistrationOptions({
    rpName,
    rpID: rpId,
    userName: user.login,
    userDisplayName: user.user_name,
    userID: new Uint8Array(Buffer.from(userHandleOf(userId), 'base64url')),
    attestationType: 'none',
    excludeCredentials: (await passkeysOf(ctx.db, userId)).map((row) => ({
      id: row.credential_id,
      transports: transportsOf(row),
    })),
    authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
  });
  const ceremony_id = await beginCeremony(
    ctx.db,
    'register',
    { challenge: options.challenge, userId, mfaChallengeId: null },
    now,
  );
  return { ceremony_id, options: { ...options } };
};

export const addPasskey: Handler<'addPasskey'> = async (ctx, input) => {
  const { userId } = ctx.caller;
  const now = ctx.clock();
  const ceremony = await spendCeremony(ctx.db, input.ceremony_id, 'register', now);
  if (!ceremony || ceremony.userId !== userId) {
    throw refuse('invalidRequest', [
      { path: 'ceremony_id', message: 'This registration has expired or was used already; start again' },
    ]);
  }
  const { rpId, origins } = ctx.config.webauthn;
  const verified = await verifyRegistrationResponse({
    // The contract checked the answer's outline; the library checks every part of it.
    response: input.response as unknown as RegistrationResponseJSON,
    expectedChallenge: ceremony.challenge,
    expectedOrigin: origins,
    expectedRPID: rpId,
    requireUserVerification: true,
  }).catch((err: unknown) => {
    throw refuseRegistration(`The passkey's answer does not verify: ${err instanceof Error ? err.message : err}`);
  });
  if (!verified.verified) throw refuseRegistration("The passkey's answer does not verify");
  const { credential, credentialDeviceType, credentialBackedUp } = verified.registrationInfo;
  if (credential.id.length > MAX_CREDENTIAL_ID) throw refuseRegistration('This credential id is too long to keep');
  const row: PasskeyRow = {
    id: crypto.randomUUID(),
    user_id: userId,
    credential_id: credential.id,
    public_key: Buffer.from(credential.publicKey).toString('base64url'),
    counter: credential.counter,
    transports: (credential.transports ?? []).join(','),
    device_type: credentialDeviceType,
    backed_up: credentialBackedUp ? 1 : 0,
    name: input.name ?? 'Passkey',
    created_at: now,
    last_used_at: null,
  };
  try {
    await inTransaction(ctx.db, async (trx) => {
      await trx.insertInto('passkeys').values(row).execute();
      await record(trx, now, ctx.client, { type: 'passkey_added', actorId: userId, targetId: userId });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw refuseRegistration('This passkey is registered already');
    throw err;
  }
  return toPasskey(row);
};

/** One of the caller's passkeys, or 404. */
async function ownPasskey(db: Kysely<Database>, userId: number, id: string): Promise<PasskeyRow> {
  const row = await db
    .selectFrom('passkeys')
    .selectAll()
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  if (!row) throw refuse('noSuchPasskey');
  return row;
}

export const renamePasskey: Handler<'renamePasskey'> = async (ctx, input) => {
  const { userId } = ctx.caller;
  const row = await ownPasskey(ctx.db, userId, input.id);
  const now = ctx.clock();
  await inTransaction(ctx.db, async (trx) => {
    await trx.updateTable('passkeys').set({ name: input.name }).where('id', '=', row.id).execute();
    await record(trx, now, ctx.client, { type: 'passkey_renamed', actorId: userId, targetId: userId });
  });
  return toPasskey({ ...row, name: input.name });
};

/** Removing a factor asks for the password (and a code) first, as turning the app off does. */
export const removePasskey: Handler<'removePasskey'> = async (ctx, input) => {
  const { userId } = ctx.caller;
  await ownPasskey(ctx.db, userId, input.id);
  const now = await checkPassword(ctx, input.password);
  await checkCode(ctx, input.code, now);
  await inTransaction(ctx.db, async (trx) => {
    const removed = await trx
      .deleteFrom('passkeys')
      .where('id', '=', input.id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (removed.numDeletedRows !== 1n) throw refuse('noSuchPasskey');
    await record(trx, now, ctx.client, { type: 'passkey_removed', actorId: userId, targetId: userId });
  });
  return { msg: 'Passkey removed' };
};
