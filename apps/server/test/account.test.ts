import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase } from './support/databases.js';
import { restClient } from './support/http.js';
import { enrolTotp } from './support/mfa.js';
import { type OperationClient, operationClient, transports } from './support/operations.js';
import { uniqueLogin, useIsolatedServer } from './support/server.js';
import { claimsOf } from './support/tokens.js';

const PASSWORD = 'a fine long password';

interface Pair {
  access_token: string;
  refresh_token: string;
}

const sid = (pair: Pair) => claimsOf(pair.access_token).sid;

describeEachDatabase('account and admin operations', (dialect) => {
  const server = useIsolatedServer(dialect);
  let adminLogin: string;
  beforeAll(async () => {
    for (const transport of transports) {
      expect((await operationClient(server.url, transport)('setup')).body).toEqual({ first_run: true });
    }
    // The first account of an empty database may make itself admin; it stays the only enabled admin.
    adminLogin = uniqueLogin('admin');
    await restClient(server.url).signUp(adminLogin, PASSWORD, 1);
  });

  describe.each(transports)('over %s', (transport) => {
    let send: OperationClient;
    beforeAll(() => {
      send = operationClient(server.url, transport);
    });

    async function signIn(login: string, password = PASSWORD, userAgent = 'test-agent'): Promise<Pair> {
      const reply = await send('login', { login, password }, { headers: { 'user-agent': userAgent } });
      if (reply.status !== 200) throw new Error(`login: ${reply.status} ${JSON.stringify(reply.body)}`);
      return reply.body;
    }
    async function newUser(prefix: string, token?: string, user_role?: 1 | 2) {
      const login = uniqueLogin(`${transport}.${prefix}`);
      const reply = await send(
        'register',
        { user_name: `Name of ${login}`, login, password: PASSWORD, ...(user_role ? { user_role } : {}) },
        { token },
      );
      // 201 over REST; tRPC answers every success 200.
      if (reply.status >= 300) throw new Error(`register: ${reply.status} ${JSON.stringify(reply.body)}`);
      return { id: reply.body.id_user as number, login };
    }
    const codeOf = async (reply: Promise<{ status: number; body: { code?: string } }>) => {
      const { status, body } = await reply;
      return `${status} ${body.code ?? 'ok'}`;
    };
    const asAdmin = async () => ({ token: (await signIn(adminLogin)).access_token });

    it('reads the caller’s own account, lists its sessions per device and ends them', async () => {
      expect((await send('setup')).body).toEqual({ first_run: false });
      const { id, login } = await newUser('me');
      const phone = await signIn(login, PASSWORD, 'Phone/1.0');
      const laptop = await signIn(login, PASSWORD, 'Laptop/2.0');
      const onLaptop = { token: laptop.access_token };

      const me = await send('getMe', undefined, onLaptop);
      expect(me).toMatchObject({ status: 200, body: { id_user: id, login, user_role: 2, disabled: false } });

      const listed = await send('listMySessions', undefined, onLaptop);
      expect(listed.status).toBe(200);
      expect(listed.body.items).toEqual([
        {
          id: sid(laptop),
          created_at: expect.stringMatching(/^\d{4}-/),
          refreshed_at: null,
          expires_at: expect.stringMatching(/^\d{4}-/),
          client_address: '127.0.0.1',
          user_agent: 'Laptop/2.0',
          refreshed_client_address: null,
          refreshed_user_agent: null,
          current: true,
          amr: ['pwd'],
        },
        expect.objectContaining({ id: sid(phone), user_agent: 'Phone/1.0', current: false }),
      ]);
      expect(listed.body.next_cursor).toBeNull();
      // A page at a time, newest first.
      const first = await send('listMySessions', { limit: 1 }, onLaptop);
      const second = await send('listMySessions', { limit: 1, cursor: first.body.next_cursor }, onLaptop);
      expect([...first.body.items, ...second.body.items].map((s: { id: string }) => s.id)).toEqual([
        sid(laptop),
        sid(phone),
      ]);
      expect(second.body.next_cursor).toBeNull();

      // A refresh is remembered with the client that made it.
      const renewed = await send('refresh', undefined, {
        token: phone.refresh_token,
        headers: { 'user-agent': 'Phone/1.1' },
      });
      expect(renewed.status).toBe(200);
      const phoneNow = (await send('listMySessions', undefined, onLaptop)).body.items[1];
      expect(phoneNow).toMatchObject({
        user_agent: 'Phone/1.0',
        refreshed_user_agent: 'Phone/1.1',
        refreshed_client_address: '127.0.0.1',
        refreshed_at: expect.stringMatching(/^\d{4}-/),
      });

      // End the phone's session from the laptop: its tokens stop working at once.
      expect(await send('endMySession', { sid: sid(phone) }, onLaptop)).toMatchObject({
        status: 200,
        body: { ended: 1 },
      });
      expect(await codeOf(send('getMe', undefined, { token: renewed.body.access_token }))).toBe('401 TOKEN_REVOKED');
      expect(await codeOf(send('refresh', undefined, { token: renewed.body.refresh_token }))).toBe('401 TOKEN_REVOKED');
      expect(await codeOf(send('endMySession', { sid: sid(phone) }, onLaptop))).toBe('404 NOT_FOUND');
      // Nobody ends someone else's session.
      const other = await signIn((await newUser('other')).login);
      expect(await codeOf(send('endMySession', { sid: sid(other) }, onLaptop))).toBe('404 NOT_FOUND');
      expect(await codeOf(send('getMe', undefined, { token: other.access_token }))).toBe('200 ok');

      // Sign out everywhere else.
      const tablet = await signIn(login, PASSWORD, 'Tablet');
      const desktop = await signIn(login, PASSWORD, 'Desktop');
      expect(await send('endMyOtherSessions', undefined, onLaptop)).toMatchObject({ status: 200, body: { ended: 2 } });
      for (const pair of [tablet, desktop]) {
        expect(await codeOf(send('getMe', undefined, { token: pair.access_token }))).toBe('401 TOKEN_REVOKED');
      }
      const left = (await send('listMySessions', undefined, onLaptop)).body.items;
      expect(left.map((s: { id: string }) => s.id)).toEqual([sid(laptop)]);
    });

    it('says how each session was signed in (RFC 8176 amr), in its tokens, its listing and introspection', async () => {
      const { login } = await newUser('amr');
      const pair = await signIn(login);
      expect(claimsOf(pair.access_token).amr).toEqual(['pwd']);
      const renewed = (await send('refresh', undefined, { token: pair.refresh_token })).body;
      expect(claimsOf(renewed.access_token).amr).toEqual(['pwd']);
      const listed = (await send('listMySessions', undefined, { token: renewed.access_token })).body.items;
      expect(listed.map((s: { amr: string[] }) => s.amr)).toEqual([['pwd']]);
      const introspected = await send('introspect', { token: renewed.access_token });
      expect(introspected.body).toMatchObject({ active: true, amr: ['pwd'] });
    });

    it('renames the caller’s own account, recorded once, and nothing else about it', async () => {
      const { id, login } = await newUser('rename');
      const mine = { token: (await signIn(login)).access_token };
      const before = (await send('getMe', undefined, mine)).body;
      const renamed = await send('updateMe', { user_name: '  Ådne Ø. Brekke  ' }, mine);
      expect(renamed.status).toBe(200);
      expect(renamed.body).toEqual({ ...before, user_name: 'Ådne Ø. Brekke' });
      expect((await send('getMe', undefined, mine)).body).toEqual(renamed.body);
      // The new name is found by search, folded as every name is.
      const found = await send('listUsers', { q: 'ådne ø' }, mine);
      expect(found.body.items.map((u: { id_user: number }) => u.id_user)).toContain(id);
      // The same name again changes nothing and records nothing.
      expect((await send('updateMe', { user_name: 'Ådne Ø. Brekke' }, mine)).status).toBe(200);
      const events = await send('listAudit', { type: 'renamed', target_id: id }, await asAdmin());
      expect(events.body.items.map((e: { actor_id: number; target_id: number }) => [e.actor_id, e.target_id])).toEqual([
        [id, id],
      ]);
      // Only the name: a role or another field is refused, and so is a name no one could read.
      for (const input of [{ user_name: 'x', user_role: 1 }, { user_name: '' }, { user_name: 'a\u0000b' }, {}]) {
        expect(await codeOf(send('updateMe', input as never, mine))).toBe('400 VALIDATION_FAILED');
      }
      expect((await send('getMe', undefined, mine)).body).toEqual(renamed.body);
      expect(await codeOf(send('updateMe', { user_name: 'Anonymous' }))).toBe('401 AUTH_REQUIRED');
    });

    it('deletes the caller’s own account once its password is checked, with effect at once, and records it', async () => {
      const { id, login } = await newUser('leaving');
      const laptop = await signIn(login);
      const phone = await signIn(login);
      const mine = { token: laptop.access_token };
      // A wrong password, no password, a password in the query string: refused, and nothing changes.
      expect(await codeOf(send('deleteMe', { password: 'not my password' }, mine))).toBe('401 WRONG_PASSWORD');
      expect(await codeOf(send('deleteMe', {} as never, mine))).toBe('400 VALIDATION_FAILED');
      if (transport === 'rest') {
        const inUrl = await restClient(server.url).call('DELETE', `/me?password=${encodeURIComponent(PASSWORD)}`, mine);
        expect(`${inUrl.status} ${inUrl.body.code}`).toBe('400 VALIDATION_FAILED');
      }
      expect(await codeOf(send('getMe', undefined, mine))).toBe('200 ok');

      expect(await send('deleteMe', { password: PASSWORD }, mine)).toMatchObject({
        status: 200,
        body: { msg: 'Your account has been deleted' },
      });
      // Every token of every session is refused at once; the login signs in no more, and may be taken again.
      expect(await codeOf(send('getMe', undefined, { token: phone.access_token }))).toBe('401 TOKEN_REVOKED');
      expect(await codeOf(send('refresh', undefined, { token: phone.refresh_token }))).toMatch(/^401 /);
      expect(await codeOf(send('login', { login, password: PASSWORD }))).toBe('401 BAD_CREDENTIALS');
      const events = await send('listAudit', { type: 'deleted', target_id: id }, await asAdmin());
      expect(events.body.items.map((e: { actor_id: number; target_id: number }) => [e.actor_id, e.target_id])).toEqual([
        [id, id],
      ]);
      expect((await newUser('leaving.again')).id).not.toBe(id);
    });

    it('asks for a code too before deleting an account with an authenticator app on', async () => {
      const { login } = await newUser('leaving.mfa');
      const first = (await signIn(login)).access_token;
      const { recoveryCodes } = await enrolTotp(restClient(server.url), first, PASSWORD);
      // Sign-ins now ask for the code: the session of before the enrolment is still the caller's.
      const mine = { token: first };
      expect(await codeOf(send('deleteMe', { password: PASSWORD }, mine))).toBe('400 VALIDATION_FAILED');
      expect(await codeOf(send('deleteMe', { password: PASSWORD, code: '000000' }, mine))).toBe('401 BAD_CODE');
      expect(await codeOf(send('getMe', undefined, mine))).toBe('200 ok');
      expect(await codeOf(send('deleteMe', { password: PASSWORD, code: recoveryCodes[0] }, mine))).toBe('200 ok');
      expect(await codeOf(send('getMe', undefined, mine))).toBe('401 TOKEN_REVOKED');
    });

    it('changes the caller’s password: checked, ruled, every session ended, a new one’s pair', async () => {
      const { login } = await newUser('password');
      const mine = await signIn(login);
      const elsewhere = await signIn(login);
      const change = (current_password: string, new_password: string, pair = mine) =>
        send('changePassword', { current_password, new_password }, { token: pair.access_token });

      const wrong = await change('not the password', 'a brand new passphrase');
      expect(wrong.status).toBe(401);
      expect(wrong.body).toEqual({ code: 'WRONG_PASSWORD', msg: 'The current password is wrong' });
      // A wrong password is not a refused token: no bearer challenge, and the token still works.
      expect(wrong.headers.get('www-authenticate')).toBeNull();
      expect(await codeOf(send('getMe', undefined, { token: mine.access_token }))).toBe('200 ok');
      const weak = await change(PASSWORD, 'password123');
      expect(weak.status).toBe(400);
      expect(weak.body.issues.map((i: { path: string }) => i.path)).toEqual(['new_password']);
      expect((await change(PASSWORD, 'short')).body.issues.map((i: { path: string }) => i.path)).toEqual([
        'new_password',
      ]);

      const changed = await change(PASSWORD, 'a brand new passphrase');
      expect(changed.status).toBe(200);
      expect(changed.body).toMatchObject({ token_type: 'Bearer', access_token: expect.any(String) });
      // A new session: no token issued before the change works, the caller's own included (a thief's copy).
      expect(claimsOf(changed.body.access_token).sid).not.toBe(sid(mine));
      for (const token of [mine.access_token, elsewhere.access_token]) {
        expect(await codeOf(send('getMe', undefined, { token }))).toBe('401 TOKEN_REVOKED');
      }
      expect(await codeOf(send('refresh', undefined, { token: mine.refresh_token }))).toBe('401 TOKEN_REVOKED');
      const sessions = (await send('listMySessions', undefined, { token: changed.body.access_token })).body.items;
      expect(sessions.map((s: { id: string; current: boolean }) => [s.id, s.current])).toEqual([
        [claimsOf(changed.body.access_token).sid, true],
      ]);
      expect(await codeOf(send('getMe', undefined, { token: changed.body.access_token }))).toBe('200 ok');
      expect(await codeOf(send('refresh', undefined, { token: changed.body.refresh_token }))).toBe('200 ok');
      expect(await codeOf(send('login', { login, password: PASSWORD }))).toBe('401 BAD_CREDENTIALS');
      expect(await codeOf(send('login', { login, password: 'a brand new passphrase' }))).toBe('200 ok');
    });

    it('lets an admin rename, promote, demote, disable and enable an account, with effect at once', async () => {
      const admin = await asAdmin();
      const user = await newUser('managed');
      const before = await signIn(user.login);
      const patch = (change: Record<string, unknown>) => send('updateUser', { id: user.id, ...change }, admin);

      const renamed = await patch({ user_name: '  Ådne Ørsted  ' });
      expect(renamed).toMatchObject({ status: 200, body: { id_user: user.id, user_name: 'Ådne Ørsted' } });
      expect((await patch({})).body).toEqual(renamed.body);
      expect((await patch({ user_name: 'Ådne Ørsted' })).body).toEqual(renamed.body);
      // One rename, one event, the admin its actor.
      const renames = await send('listAudit', { type: 'renamed', target_id: user.id }, admin);
      expect(renames.body.items.map((e: { actor_id: number }) => e.actor_id)).toEqual([
        Number(claimsOf(admin.token).sub),
      ]);

      // Promotion counts at once for the token already held; demotion ends the sessions.
      expect((await patch({ user_role: 1 })).body.user_role).toBe(1);
      expect(await codeOf(send('listAudit', { limit: 1 }, { token: before.access_token }))).toBe('200 ok');
      expect((await patch({ user_role: 2 })).body.user_role).toBe(2);
      expect(await codeOf(send('getMe', undefined, { token: before.access_token }))).toBe('401 TOKEN_REVOKED');
      expect(await codeOf(send('refresh', undefined, { token: before.refresh_token }))).toBe('401 TOKEN_REVOKED');

      // Disabled: tokens refused at once; the password still checked first.
      const held = await signIn(user.login);
      expect((await patch({ disabled: true })).body.disabled).toBe(true);
      expect(await codeOf(send('getMe', undefined, { token: held.access_token }))).toBe('401 TOKEN_REVOKED');
      expect(await codeOf(send('refresh', undefined, { token: held.refresh_token }))).toBe('401 TOKEN_REVOKED');
      const refused = await send('login', { login: user.login, password: PASSWORD });
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ code: 'ACCOUNT_DISABLED', msg: expect.any(String) });
      expect(await codeOf(send('login', { login: user.login, password: 'a wrong password' }))).toBe(
        '401 BAD_CREDENTIALS',
      );
      expect((await send('userById', { id: user.id }, admin)).body.disabled).toBe(true);

      expect((await patch({ disabled: false })).body.disabled).toBe(false);
      expect(await codeOf(send('getMe', undefined, { token: (await signIn(user.login)).access_token }))).toBe('200 ok');
      expect(await codeOf(send('updateUser', { id: 2_147_483_647, disabled: true }, admin))).toBe('404 NOT_FOUND');
    });

    it('lets an admin set a password, list and end an account’s sessions, and delete it', async () => {
      const admin = await asAdmin();
      const user = await newUser('target');
      const held = await signIn(user.login);
      const set = (new_password: string, id = user.id) => send('setUserPassword', { id, new_password }, admin);

      expect((await set('123456789')).body.issues.map((i: { path: string }) => i.path)).toEqual(['new_password']);
      // The account's own login is no password for it (NIST SP 800-63B's context-specific words).
      const same = await set(user.login.toUpperCase());
      expect(same.body.issues).toEqual([
        { path: 'new_password', message: 'The password must not be the login; choose another' },
      ]);
      expect(await set('set by an admin today')).toMatchObject({ status: 200, body: { msg: expect.any(String) } });
      expect(await codeOf(send('getMe', undefined, { token: held.access_token }))).toBe('401 TOKEN_REVOKED');
      expect(await codeOf(send('login', { login: user.login, password: PASSWORD }))).toBe('401 BAD_CREDENTIALS');
      expect(await codeOf(set('set by an admin today', 2_147_483_647))).toBe('404 NOT_FOUND');

      const one = await signIn(user.login, 'set by an admin today', 'One');
      const two = await signIn(user.login, 'set by an admin today', 'Two');
      const listed = await send('listUserSessions', { id: user.id }, admin);
      expect(listed.status).toBe(200);
      expect(listed.body.items.map((s: { id: string; current: boolean }) => [s.id, s.current])).toEqual([
        [sid(two), false],
        [sid(one), false],
      ]);
      expect(await send('endUserSession', { id: user.id, sid: sid(one) }, admin)).toMatchObject({
        status: 200,
        body: { ended: 1 },
      });
      expect(await codeOf(send('getMe', undefined, { token: one.access_token }))).toBe('401 TOKEN_REVOKED');
      expect(await codeOf(send('getMe', undefined, { token: two.access_token }))).toBe('200 ok');
      expect(await codeOf(send('endUserSession', { id: user.id, sid: sid(one) }, admin))).toBe('404 NOT_FOUND');
      // A session is ended only through the account it belongs to.
      const adminSession = claimsOf(admin.token).sid;
      expect(await codeOf(send('endUserSession', { id: user.id, sid: adminSession }, admin))).toBe('404 NOT_FOUND');
      const three = await signIn(user.login, 'set by an admin today', 'Three');
      expect(await send('endUserSessions', { id: user.id }, admin)).toMatchObject({ status: 200, body: { ended: 2 } });
      for (const pair of [two, three]) {
        expect(await codeOf(send('getMe', undefined, { token: pair.access_token }))).toBe('401 TOKEN_REVOKED');
      }
      expect((await send('listUserSessions', { id: user.id }, admin)).body.items).toEqual([]);
      expect(await codeOf(send('listUserSessions', { id: 2_147_483_647 }, admin))).toBe('404 NOT_FOUND');
      expect(await codeOf(send('endUserSessions', { id: 2_147_483_647 }, admin))).toBe('404 NOT_FOUND');

      const last = await signIn(user.login, 'set by an admin today');
      expect(await send('deleteUser', { id: user.id }, admin)).toMatchObject({
        status: 200,
        body: { msg: expect.any(String) },
      });
      expect(await codeOf(send('getMe', undefined, { token: last.access_token }))).toBe('401 TOKEN_REVOKED');
      expect(await codeOf(send('refresh', undefined, { token: last.refresh_token }))).toBe('401 TOKEN_REVOKED');
      expect(await codeOf(send('userById', { id: user.id }, admin))).toBe('404 NOT_FOUND');
      expect(await codeOf(send('deleteUser', { id: user.id }, admin))).toBe('404 NOT_FOUND');
      // Its audit events stay.
      const events = await send('listAudit', { target_id: user.id, limit: 100 }, admin);
      expect(events.body.items.map((e: { type: string }) => e.type)).toContain('deleted');
      expect(events.body.items.map((e: { type: string }) => e.type)).toContain('register');
    });

    it('refuses the admin operations to a plain user, and never removes the last enabled admin', async () => {
      const plain = await newUser('plain');
      const asPlain = { token: (await signIn(plain.login)).access_token };
      const id = plain.id;
      const refusals = await Promise.all([
        codeOf(send('updateUser', { id, user_role: 1 }, asPlain)),
        codeOf(send('deleteUser', { id }, asPlain)),
        codeOf(send('setUserPassword', { id, new_password: 'a password I chose' }, asPlain)),
        codeOf(send('listUserSessions', { id }, asPlain)),
        codeOf(send('endUserSessions', { id }, asPlain)),
        codeOf(send('endUserSession', { id, sid: claimsOf(asPlain.token).sid }, asPlain)),
        codeOf(send('listAudit', {}, asPlain)),
      ]);
      expect(refusals).toEqual(Array(7).fill('403 FORBIDDEN'));
      expect((await send('getMe', undefined, asPlain)).body).toMatchObject({ user_role: 2, disabled: false });

      const admin = await asAdmin();
      const adminId = Number(claimsOf(admin.token).sub);
      const lastAdmin = '409 LAST_ADMIN';
      expect(await codeOf(send('updateUser', { id: adminId, user_role: 2 }, admin))).toBe(lastAdmin);
      expect(await codeOf(send('updateUser', { id: adminId, disabled: true }, admin))).toBe(lastAdmin);
      expect(await codeOf(send('deleteUser', { id: adminId }, admin))).toBe(lastAdmin);
      expect(await codeOf(send('deleteMe', { password: PASSWORD }, admin))).toBe(lastAdmin);
      // A disabled admin is no admin: it does not let the last enabled one go.
      const dormant = await newUser('dormant', admin.token, 1);
      expect(await codeOf(send('updateUser', { id: dormant.id, disabled: true }, admin))).toBe('200 ok');
      expect(await codeOf(send('updateUser', { id: adminId, user_role: 2 }, admin))).toBe(lastAdmin);
      // An enabled one does: a second admin may demote itself, or be deleted.
      const second = await newUser('second', admin.token, 1);
      const asSecond = { token: (await signIn(second.login)).access_token };
      expect((await send('updateUser', { id: second.id, user_role: 2 }, asSecond)).body.user_role).toBe(2);
      expect(await codeOf(send('deleteUser', { id: dormant.id }, admin))).toBe('200 ok');
      expect(await send('getMe', undefined, admin)).toMatchObject({ status: 200, body: { user_role: 1 } });
    });
  });
});
