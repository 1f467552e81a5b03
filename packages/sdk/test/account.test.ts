import { operationNames } from '@api-users/contract';
import { generate } from 'otplib';
import { describe, expect, it } from 'vitest';
import { softwareAuthenticator } from '../../../test-support/authenticator.js';
import { pairOf } from '../../../test-support/sign-in.js';
import {
  ApiError,
  type InputOf,
  isMfaRequired,
  memoryDeviceStore,
  memoryTokenStore,
  type OperationName,
  type Tokens,
} from '../src/index.js';
import { accessStatus, adminLogin, apiUrl, countingFetch, PASSWORD, uniqueLogin } from './support/helpers.js';
import { type Calls, type Client, transportNames, transports } from './support/transports.js';

const NEW_PASSWORD = 'a password of my own';
const SET_PASSWORD = 'set by the sdk admin';

/** The same client, noting the name of every operation called through it. */
function tracked(client: Client, called: Set<OperationName>): Client {
  const calls = Object.fromEntries(
    operationNames.map((name) => [
      name,
      (input?: unknown) => {
        called.add(name);
        return (client[name] as (input?: unknown) => Promise<unknown>)(input);
      },
    ]),
  ) as Calls;
  return { ...calls, signOut: client.signOut };
}

describe.each(transportNames)('account and admin operations over %s', (transport) => {
  const make = (
    options: {
      tokenStore?: ReturnType<typeof memoryTokenStore>;
      fetch?: typeof fetch;
      deviceStore?: ReturnType<typeof memoryDeviceStore>;
    } = {},
  ) => transports[transport]({ baseUrl: apiUrl(), ...options });

  it('calls every operation of the table, keeping the token store in step', async () => {
    const called = new Set<OperationName>();
    const store = memoryTokenStore();
    const refreshes = countingFetch('refresh');
    const devices = memoryDeviceStore();
    const me = tracked(make({ tokenStore: store, fetch: refreshes.fetch, deviceStore: devices }), called);
    const admin = tracked(make(), called);
    const login = uniqueLogin(`Account.${transport}`);

    expect(await me.setup()).toEqual({ first_run: false });
    const user = await me.register({ user_name: 'Account Owner', login, password: PASSWORD });
    await me.login({ login, password: PASSWORD });
    expect(await me.getMe()).toEqual(user);
    expect(await me.updateMe({ user_name: 'Account Owner, Renamed' })).toEqual({
      ...user,
      user_name: 'Account Owner, Renamed',
    });
    await me.updateMe({ user_name: user.user_name });
    expect(await me.userById({ id: user.id_user })).toEqual(user);
    // What a page's next_cursor says goes back in as it is, null included.
    expect((await me.listUsers({ q: login.toUpperCase(), cursor: null })).items).toEqual([user]);

    // Another device signs in; its session is listed, and ended from here.
    await make().login({ login, password: PASSWORD });
    const sessions = await me.listMySessions({ cursor: null });
    expect(sessions.items.map((session) => session.current)).toEqual([false, true]);
    expect(await me.endMySession({ sid: sessions.items[0]?.id as string })).toEqual({ ended: 1 });
    await make().login({ login, password: PASSWORD });
    expect(await me.endMyOtherSessions()).toEqual({ ended: 1 });

    // A wrong password is no refused token: no refresh, the session untouched.
    const before = store.get() as Tokens;
    const wrong = await me.changePassword({ current_password: 'not it', new_password: NEW_PASSWORD }).catch((e) => e);
    expect(wrong).toBeInstanceOf(ApiError);
    expect(wrong).toMatchObject({ status: 401, code: 'WRONG_PASSWORD' });
    expect(refreshes.count()).toBe(0);
    expect(store.get()).toEqual(before);
    const pair = await me.changePassword({ current_password: PASSWORD, new_password: NEW_PASSWORD });
    expect(store.get()).toEqual({ access_token: pair.access_token, refresh_token: pair.refresh_token });
    expect(await me.introspect({ token: pair.access_token })).toMatchObject({
      active: true,
      sub: String(user.id_user),
    });
    expect((await me.refresh()).token_type).toBe('Bearer');

    // A second factor: enrolled, asked for at the next sign-in and given (a recovery code), then turned off.
    expect(await me.getMfa()).toEqual({ totp: false, recovery_codes_left: 0, passkeys: 0 });
    const { secret } = await me.startTotp();
    const code = await generate({ secret });
    const { recovery_codes: codes } = await me.confirmTotp({ password: NEW_PASSWORD, code });
    const held = store.get();
    const challenge = await me.login({ login, password: NEW_PASSWORD });
    if (!isMfaRequired(challenge)) throw new Error('the sign-in did not ask for the second factor');
    expect(store.get()).toEqual(held);
    const finished = await me.loginMfa({ mfa_token: challenge.mfa_token, code: codes[0] as string });
    expect(store.get()).toEqual({ access_token: finished.access_token, refresh_token: finished.refresh_token });
    expect(await devices.get(login.toLowerCase())).toBe(finished.device_token);
    const renewed = await me.regenerateRecoveryCodes({ password: NEW_PASSWORD, code: codes[1] as string });
    expect(renewed.recovery_codes).toHaveLength(10);
    const off = await me.disableMfa({ password: NEW_PASSWORD, code: renewed.recovery_codes[0] as string });
    expect(off).toHaveProperty('msg');

    // An email address: the change waits for its link (mailed; this server writes it to its log), so the ops
    // that take a link's token are shown refusing one that is none.
    const email = `${login.toLowerCase()}@example.com`;
    expect(await me.changeEmail({ email, password: NEW_PASSWORD })).toHaveProperty('msg');
    expect(await me.getEmail()).toEqual({ email: null, pending: email });
    await expect(me.verifyEmail({ token: 'ev.not-a-link' })).rejects.toMatchObject({ code: 'LINK_INVALID' });
    expect(await me.forgotPassword({ email })).toHaveProperty('msg');
    await expect(
      me.resetPassword({ token: 'pr.not-a-link', new_password: 'a good new password' }),
    ).rejects.toMatchObject({
      code: 'LINK_INVALID',
    });

    // A passkey, added after the password, signs in alone (a software authenticator plays the browser's part).
    const authenticator = softwareAuthenticator({ origin: `http://localhost:${new URL(apiUrl()).port}` });
    const registration = await me.startPasskeyRegistration({ password: NEW_PASSWORD });
    const response = authenticator.register(registration.options) as InputOf<'addPasskey'>['response'];
    const passkey = await me.addPasskey({ ceremony_id: registration.ceremony_id, response });
    expect(await me.listPasskeys()).toEqual({ items: [passkey] });
    expect(await me.renamePasskey({ id: passkey.id, name: 'Laptop' })).toMatchObject({ name: 'Laptop' });
    const begun = await me.startPasskeySignIn();
    const answer = authenticator.authenticate(begun.options) as InputOf<'loginPasskey'>['response'];
    const byPasskey = await me.loginPasskey({ ceremony_id: begun.ceremony_id, response: answer });
    expect(store.get()).toEqual({ access_token: byPasskey.access_token, refresh_token: byPasskey.refresh_token });
    expect(await me.removePasskey({ id: passkey.id, password: NEW_PASSWORD })).toEqual({ msg: 'Passkey removed' });

    await admin.login({ login: adminLogin(), password: PASSWORD });
    expect(await admin.updateUser({ id: user.id_user, user_name: 'Renamed Owner' })).toMatchObject({
      user_name: 'Renamed Owner',
    });
    // The password change's session, the second factor's and the passkey's.
    expect((await admin.listUserSessions({ id: user.id_user })).items).toHaveLength(3);
    expect(await admin.getUserLockout({ id: user.id_user })).toEqual({ locked: false, retry_after: null });
    expect(await admin.liftUserLockout({ id: user.id_user })).toEqual({ lifted: false });
    await expect(admin.removeUserMfa({ id: user.id_user })).rejects.toMatchObject({ code: 'MFA_NOT_ENABLED' });
    const hook = await admin.createWebhook({ url: 'http://127.0.0.1:9/hooks', event_types: ['user.updated'] });
    expect(hook.secret).toMatch(/^whsec_/);
    expect((await admin.listWebhooks()).items.map((item) => item.id)).toContain(hook.id);
    expect(await admin.updateWebhook({ id: hook.id, enabled: false })).toMatchObject({ enabled: false });
    expect((await admin.rotateWebhookSecret({ id: hook.id })).secret).not.toBe(hook.secret);
    expect(await admin.testWebhook({ id: hook.id })).toHaveProperty('msg');
    const [queued] = (await admin.listWebhookDeliveries({ id: hook.id })).items;
    expect(queued).toMatchObject({ event_type: 'webhook.test', status: 'pending' });
    expect(await admin.redeliverWebhook({ id: hook.id, delivery: queued?.id ?? 0 })).toHaveProperty('msg');
    expect(await admin.deleteWebhook({ id: hook.id })).toHaveProperty('msg');
    expect(await admin.setUserPassword({ id: user.id_user, new_password: SET_PASSWORD })).toHaveProperty('msg');
    // The owner's session ended with it: the next call's refresh is refused, and the store is cleared.
    await expect(me.getMe()).rejects.toMatchObject({ status: 401, code: 'TOKEN_REVOKED' });
    expect(store.get()).toBeNull();

    const phone = pairOf(await me.login({ login, password: SET_PASSWORD }));
    const sid = JSON.parse(atob(phone.access_token.split('.')[1] ?? '')).sid as string;
    expect(await admin.endUserSession({ id: user.id_user, sid })).toEqual({ ended: 1 });
    await me.login({ login, password: SET_PASSWORD });
    expect(await admin.endUserSessions({ id: user.id_user })).toEqual({ ended: 1 });
    const events = await admin.listAudit({ target_id: user.id_user, limit: 100, cursor: null });
    expect(events.items.map((event) => event.type).slice(0, 5)).toEqual([
      'session_ended',
      'login',
      'session_ended',
      'login',
      'password_set',
    ]);

    await me.login({ login, password: SET_PASSWORD });
    expect(await me.logout()).toEqual({ msg: 'Access token revoked' });
    await me.login({ login, password: SET_PASSWORD });
    expect(await me.logoutRefresh()).toEqual({ msg: 'Refresh token revoked' });
    expect(await admin.deleteUser({ id: user.id_user })).toEqual({ msg: `User ${user.id_user} deleted` });
    await expect(me.login({ login, password: SET_PASSWORD })).rejects.toMatchObject({ code: 'BAD_CREDENTIALS' });

    // An owner deletes their own account: the store is cleared, as by signing out.
    const leaving = uniqueLogin(`Leaving.${transport}`);
    await me.register({ user_name: 'Leaving Soon', login: leaving, password: PASSWORD });
    await me.login({ login: leaving, password: PASSWORD });
    // A wrong password is refused and signs no one out.
    await expect(me.deleteMe({ password: 'not it' })).rejects.toMatchObject({ code: 'WRONG_PASSWORD' });
    expect(store.get()).not.toBeNull();
    expect(await me.deleteMe({ password: PASSWORD })).toEqual({ msg: 'Your account has been deleted' });
    expect(store.get()).toBeNull();
    await expect(me.login({ login: leaving, password: PASSWORD })).rejects.toMatchObject({ code: 'BAD_CREDENTIALS' });

    expect([...called].sort()).toEqual([...operationNames].sort());
  });

  it('keeps the device token of each sign-in and sends it with the next sign-in to that login, untold', async () => {
    const sent: unknown[] = [];
    const watching: typeof fetch = (input, init) => {
      if (String(input).includes('login')) sent.push(JSON.parse(String(init?.body)));
      return fetch(input, init);
    };
    const devices = memoryDeviceStore();
    const login = uniqueLogin(`Device.${transport}`);
    const first = make({ fetch: watching, deviceStore: devices });
    await first.register({ user_name: 'Known Device', login, password: PASSWORD });
    const pair = pairOf(await first.login({ login, password: PASSWORD }));
    expect(pair.device_token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}$/);
    // Another client on the same device store (a new page load, say), the login typed in other case.
    const again = pairOf(
      await make({ fetch: watching, deviceStore: devices }).login({ login: login.toUpperCase(), password: PASSWORD }),
    );
    expect(sent).toEqual([
      { login, password: PASSWORD },
      { login: login.toUpperCase(), password: PASSWORD, device_token: pair.device_token },
    ]);
    // Each sign-in brings a new one, kept for the next.
    expect(await devices.get(login.toLowerCase())).toBe(again.device_token);
  });

  it('signs out: the session ended on the server, the store cleared, even for a session already ended', async () => {
    const store = memoryTokenStore();
    const api = make({ tokenStore: store });
    const login = uniqueLogin(`SignOut.${transport}`);
    await api.register({ user_name: 'Signing Out', login, password: PASSWORD });
    const pair = pairOf(await api.login({ login, password: PASSWORD }));
    await api.signOut();
    expect(store.get()).toBeNull();
    // logoutRefresh ended the session: its access token stopped working too.
    expect(await accessStatus(pair.access_token)).toBe(401);
    // Nothing stored: nothing to end.
    await api.signOut();

    await api.login({ login, password: PASSWORD });
    await make({ tokenStore: memoryTokenStore(store.get() as Tokens) }).logoutRefresh();
    await api.signOut();
    expect(store.get()).toBeNull();
  });

  it('clears the store on sign-out even when the server cannot be reached, and says so', async () => {
    const store = memoryTokenStore({ access_token: 'a.b.c', refresh_token: 'd.e.f' });
    const api = transports[transport]({ baseUrl: 'http://127.0.0.1:1', tokenStore: store });
    await expect(api.signOut()).rejects.toMatchObject({ code: 'NETWORK_ERROR' });
    expect(store.get()).toBeNull();
  });
});
