import { afterAll, beforeAll, expect, it } from 'vitest';
import { linkOf, type Mailbox, startMailbox } from '../../../test-support/mailbox.js';
import { LOCAL_PASSKEYS } from '../../../test-support/settings.js';
import { databaseReader, describeEachDatabase } from './support/databases.js';
import { restClient } from './support/http.js';
import { enrolTotp } from './support/mfa.js';
import { isolatedServerForTest, uniqueLogin, useIsolatedServer } from './support/server.js';

const PASSWORD = 'a mailbox of my own';
const NEW_PASSWORD = 'a password from the link';
const FROM = 'Api users <no-reply@example.com>';
const address = (login: string) => `${login}@example.com`;

describeEachDatabase('email: confirmation, forgotten passwords, changes (real SMTP)', (dialect) => {
  let mailbox: Mailbox;
  // Filled in before the server starts (hooks run in order): the server mails this test's SMTP server.
  const env: Record<string, string> = { MAIL_FROM: FROM, PRODUCT_NAME: 'Api users' };
  beforeAll(async () => {
    mailbox = await startMailbox();
    env.SMTP_URL = mailbox.url;
  });
  afterAll(() => mailbox.close());
  const server = useIsolatedServer(dialect, env);
  const reader = databaseReader(() => server.database.url);
  let api: ReturnType<typeof restClient>;
  beforeAll(() => {
    api = restClient(server.url);
  });

  /** An account registered with an email, confirmed through its mailed link. */
  async function confirmed(prefix = 'mail') {
    const login = uniqueLogin(prefix);
    const email = address(login);
    const reg = await api.register({ user_name: `Name of ${login}`, login, password: PASSWORD, email } as never);
    expect(reg.status).toBe(201);
    const { token } = linkOf(await mailbox.next(email));
    expect((await api.call('POST', '/email/verify', { json: { token } })).status).toBe(200);
    const pair = (await api.login(login, PASSWORD)).body;
    return { login, email, id: reg.body.id_user as number, token: pair.access_token as string };
  }

  it('mails a confirmation link at registration; the address counts once it is followed, once', async () => {
    const login = uniqueLogin('mail.reg');
    const email = address(login).toUpperCase();
    const reg = await api.register({ user_name: 'Mail Owner', login, password: PASSWORD, email } as never);
    expect(reg.status).toBe(201);
    expect(reg.body.email_verified).toBe(false);
    const mail = await mailbox.next(email.toLowerCase());
    expect(mail.from?.value).toEqual([{ name: 'Api users', address: 'no-reply@example.com' }]);
    expect(mail.subject).toBe('Api users: confirm your email address');
    const link = linkOf(mail);
    expect(link.page).toBe('verify');
    expect(link.url.startsWith('http://localhost:5000/dashboard/#/verify?token=ev.')).toBe(true);
    expect(mail.text).toMatch(/works once, until .+GMT/);
    expect(mail.html).toContain(`href="${link.url}"`);

    const token = (await api.login(login, PASSWORD)).body.access_token;
    expect((await api.call('GET', '/me/email', { token })).body).toEqual({ email: null, pending: email.toLowerCase() });
    expect((await api.call('POST', '/email/verify', { json: { token: link.token } })).body).toEqual({
      msg: 'Email address confirmed',
    });
    expect((await api.call('GET', '/me/email', { token })).body).toEqual({ email: email.toLowerCase(), pending: null });
    expect((await api.call('GET', '/me', { token })).body.email_verified).toBe(true);
    const again = await api.call('POST', '/email/verify', { json: { token: link.token } });
    expect([again.status, again.body.code]).toEqual([400, 'LINK_INVALID']);
    // Neither the link's token nor the address went into the logs.
    const logs = server.logs.join('');
    expect(logs).not.toContain(link.token);
    expect(logs).not.toContain(email.toLowerCase());
  });

  it('answers a forgotten password the same for any address, and mails only an account’s confirmed one', async () => {
    const user = await confirmed('mail.forgot');
    const forgot = (email: string) => api.call('POST', '/password/forgot', { json: { email } });
    const unknown = await forgot(address(uniqueLogin('nobody')));
    const known = await forgot(user.email);
    expect([known.status, known.body]).toEqual([unknown.status, unknown.body]);
    expect(known.body).toEqual({
      msg: 'If that address is an account’s confirmed one, a link to set a new password is on its way',
    });
    const mail = await mailbox.next(user.email);
    expect(mail.subject).toBe('Api users: set a new password');
    // The unknown address was asked first: had it been mailed, it would be there by now.
    expect(mailbox.messages.filter((m) => m.to && JSON.stringify(m.to).includes('nobody.'))).toEqual([]);

    const { token, page } = linkOf(mail);
    expect(page).toBe('reset');
    const reset = (json: object) => api.call('POST', '/password/reset', { json });
    expect((await reset({ token, new_password: 'password' })).body.code).toBe('VALIDATION_FAILED');
    expect((await reset({ token, new_password: NEW_PASSWORD })).body).toEqual({
      msg: 'Password set, and every session has ended: sign in with the new password',
    });
    expect((await api.call('GET', '/me', { token: user.token })).body.code).toBe('TOKEN_REVOKED');
    expect((await api.login(user.login, PASSWORD)).body.code).toBe('BAD_CREDENTIALS');
    expect((await api.login(user.login, NEW_PASSWORD)).status).toBe(200);
    expect((await reset({ token, new_password: 'yet another password' })).body.code).toBe('LINK_INVALID');
    const events = await reader.read((db) =>
      db.selectFrom('audit_events').select('type').where('target_id', '=', user.id).orderBy('id').execute(),
    );
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(['email_verified', 'password_reset_requested', 'password_reset']),
    );
  });

  it('keeps asking for the second factor after a reset', async () => {
    const user = await confirmed('mail.mfa');
    await enrolTotp(api, user.token, PASSWORD);
    await api.call('POST', '/password/forgot', { json: { email: user.email } });
    const { token } = linkOf(await mailbox.next(user.email));
    expect((await api.call('POST', '/password/reset', { json: { token, new_password: NEW_PASSWORD } })).status).toBe(
      200,
    );
    expect((await api.login(user.login, NEW_PASSWORD)).body).toMatchObject({ mfa_required: true });
  });

  it('changes an address only once the new one confirms, telling the old one; a newer link voids the older', async () => {
    const user = await confirmed('mail.change');
    const change = (email: string, password = PASSWORD) =>
      api.call('POST', '/me/email', { token: user.token, json: { email, password } });
    expect((await change(address('x'), 'not it')).body.code).toBe('WRONG_PASSWORD');
    const first = address(uniqueLogin('first'));
    const second = address(uniqueLogin('second'));
    expect((await change(first)).status).toBe(200);
    const firstLink = linkOf(await mailbox.next(first));
    expect((await mailbox.next(user.email)).subject).toBe('Api users: a change of your email address');
    expect((await change(second)).status).toBe(200);
    const secondLink = linkOf(await mailbox.next(second));
    expect((await api.call('GET', '/me/email', { token: user.token })).body).toEqual({
      email: user.email,
      pending: second,
    });
    expect((await api.call('POST', '/email/verify', { json: { token: firstLink.token } })).body.code).toBe(
      'LINK_INVALID',
    );
    expect((await api.call('POST', '/email/verify', { json: { token: secondLink.token } })).status).toBe(200);
    expect((await api.call('GET', '/me/email', { token: user.token })).body).toEqual({ email: second, pending: null });
  });

  it('lets only the first account confirm an address', async () => {
    const email = address(uniqueLogin('shared'));
    const a = await confirmed('mail.a');
    const b = await confirmed('mail.b');
    await api.call('POST', '/me/email', { token: a.token, json: { email, password: PASSWORD } });
    const linkA = linkOf(await mailbox.next(email));
    await api.call('POST', '/me/email', { token: b.token, json: { email, password: PASSWORD } });
    const linkB = linkOf(await mailbox.next(email));
    expect((await api.call('POST', '/email/verify', { json: { token: linkA.token } })).status).toBe(200);
    const taken = await api.call('POST', '/email/verify', { json: { token: linkB.token } });
    expect([taken.status, taken.body.code]).toEqual([409, 'EMAIL_TAKEN']);
  });

  it('retries a delivery the SMTP server turned away, and still answers at once', async () => {
    const user = await confirmed('mail.retry');
    mailbox.failNext(2);
    const started = Date.now();
    expect((await api.call('POST', '/password/forgot', { json: { email: user.email } })).status).toBe(200);
    const answeredIn = Date.now() - started;
    const mail = await mailbox.next(user.email);
    expect(mail.subject).toBe('Api users: set a new password');
    // Two refusals, two waits of the retries (0.5 s, then 1 s): the answer had not waited for them.
    expect(Date.now() - started).toBeGreaterThan(answeredIn + 1000);
  });

  it('gives up on a delivery refused every time, logging that it failed but not to whom', async () => {
    const user = await confirmed('mail.lost');
    mailbox.failNext(4);
    expect((await api.call('POST', '/password/forgot', { json: { email: user.email } })).status).toBe(200);
    const failed = async () => server.logs.find((l) => l.includes('mail could not be sent'));
    for (let i = 0; i < 100 && !(await failed()); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    const line = await failed();
    expect(JSON.parse(line as string)).toMatchObject({ mail: 'reset', responseCode: 451 });
    expect(line).not.toContain(user.email);
    expect(server.logs.join('')).not.toContain(user.email);
  });

  it('refuses a link past its time: a confirmation after a day, a reset after an hour', async () => {
    const clock = { now: Date.now() };
    const local = restClient((await isolatedServerForTest(dialect, env, { clock: () => clock.now })).url);
    const register = async () => {
      const login = uniqueLogin('mail.late');
      await local.register({ user_name: 'Late Reader', login, password: PASSWORD, email: address(login) } as never);
      return { email: address(login), link: linkOf(await mailbox.next(address(login))) };
    };
    const unread = await register();
    const reader = await register();
    expect((await local.call('POST', '/email/verify', { json: { token: reader.link.token } })).status).toBe(200);
    await local.call('POST', '/password/forgot', { json: { email: reader.email } });
    const reset = linkOf(await mailbox.next(reader.email));
    // An hour and a second later (no token is used from here on: the server's clock runs ahead of the verifier's).
    clock.now += 3600_000 + 1000;
    const lateReset = await local.call('POST', '/password/reset', {
      json: { token: reset.token, new_password: NEW_PASSWORD },
    });
    expect([lateReset.status, lateReset.body.code]).toEqual([400, 'LINK_INVALID']);
    // A day and a second after it was mailed, the confirmation link too.
    clock.now += 23 * 3600_000;
    const late = await local.call('POST', '/email/verify', { json: { token: unread.link.token } });
    expect([late.status, late.body.code]).toEqual([400, 'LINK_INVALID']);
  });

  it('limits the mails to one address, whatever the client', async () => {
    const limited = restClient((await isolatedServerForTest(dialect, { ...env, RATE_LIMIT_PER_EMAIL: '2' })).url);
    const email = address(uniqueLogin('flood'));
    for (let i = 0; i < 2; i++) {
      expect(
        (await limited.call('POST', '/password/forgot', { json: { email }, from: `127.0.0.${i + 2}` })).status,
      ).toBe(200);
    }
    const third = await limited.call('POST', '/password/forgot', {
      json: { email: email.toUpperCase() },
      from: '127.0.0.9',
    });
    expect(third.status).toBe(429);
    expect((await limited.call('POST', '/password/forgot', { json: { email: address('other') } })).status).toBe(200);
  });
});

