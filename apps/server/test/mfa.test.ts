import { beforeAll, expect, it } from 'vitest';
import { databaseReader, describeEachDatabase } from './support/databases.js';
import { restClient } from './support/http.js';
import { enrolTotp, signInWithCode, stepClock } from './support/mfa.js';
import { isolatedServerForTest, uniqueLogin, useIsolatedServer } from './support/server.js';
import { claimsOf } from './support/tokens.js';

const PASSWORD = 'a second factor too';

describeEachDatabase('second factor (TOTP)', (dialect) => {
  const clock = stepClock();
  const server = useIsolatedServer(dialect, clock.settings, { clock: clock.now });
  const reader = databaseReader(() => server.database.url);
  let api: ReturnType<typeof restClient>;
  beforeAll(() => {
    api = restClient(server.url);
  });

  /** A new account with an authenticator app enrolled, and the pair of the session that enrolled it. */
  async function enrolled(prefix = 'mfa') {
    const login = uniqueLogin(prefix);
    const { user, tokens } = await api.signUp(login, PASSWORD);
    const factor = await enrolTotp(api, tokens.access_token, PASSWORD, clock.now());
    // The enrolling code's step is spent: the next code the tests use is the next step's.
    clock.advance(1);
    return { login, id: user.id_user as number, tokens, ...factor };
  }

  it('enrols in two steps: nothing changes at sign-in until a code confirms the app', async () => {
    const login = uniqueLogin('mfa.enrol');
    const { tokens } = await api.signUp(login, PASSWORD);
    const token = tokens.access_token;
    const started = await api.call('POST', '/me/mfa/totp', { token });
    expect(started.status).toBe(200);
    const { secret, otpauth_uri, qr_svg } = started.body;
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    const uri = new URL(otpauth_uri);
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.searchParams.get('secret')).toBe(secret);
    expect(uri.searchParams.get('issuer')).toBe('Api users');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe(`/Api users:${login}`);
    expect(qr_svg).toMatch(/^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);

    // Not on yet: the password alone still signs in.
    expect((await api.login(login, PASSWORD)).body.access_token).toEqual(expect.any(String));
    expect((await api.call('GET', '/me/mfa', { token })).body).toEqual({
      totp: false,
      recovery_codes_left: 0,
      passkeys: 0,
    });

    const confirm = (json: object) => api.call('POST', '/me/mfa/totp/confirm', { token, json });
    const code = await clock.code(secret);
    expect((await confirm({ password: 'not the password', code })).body.code).toBe('WRONG_PASSWORD');
    expect((await confirm({ password: PASSWORD, code: code === '000000' ? '111111' : '000000' })).body).toEqual({
      code: 'BAD_CODE',
      msg: 'The code is wrong, out of date or already used',
    });
    expect((await confirm({ password: PASSWORD, code: await clock.code(secret, 2) })).body.code).toBe('BAD_CODE');
    const confirmed = await confirm({ password: PASSWORD, code: `${code.slice(0, 3)} ${code.slice(3)}` });
    expect(confirmed.status).toBe(200);
    const codes: string[] = confirmed.body.recovery_codes;
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const c of codes) expect(c).toMatch(/^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$/);
    expect((await api.call('GET', '/me/mfa', { token })).body).toEqual({
      totp: true,
      recovery_codes_left: 10,
      passkeys: 0,
    });
    expect((await confirm({ password: PASSWORD, code })).body.code).toBe('MFA_ALREADY_ENABLED');
    expect((await api.call('POST', '/me/mfa/totp', { token })).body.code).toBe('MFA_ALREADY_ENABLED');

    // Only digests are stored: no recovery code is in the database as it was shown.
    const stored = await reader.read((db) => db.selectFrom('recovery_codes').select('code_digest').execute());
    const digests = stored.map((row) => row.code_digest).join(' ');
    for (const c of codes) {
      expect(digests).not.toContain(c);
      expect(digests).not.toContain(c.replaceAll('-', ''));
    }
    // Nothing secret in the logs: not the app's secret, not a code.
    const logs = server.logs.join('');
    expect(logs).not.toContain(secret);
    for (const c of codes) expect(logs).not.toContain(c);
  });

  it('asks for the code after the password, and the pair comes only with it', async () => {
    const user = await enrolled();
    const first = await api.login(user.login, PASSWORD);
    expect(first.status).toBe(200);
    expect(first.body).toEqual({
      mfa_required: true,
      mfa_token: expect.stringMatching(/^mfa\./),
      expires_in: 300,
      methods: ['totp', 'recovery_code'],
    });
    expect(first.body).not.toHaveProperty('access_token');
    const second = await api.call('POST', '/login/mfa', {
      json: { mfa_token: first.body.mfa_token, code: await clock.code(user.secret) },
    });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ token_type: 'Bearer', device_token: expect.any(String) });
    expect(claimsOf(second.body.access_token)).toMatchObject({ amr: ['pwd', 'otp'], sub: String(user.id) });
    const sessions = await api.call('GET', '/me/sessions', { token: second.body.access_token });
    expect(sessions.body.items.find((s: { current: boolean }) => s.current).amr).toEqual(['pwd', 'otp']);
    // The challenge was spent by the sign-in it finished.
    const again = await api.call('POST', '/login/mfa', {
      json: { mfa_token: first.body.mfa_token, code: user.recoveryCodes[0] },
    });
    expect(again.body.code).toBe('MFA_CHALLENGE_INVALID');
    const events = await reader.read((db) =>
      db.selectFrom('audit_events').select(['type', 'detail']).where('target_id', '=', user.id).orderBy('id').execute(),
    );
    expect(events.map((e) => [e.type, e.detail])).toEqual([
      ['register', null],
      ['login', null],
      ['mfa_started', null],
      ['mfa_enabled', null],
      ['mfa_challenged', null],
      ['login', 'totp'],
    ]);
  });

  it('takes one step of clock skew either way, not two', async () => {
    const user = await enrolled();
    // A step on, so that the step before is newer than the one the enrolment spent.
    clock.advance(1);
    for (const steps of [-1, 1]) {
      const reply = await signInWithCode(api, user.login, PASSWORD, await clock.code(user.secret, steps));
      expect(reply.status, `${steps} step`).toBe(200);
      // Each accepted code moves the floor: step on so the next test's codes are newer.
      clock.advance(3);
    }
    for (const steps of [-2, 2]) {
      const reply = await signInWithCode(api, user.login, PASSWORD, await clock.code(user.secret, steps));
      expect(reply.body.code, `${steps} steps`).toBe('BAD_CODE');
    }
  });

  it('refuses a code used once, and any older one, within its window', async () => {
    const user = await enrolled();
    const code = await clock.code(user.secret);
    expect((await signInWithCode(api, user.login, PASSWORD, code)).status).toBe(200);
    expect((await signInWithCode(api, user.login, PASSWORD, code)).body.code).toBe('BAD_CODE');
    expect((await signInWithCode(api, user.login, PASSWORD, await clock.code(user.secret, -1))).body.code).toBe(
      'BAD_CODE',
    );
    // Sent twice at once: one sign-in, one refusal.
    const next = await clock.code(user.secret, 1);
    const raced = await Promise.all([1, 2].map(() => signInWithCode(api, user.login, PASSWORD, next)));
    expect(raced.map((r) => r.status).sort()).toEqual([200, 401]);
    clock.advance(3);
  });

  it('takes each recovery code once, however it is typed', async () => {
    const user = await enrolled();
    const [first = '', second = ''] = user.recoveryCodes;
    const used = await signInWithCode(api, user.login, PASSWORD, first);
    expect(used.status).toBe(200);
    expect(claimsOf(used.body.access_token).amr).toEqual(['pwd', 'otp']);
    expect((await signInWithCode(api, user.login, PASSWORD, first)).body.code).toBe('BAD_CODE');
    const typed = second.toUpperCase().replaceAll('-', ' ');
    expect((await signInWithCode(api, user.login, PASSWORD, typed)).status).toBe(200);
    const token = used.body.access_token;
    expect((await api.call('GET', '/me/mfa', { token })).body).toEqual({
      totp: true,
      recovery_codes_left: 8,
      passkeys: 0,
    });
    const detail = await reader.read((db) =>
      db
        .selectFrom('audit_events')
        .select('detail')
        .where('target_id', '=', user.id)
        .where('type', '=', 'login')
        .orderBy('id', 'desc')
        .executeTakeFirstOrThrow(),
    );
    expect(detail.detail).toBe('recovery_code');
  });

  it('refuses the challenge token as any other token, after its attempts and after it expires', async () => {
    const user = await enrolled();
    const { mfa_token } = (await api.login(user.login, PASSWORD)).body;
    for (const [method, path] of [
      ['GET', '/me'],
      ['POST', '/refresh'],
      ['DELETE', '/logout2'],
      ['DELETE', '/logout'],
    ] as const) {
      const reply = await api.call(method, path, { token: mfa_token });
      expect(reply.status, `${method} ${path}`).toBe(401);
      expect(reply.body.code).toBe('INVALID_TOKEN');
    }
    expect((await api.call('POST', '/introspect', { json: { token: mfa_token } })).body).toEqual({ active: false });
    // A token of the right shape whose secret is not the challenge's is no challenge.
    const forged = `${mfa_token.slice(0, -4)}AAAA`;
    const code = await clock.code(user.secret);
    expect((await api.call('POST', '/login/mfa', { json: { mfa_token: forged, code } })).body.code).toBe(
      'MFA_CHALLENGE_INVALID',
    );

    // Five wrong codes spend it: the right one after them is too late.
    const wrong = code === '123456' ? '654321' : '123456';
    for (let i = 0; i < 5; i++) {
      expect((await api.call('POST', '/login/mfa', { json: { mfa_token, code: wrong } })).body.code).toBe('BAD_CODE');
    }
    expect((await api.call('POST', '/login/mfa', { json: { mfa_token, code } })).body.code).toBe(
      'MFA_CHALLENGE_INVALID',
    );

    // Five minutes later a fresh challenge has expired.
    const late = (await api.login(user.login, PASSWORD)).body.mfa_token;
    clock.advance(301 / 30);
    const expired = await api.call('POST', '/login/mfa', {
      json: { mfa_token: late, code: await clock.code(user.secret) },
    });
    expect(expired.status).toBe(401);
    expect(expired.body).toEqual({
      code: 'MFA_CHALLENGE_INVALID',
      msg: 'This sign-in has expired or was finished; sign in again',
    });
  });

  it('turns off, and changes the password, only with the password and a code', async () => {
    const user = await enrolled();
    const token = user.tokens.access_token;
    const disable = (json: object) => api.call('POST', '/me/mfa/disable', { token, json });
    expect((await disable({ password: PASSWORD })).body.code).toBe('VALIDATION_FAILED');
    expect((await disable({ password: 'wrong', code: user.recoveryCodes[0] })).body.code).toBe('WRONG_PASSWORD');
    expect((await disable({ password: PASSWORD, code: '000000' })).body.code).toBe('BAD_CODE');

    const change = (json: object) => api.call('POST', '/me/password', { token, json });
    const noCode = await change({ current_password: PASSWORD, new_password: 'a brand new password' });
    expect(noCode.status).toBe(400);
    expect(noCode.body.issues).toEqual([{ path: 'code', message: expect.stringContaining('second factor') }]);
    const changed = await change({
      current_password: PASSWORD,
      new_password: 'a brand new password',
      code: user.recoveryCodes[1],
    });
    expect(changed.status).toBe(200);
    expect(claimsOf(changed.body.access_token).amr).toEqual(['pwd', 'otp']);

    const fresh = changed.body.access_token;
    const off = await api.call('POST', '/me/mfa/disable', {
      token: fresh,
      json: { password: 'a brand new password', code: await clock.code(user.secret) },
    });
    expect(off.status).toBe(200);
    expect((await api.call('GET', '/me/mfa', { token: fresh })).body).toEqual({
      totp: false,
      recovery_codes_left: 0,
      passkeys: 0,
    });
    expect((await api.login(user.login, 'a brand new password')).body.access_token).toEqual(expect.any(String));
    expect(
      (await api.call('POST', '/me/mfa/disable', { token: fresh, json: { password: PASSWORD, code: '123456' } })).body
        .code,
    ).toBe('MFA_NOT_ENABLED');
    clock.advance(3);
  });

  it('gives new recovery codes: the old ones stop at once', async () => {
    const user = await enrolled();
    const token = user.tokens.access_token;
    const renewed = await api.call('POST', '/me/mfa/recovery-codes', {
      token,
      json: { password: PASSWORD, code: user.recoveryCodes[0] },
    });
    expect(renewed.status).toBe(200);
    const fresh: string[] = renewed.body.recovery_codes;
    expect(fresh).toHaveLength(10);
    expect(fresh.some((c) => user.recoveryCodes.includes(c))).toBe(false);
    expect((await signInWithCode(api, user.login, PASSWORD, user.recoveryCodes[1] ?? '')).body.code).toBe('BAD_CODE');
    expect((await signInWithCode(api, user.login, PASSWORD, fresh[0] ?? '')).status).toBe(200);
  });

  it('lets an admin remove a user’s factors, ending the user’s sessions', async () => {
    const admin = await api.signUp(uniqueLogin('mfa.admin'), PASSWORD);
    const user = await enrolled();
    // This database's first account was made by another test: make this admin with the CLI's SQL instead.
    await reader.read((db) =>
      db.updateTable('users').set({ user_role: 1 }).where('id_user', '=', admin.user.id_user).execute(),
    );
    const asAdmin = { token: admin.tokens.access_token };
    expect((await api.call('DELETE', `/users/${user.id}/mfa`, { token: user.tokens.access_token })).status).toBe(403);
    const removed = await api.call('DELETE', `/users/${user.id}/mfa`, asAdmin);
    expect(removed.status).toBe(200);
    expect((await api.call('GET', '/me', { token: user.tokens.access_token })).body.code).toBe('TOKEN_REVOKED');
    expect((await api.login(user.login, PASSWORD)).body.access_token).toEqual(expect.any(String));
    expect((await api.call('DELETE', `/users/${user.id}/mfa`, asAdmin)).body.code).toBe('MFA_NOT_ENABLED');
    expect((await api.call('DELETE', '/users/2147483647/mfa', asAdmin)).body.code).toBe('NOT_FOUND');
    const event = await reader.lastAuditEvent();
    expect(event).toBeDefined();
    const removal = await reader.read((db) =>
      db.selectFrom('audit_events').selectAll().where('type', '=', 'mfa_removed').executeTakeFirstOrThrow(),
    );
    expect(removal).toMatchObject({ actor_id: admin.user.id_user, target_id: user.id });
  });

  it('counts wrong codes as wrong passwords: per client, and per account except for a device it knows', async () => {
    const limits = {
      RATE_LIMIT_PER_ADDRESS: '0',
      RATE_LIMIT_FAILURES_PER_ACCOUNT_ADDRESS: '3',
      RATE_LIMIT_FAILURES_PER_ADDRESS: '100',
      RATE_LIMIT_FAILURES_PER_ACCOUNT: '6',
      RATE_LIMIT_FAILURES_PER_DEVICE: '10',
    };
    const limited = restClient(
      (await isolatedServerForTest(dialect, { ...limits, ...clock.settings }, { clock: clock.now })).url,
    );
    const login = uniqueLogin('mfa.limits');
    const { tokens } = await limited.signUp(login, PASSWORD);
    const { secret } = await enrolTotp(limited, tokens.access_token, PASSWORD, clock.now());
    clock.advance(1);
    const owner = await signInWithCode(limited, login, PASSWORD, await clock.code(secret));
    clock.advance(1);
    const right = await clock.code(secret);
    const wrong = right === '123456' ? '654321' : '123456';
    /** A sign-in from `from` (another address on the loopback) finished with `code`. */
    async function attempt(from: string, code: string, device_token?: string) {
      const json = { login, password: PASSWORD, ...(device_token ? { device_token } : {}) };
      const first = await limited.call('POST', '/login', { json, from });
      return limited.call('POST', '/login/mfa', { json: { mfa_token: first.body.mfa_token, code }, from });
    }
    for (let i = 0; i < 3; i++) expect((await attempt('127.0.0.2', wrong)).body.code).toBe('BAD_CODE');
    expect((await attempt('127.0.0.2', right)).status).toBe(429);
    for (let i = 0; i < 3; i++) expect((await attempt('127.0.0.3', wrong)).body.code).toBe('BAD_CODE');
    // The account's ceiling: a client it does not know waits, even with the right code...
    expect((await attempt('127.0.0.4', right)).status).toBe(429);
    // ...but not its owner's device.
    expect((await attempt('127.0.0.5', right, owner.body.device_token)).status).toBe(200);
    clock.advance(3);
  });

  it('with MFA_REQUIRED_FOR_ADMINS, lets an admin without a second factor only enrol one', async () => {
    const strict = restClient(
      (
        await isolatedServerForTest(
          dialect,
          { MFA_REQUIRED_FOR_ADMINS: 'true', ...clock.settings },
          { clock: clock.now },
        )
      ).url,
    );
    // The first account of an empty database may make itself admin.
    const admin = await strict.signUp(uniqueLogin('mfa.strict'), PASSWORD, 1);
    const token = admin.tokens.access_token;
    const users = await strict.call('GET', '/users', { token });
    expect(users.status).toBe(403);
    expect(users.body.code).toBe('MFA_ENROLMENT_REQUIRED');
    expect((await strict.call('GET', '/me', { token })).status).toBe(200);
    const plain = await strict.signUp(uniqueLogin('mfa.plain'), PASSWORD);
    expect((await strict.call('GET', '/me/sessions', { token: plain.tokens.access_token })).status).toBe(200);
    await enrolTotp(strict, token, PASSWORD, clock.now());
    clock.advance(1);
    expect((await strict.call('GET', '/users', { token })).status).toBe(200);
  });
});
