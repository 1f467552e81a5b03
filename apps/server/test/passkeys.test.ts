import { beforeAll, expect, it } from 'vitest';
import { softwareAuthenticator } from '../../../test-support/authenticator.js';
import { databaseReader, describeEachDatabase } from './support/databases.js';
import { restClient } from './support/http.js';
import { enrolTotp } from './support/mfa.js';
import { uniqueLogin, useIsolatedServer } from './support/server.js';
import { claimsOf } from './support/tokens.js';

const PASSWORD = 'a passkey and a password';
type Authenticator = ReturnType<typeof softwareAuthenticator>;

describeEachDatabase('passkeys', (dialect) => {
  const server = useIsolatedServer(dialect);
  const reader = databaseReader(() => server.database.url);
  let api: ReturnType<typeof restClient>;
  beforeAll(() => {
    api = restClient(server.url);
  });

  const startRegistration = (token: string, json: object = { password: PASSWORD }) =>
    api.call('POST', '/me/passkeys/registration', { token, json });

  /** A new account with a passkey on `authenticator`, and the pair of the session that added it. */
  async function withPasskey(authenticator: Authenticator = softwareAuthenticator()) {
    const login = uniqueLogin('passkey');
    const { user, tokens } = await api.signUp(login, PASSWORD);
    const token = tokens.access_token;
    const started = await startRegistration(token);
    const response = authenticator.register(started.body.options);
    const added = await api.call('POST', '/me/passkeys', {
      token,
      json: { ceremony_id: started.body.ceremony_id, response, name: 'Laptop' },
    });
    if (added.status !== 201) throw new Error(`add failed: ${added.status} ${JSON.stringify(added.body)}`);
    return { login, id: user.id_user as number, token, authenticator, passkey: added.body };
  }

  /** Both steps of a passkey sign-in, the second answered by `authenticator`. */
  async function passkeySignIn(authenticator: Authenticator, mfa_token?: string) {
    const begun = await api.call('POST', '/login/passkey/options', { json: mfa_token ? { mfa_token } : {} });
    if (begun.status !== 200) return begun;
    const response = authenticator.authenticate(begun.body.options);
    return api.call('POST', '/login/passkey', { json: { ceremony_id: begun.body.ceremony_id, response } });
  }

  it('adds a passkey only after the password, from a ceremony used once', async () => {
    const login = uniqueLogin('passkey.add');
    const { user, tokens } = await api.signUp(login, PASSWORD);
    const token = tokens.access_token;
    expect((await startRegistration(token, { password: 'not it' })).body.code).toBe('WRONG_PASSWORD');
    const started = await startRegistration(token);
    expect(started.status).toBe(200);
    expect(started.body.options).toMatchObject({
      rp: { id: 'localhost', name: 'Api users' },
      user: { name: login, displayName: user.user_name },
      authenticatorSelection: { residentKey: 'required', userVerification: 'required' },
      attestation: 'none',
    });
    const authenticator = softwareAuthenticator();
    const response = authenticator.register(started.body.options);
    const add = (json: object) => api.call('POST', '/me/passkeys', { token, json });
    // An answer from another page is refused, and spends the ceremony.
    const foreign = softwareAuthenticator({ origin: 'https://evil.example' }).register(started.body.options);
    const refused = await add({ ceremony_id: started.body.ceremony_id, response: foreign });
    expect(refused.status).toBe(400);
    expect(refused.body.issues[0].path).toBe('response');
    expect((await add({ ceremony_id: started.body.ceremony_id, response })).body.issues[0].path).toBe('ceremony_id');

    const again = await startRegistration(token);
    const added = await add({
      ceremony_id: again.body.ceremony_id,
      response: authenticator.register(again.body.options),
    });
    expect(added.status).toBe(201);
    expect(added.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Passkey',
      created_at: expect.any(String),
      last_used_at: null,
      device_type: 'singleDevice',
      backed_up: false,
    });
    // The next registration excludes it, so a browser will not make a second one on the same authenticator.
    const third = await startRegistration(token);
    expect(third.body.options.excludeCredentials).toEqual([
      { id: authenticator.credentials[1]?.id.toString('base64url'), type: 'public-key', transports: ['internal'] },
    ]);
    expect((await api.call('GET', '/me/passkeys', { token })).body.items).toEqual([added.body]);
    expect((await api.call('GET', '/me/mfa', { token })).body).toEqual({
      totp: false,
      recovery_codes_left: 0,
      passkeys: 1,
    });
  });

  it('signs in with a passkey alone, no login typed, once per ceremony', async () => {
    const { id, authenticator } = await withPasskey();
    const begun = await api.call('POST', '/login/passkey/options', { json: {} });
    expect(begun.body.options).toMatchObject({ rpId: 'localhost', userVerification: 'required', allowCredentials: [] });
    const response = authenticator.authenticate(begun.body.options);
    const signedIn = await api.call('POST', '/login/passkey', {
      json: { ceremony_id: begun.body.ceremony_id, response },
    });
    expect(signedIn.status).toBe(200);
    expect(claimsOf(signedIn.body.access_token)).toMatchObject({ sub: String(id), amr: ['hwk'] });
    const token = signedIn.body.access_token;
    const sessions = await api.call('GET', '/me/sessions', { token });
    expect(sessions.body.items[0].amr).toEqual(['hwk']);
    expect((await api.call('GET', '/me/passkeys', { token })).body.items[0].last_used_at).toEqual(expect.any(String));
    const replayed = await api.call('POST', '/login/passkey', {
      json: { ceremony_id: begun.body.ceremony_id, response },
    });
    expect(replayed.status).toBe(401);
    expect(replayed.body).toEqual({
      code: 'PASSKEY_REJECTED',
      msg: 'The passkey was not accepted; try again, or sign in another way',
    });
    // The refusal names no account: the spent ceremony said none. The sign-in before it is the account's.
    expect(await reader.lastAuditEvent()).toMatchObject({
      type: 'login_failed',
      detail: 'passkey_ceremony',
      target_id: null,
    });
    const login = await reader.read((db) =>
      db
        .selectFrom('audit_events')
        .select(['type', 'detail'])
        .where('target_id', '=', id)
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow(),
    );
    expect(login).toEqual({ type: 'login', detail: 'passkey' });
  });

  it('is asked for after a password, and only that account’s passkey finishes the sign-in', async () => {
    const owner = await withPasskey();
    const other = await withPasskey();
    const first = await api.login(owner.login, PASSWORD);
    expect(first.body).toMatchObject({ mfa_required: true, methods: ['passkey'] });
    const options = await api.call('POST', '/login/passkey/options', { json: { mfa_token: first.body.mfa_token } });
    expect(options.body.options.allowCredentials).toEqual([
      {
        id: owner.passkey && owner.authenticator.credentials[0]?.id.toString('base64url'),
        type: 'public-key',
        transports: ['internal'],
      },
    ]);
    // Another account's passkey, answering as if allowed: refused.
    const foreign = other.authenticator.authenticate({ ...options.body.options, allowCredentials: [] });
    const refused = await api.call('POST', '/login/passkey', {
      json: { ceremony_id: options.body.ceremony_id, response: foreign },
    });
    expect(refused.body.code).toBe('PASSKEY_REJECTED');
    const finished = await passkeySignIn(owner.authenticator, first.body.mfa_token);
    expect(finished.status).toBe(200);
    expect(claimsOf(finished.body.access_token).amr).toEqual(['pwd', 'hwk']);
    // The password step is spent with it.
    const reuse = await api.call('POST', '/login/mfa', { json: { mfa_token: first.body.mfa_token, code: '123456' } });
    expect(reuse.body.code).toBe('MFA_CHALLENGE_INVALID');
    // An account with no passkey has none to ask for.
    const plain = uniqueLogin('passkey.plain');
    const { tokens } = await api.signUp(plain, PASSWORD);
    await enrolTotp(api, tokens.access_token, PASSWORD);
    const challenge = (await api.login(plain, PASSWORD)).body.mfa_token;
    const none = await api.call('POST', '/login/passkey/options', { json: { mfa_token: challenge } });
    expect([none.status, none.body.code]).toEqual([409, 'MFA_NOT_ENABLED']);
  });

  it('refuses a cloned authenticator whose counter does not move forward, and records it', async () => {
    const { id, authenticator } = await withPasskey();
    const clone = authenticator.clone();
    expect((await passkeySignIn(authenticator)).status).toBe(200);
    const cloned = await passkeySignIn(clone);
    expect(cloned.body.code).toBe('PASSKEY_REJECTED');
    const event = await reader.read((db) =>
      db
        .selectFrom('audit_events')
        .selectAll()
        .where('type', '=', 'passkey_cloned')
        .where('target_id', '=', id)
        .executeTakeFirstOrThrow(),
    );
    expect(event.detail).toBe('counter 1');
  });

  it('refuses an answer whose backup eligibility differs from the registered passkey’s', async () => {
    const { id, authenticator } = await withPasskey();
    // Same key, counter ahead, but claiming to be a synced (backup-eligible) credential: not the registered one.
    const other = authenticator.clone({ synced: true });
    for (const c of other.credentials) c.counter += 10;
    expect((await passkeySignIn(other)).body.code).toBe('PASSKEY_REJECTED');
    expect(await reader.lastAuditEvent()).toMatchObject({ target_id: id, detail: 'backup_eligibility' });
    expect((await passkeySignIn(authenticator)).status).toBe(200);
  });

  it('says a synced passkey is a software key (swk)', async () => {
    const { authenticator, passkey } = await withPasskey(softwareAuthenticator({ synced: true }));
    expect(passkey).toMatchObject({ device_type: 'multiDevice', backed_up: true });
    expect(claimsOf((await passkeySignIn(authenticator)).body.access_token).amr).toEqual(['swk']);
  });

  it('renames a passkey, and removes it only with the password: it signs in no more', async () => {
    const { token, passkey, authenticator, login } = await withPasskey();
    const renamed = await api.call('PATCH', `/me/passkeys/${passkey.id}`, { token, json: { name: ' Work phone ' } });
    expect(renamed.body).toMatchObject({ id: passkey.id, name: 'Work phone' });
    const remove = (json: object) => api.call('POST', `/me/passkeys/${passkey.id}/remove`, { token, json });
    expect((await remove({ password: 'not it' })).body.code).toBe('WRONG_PASSWORD');
    const other = await withPasskey();
    expect(
      (await api.call('POST', `/me/passkeys/${other.passkey.id}/remove`, { token, json: { password: PASSWORD } }))
        .status,
    ).toBe(404);
    expect((await remove({ password: PASSWORD })).body).toEqual({ msg: 'Passkey removed' });
    expect((await api.call('GET', '/me/passkeys', { token })).body.items).toEqual([]);
    expect((await passkeySignIn(authenticator)).body.code).toBe('PASSKEY_REJECTED');
    expect((await api.login(login, PASSWORD)).body.access_token).toEqual(expect.any(String));
  });

  it('goes with the rest of the factors when an admin removes them, ending the sessions', async () => {
    const { id, token, authenticator } = await withPasskey();
    const admin = await api.signUp(uniqueLogin('passkey.admin'), PASSWORD);
    // This database's first account was another test's: this one is made admin in the database directly.
    await reader.read((db) =>
      db.updateTable('users').set({ user_role: 1 }).where('id_user', '=', admin.user.id_user).execute(),
    );
    const removed = await api.call('DELETE', `/users/${id}/mfa`, { token: admin.tokens.access_token });
    expect(removed.status).toBe(200);
    expect((await api.call('GET', '/me', { token })).body.code).toBe('TOKEN_REVOKED');
    expect((await passkeySignIn(authenticator)).body.code).toBe('PASSKEY_REJECTED');
    const left = await reader.read((db) => db.selectFrom('passkeys').select('id').where('user_id', '=', id).execute());
    expect(left).toEqual([]);
  });
});