describeEachDatabase('email without SMTP', (dialect) => {
  it('refuses what needs mail in production, saying why, and changes nothing', async () => {
    const production = await isolatedServerForTest(dialect, { NODE_ENV: 'production', ...LOCAL_PASSKEYS });
    const api = restClient(production.url);
    const refused = await api.call('POST', '/password/forgot', { json: { email: 'ada@example.com' } });
    expect([refused.status, refused.body]).toEqual([
      503,
      { code: 'MAIL_UNAVAILABLE', msg: 'This service cannot send mail now (no SMTP_URL is configured)' },
    ]);
    const login = uniqueLogin('nomail');
    const reg = await api.register({ user_name: 'No Mail', login, password: PASSWORD, email: address(login) } as never);
    expect(reg.body.code).toBe('MAIL_UNAVAILABLE');
    expect((await api.login(login, PASSWORD)).body.code).toBe('BAD_CREDENTIALS');
  });

  it('writes each mail to the log in development, one line saying where the link is', async () => {
    const development = await isolatedServerForTest(dialect, { NODE_ENV: 'development' });
    const api = restClient(development.url);
    const login = uniqueLogin('devmail');
    await api.register({ user_name: 'Dev Mail', login, password: PASSWORD, email: address(login) } as never);
    const line = development.logs.find((l) => l.includes('mail not sent (no SMTP_URL)'));
    expect(line).toBeDefined();
    expect(JSON.parse(line as string)).toMatchObject({
      mail: 'verify',
      to: address(login),
      link: expect.stringMatching(/^http:\/\/localhost:5000\/dashboard\/#\/verify\?token=ev\./),
    });
  });
});
