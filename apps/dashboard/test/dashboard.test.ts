import { existsSync, mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { REST_PREFIX } from '@api-users/sdk';
import { verifyWebhook } from '@api-users/sdk/server';
import { generate } from 'otplib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { hasChromium, launchChromium } from '../../../test-support/chromium.js';
import { linkOf, type Mailbox, startMailbox } from '../../../test-support/mailbox.js';
import { startReceiver } from '../../../test-support/receiver.js';
import { type ServerProcess, spawnServer } from '../../../test-support/spawn-server.js';

const DASHBOARD_INDEX = fileURLToPath(new URL('../dist/index.html', import.meta.url));
const RESULTS = fileURLToPath(new URL('../test-results/', import.meta.url));
const README_SCREENSHOT = fileURLToPath(new URL('../screenshot.png', import.meta.url));
/** As in src/api.ts (which needs a browser to be imported). */
const TOKENS_KEY = 'api-users.dashboard.tokens';
const PASSWORD = 'a fine long password';
const PLAIN = { user_name: 'Charles Babbage', login: 'charles', password: PASSWORD };
/** What the admin sets Charles's password to, on his page. */
const CHARLES_NEW = 'a password from the admin';
/** What Ada changes her own password to, on her account page. */
const ADA_NEW = 'my own new passphrase';
/** What two browsers send as their User-Agent. */
const FIREFOX_ON_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0';
const SAFARI_ON_IPHONE =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1';
/** A phone's viewport: no page may be wider. */
const PHONE = { width: 390, height: 844 };
/** More users than one page (20) holds, so "Load more" has something to load. */
const OTHERS = 22;

interface Tokens {
  access_token: string;
  refresh_token: string;
}

describe.skipIf(!hasChromium())('dashboard in Chromium, served by the API server', () => {
  let server: ServerProcess;
  /** The SMTP server the API mails its links to. */
  let mailbox: Mailbox;
  /** A webhook receiver. */
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let browser: Browser;
  /** The admin's tab, shared by the scenarios in order: sign in, browse, create, sign out. */
  let page: Page;
  /** Console errors other than failed requests (which the 4xx scenarios cause): CSP violations, exceptions. */
  const consoleErrors: string[] = [];

  const rest = async (method: string, path: string, bearer?: string, body?: object): Promise<Response> =>
    fetch(`${server.url}${REST_PREFIX}${path}`, {
      method,
      headers: {
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });

  async function newPage(viewport = { width: 1100, height: 760 }): Promise<Page> {
    const context = await browser.newContext({ viewport });
    const tab = await context.newPage();
    tab.on('console', (message) => {
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        consoleErrors.push(message.text());
      }
    });
    tab.on('pageerror', (error) => consoleErrors.push(error.message));
    return tab;
  }

  const tokensIn = async (tab: Page): Promise<Tokens | null> =>
    JSON.parse((await tab.evaluate((key) => sessionStorage.getItem(key), TOKENS_KEY)) ?? 'null') as Tokens | null;

  const errorFor = (tab: Page, field: string) => tab.locator(`[data-error-for="${field}"]`);

  const screenshot = (tab: Page, name: string) => tab.screenshot({ path: `${RESULTS}${name}.png`, fullPage: true });

  async function signIn(tab: Page, login: string, password: string): Promise<void> {
    await tab.goto(`${server.url}/dashboard`);
    await tab.fill('input[name="login"]', login);
    await tab.fill('input[name="password"]', password);
    await tab.click('button[type="submit"]');
  }

  beforeAll(async () => {
    mkdirSync(RESULTS, { recursive: true });
    // The built server serving the built dashboard, as `pnpm start` runs it.
    if (!existsSync(DASHBOARD_INDEX))
      throw new Error(`${DASHBOARD_INDEX} is missing: run \`pnpm exec turbo run build\``);
    mailbox = await startMailbox();
    receiver = await startReceiver();
    // Webhooks may reach this test's receiver on the loopback.
    server = await spawnServer({
      LOG_LEVEL: 'warn',
      SMTP_URL: mailbox.url,
      MAIL_FROM: 'Api users <no-reply@example.com>',
      WEBHOOK_ALLOW_PRIVATE: 'true',
    });
    browser = await launchChromium();
    page = await newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await mailbox?.close();
    await receiver?.close();
  });

  /** Answers the confirmation dialog an action opens. */
  async function confirm(tab: Page, action: string, answer: 'confirm' | 'cancel' = 'confirm'): Promise<void> {
    await tab.click(`button:text-is("${action}")`);
    await tab.locator('dialog[open]').waitFor();
    await tab.click(`dialog[open] button[value="${answer}"]`);
    await tab.locator('dialog').waitFor({ state: 'detached' });
  }

  it('offers the first-run form on an empty database, and makes its account the admin', async () => {
    await page.goto(`${server.url}/dashboard`);
    await page.locator('h1', { hasText: 'Create the first admin' }).waitFor();
    await page.click('button[type="submit"]');
    await errorFor(page, 'login').filter({ hasText: 'At least 3 characters' }).waitFor();
    await screenshot(page, '0-first-run');
    await page.fill('input[name="user_name"]', 'Ada Lovelace');
    await page.fill('input[name="login"]', 'ada');
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await page.locator('header .who', { hasText: 'Ada Lovelace (ada)' }).waitFor();
    expect(await page.locator('header .badge').textContent()).toBe('admin');

    // The others, through the API.
    expect((await rest('POST', '/register', undefined, PLAIN)).status).toBe(201);
    for (let i = 1; i <= OTHERS; i++) {
      const user = { user_name: `Test user ${i}`, login: `user${i}`, password: PASSWORD };
      expect((await rest('POST', '/register', undefined, user)).status).toBe(201);
    }
    await page.click('header >> text=Sign out');
    await page.locator('h1', { hasText: 'Sign in' }).waitFor();
  });

  it('shows the API’s errors on the sign-in form, then signs in', async () => {
    await signIn(page, 'x', '');
    await errorFor(page, 'login').filter({ hasText: 'At least 3 characters' }).waitFor();
    expect(await errorFor(page, 'password').textContent()).toMatch(/^(Required|At least 8 characters)/);

    await signIn(page, 'ada', 'not the password');
    await errorFor(page, '').filter({ hasText: 'Wrong login or password' }).waitFor();
    expect(await errorFor(page, '').textContent()).toBe('Wrong login or password (401 BAD_CREDENTIALS)');
    expect(page.url()).toBe(`${server.url}/dashboard/`);
    await screenshot(page, '1-sign-in-error');

    await signIn(page, 'ada', PASSWORD);
    await page.locator('header .who', { hasText: 'Ada Lovelace (ada)' }).waitFor();
    expect(await page.locator('header .badge').textContent()).toBe('admin');
    expect(await tokensIn(page)).toMatchObject({ access_token: expect.any(String), refresh_token: expect.any(String) });
  });

  it('lists the users a page at a time', async () => {
    const rows = page.locator('tbody tr');
    await page.locator('h1', { hasText: '20 shown' }).waitFor();
    expect(await rows.count()).toBe(20);
    expect(await rows.first().locator('td').allTextContents()).toEqual([
      '1',
      'Ada Lovelace',
      'ada',
      'admin',
      'enabled',
      expect.any(String),
    ]);
    await screenshot(page, '2-users');
    // The README's picture changes only when asked for, so that a test run leaves the work tree clean.
    if (process.env.UPDATE_SCREENSHOT) await page.screenshot({ path: README_SCREENSHOT });

    await page.click('text=Load more');
    await page.locator('h1', { hasText: `${OTHERS + 2} shown` }).waitFor();
    expect(await rows.last().locator('td').nth(2).textContent()).toBe(`user${OTHERS}`);
    expect(await page.locator('text=Load more').isHidden()).toBe(true);
  });

  it('opens a user, and says so when there is none', async () => {
    await page.click('text=Charles Babbage');
    await page.locator('h1', { hasText: 'User #2' }).waitFor();
    await page.locator('dd code', { hasText: 'charles' }).waitFor();
    expect(await page.locator('dd').allTextContents()).toEqual([
      '2',
      'Charles Babbage',
      'charles',
      'user',
      'enabled',
      expect.any(String),
    ]);
    await screenshot(page, '3-user');

    await page.goto(`${server.url}/dashboard/#/users/999`);
    await page.locator('[role="alert"]', { hasText: '404 NOT_FOUND' }).waitFor();
  });

  it('creates an admin as an admin, with field errors first', async () => {
    await page.click('header a[href="#/users/new"]');
    await page.fill('input[name="user_name"]', 'Grace Hopper');
    await page.fill('input[name="login"]', 'x');
    await page.fill('input[name="password"]', 'short');
    await page.selectOption('select[name="user_role"]', '1');
    await page.click('button[type="submit"]');
    await errorFor(page, 'login').filter({ hasText: 'At least 3 characters' }).waitFor();
    expect(await errorFor(page, 'password').textContent()).toMatch(/^(Required|At least 8 characters)/);
    expect(await page.getAttribute('input[name="login"]', 'aria-invalid')).toBe('true');
    await screenshot(page, '4-new-user-errors');

    await page.fill('input[name="login"]', 'ada');
    await page.fill('input[name="password"]', PASSWORD);
    await page.click('button[type="submit"]');
    await errorFor(page, 'login').filter({ hasText: 'That login is already taken (409 LOGIN_TAKEN)' }).waitFor();

    await page.fill('input[name="login"]', 'grace');
    await page.click('button[type="submit"]');
    await page.locator('.success', { hasText: 'Created Grace Hopper (grace, admin).' }).waitFor();
    await screenshot(page, '5-new-user-created');
    const id = OTHERS + 3;
    const access = (await tokensIn(page))?.access_token;
    expect(await (await rest('GET', `/users/${id}`, access)).json()).toMatchObject({ login: 'grace', user_role: 1 });
  });

  it('searches the users and filters them by role and status', async () => {
    await page.click('header a[href="#/users"]');
    await page.locator('h1', { hasText: '20 shown' }).waitFor();
    await page.fill('input[name="q"]', 'USER1');
    await page.click('form.filters button[type="submit"]');
    // user1 and user10 to user19: the login starts with it, whatever the case.
    await page.locator('h1', { hasText: '11 shown' }).waitFor();
    await screenshot(page, '5a-search');
    await page.fill('input[name="q"]', '');
    await page.selectOption('select[name="role"]', '1');
    await page.click('form.filters button[type="submit"]');
    await page.locator('h1', { hasText: '2 shown' }).waitFor();
    expect(await page.locator('tbody tr td:nth-child(3)').allTextContents()).toEqual(['ada', 'grace']);
    await page.selectOption('select[name="role"]', '');
    await page.selectOption('select[name="disabled"]', 'true');
    await page.click('form.filters button[type="submit"]');
    await page.locator('h1', { hasText: '0 shown' }).waitFor();
  });

  it('manages a user as an admin, each change confirmed first, errors said plainly', async () => {
    await page.goto(`${server.url}/dashboard/#/users/2`);
    const status = page.locator('dd').nth(4);
    const role = page.locator('dd').nth(3);
    await role.filter({ hasText: 'user' }).waitFor();
    const said = page.locator('.admin-panel > .outcome').first();

    await confirm(page, 'Make admin', 'cancel');
    expect(await role.textContent()).toBe('user');
    await confirm(page, 'Make admin');
    await role.filter({ hasText: 'admin' }).waitFor();
    await confirm(page, 'Make user');
    await role.filter({ hasText: 'user' }).waitFor();

    await confirm(page, 'Disable');
    await status.filter({ hasText: 'disabled' }).waitFor();
    expect((await rest('POST', '/login', undefined, { login: 'charles', password: PASSWORD })).status).toBe(403);
    await screenshot(page, '5b-user-disabled');
    await confirm(page, 'Enable');
    await status.filter({ hasText: 'enabled' }).waitFor();

    await page.fill('input[name="new_password"]', 'short');
    await confirm(page, 'Set password');
    await said.filter({ hasText: '400 VALIDATION_FAILED' }).waitFor();
    expect(await said.textContent()).toMatch(/At least 8 characters/);
    await page.fill('input[name="new_password"]', CHARLES_NEW);
    await confirm(page, 'Set password');
    await said.filter({ hasText: 'Password set' }).waitFor();

    // Two devices sign in, named by their browser and system; one is signed out, then all.
    for (const agent of [FIREFOX_ON_LINUX, SAFARI_ON_IPHONE]) {
      const signedIn = await fetch(`${server.url}${REST_PREFIX}/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': agent },
        body: JSON.stringify({ login: 'charles', password: CHARLES_NEW }),
      });
      expect(signedIn.status).toBe(200);
    }
    await page.reload();
    const sessions = page.locator('table.sessions tbody tr');
    await sessions.nth(1).waitFor();
    expect(await sessions.count()).toBe(2);
    expect(
      await sessions
        .locator('td:nth-child(2) > span')
        .evaluateAll((spans) => spans.map((s) => s.firstChild?.textContent)),
    ).toEqual(['Safari 18 on iOS', 'Firefox 133 on Linux']);
    await screenshot(page, '5c-user-sessions');
    await sessions.first().locator('button').click();
    await page.click('dialog[open] button[value="confirm"]');
    await page.locator('.admin-panel > .outcome', { hasText: 'Session ended.' }).waitFor();
    expect(await sessions.count()).toBe(1);
    await confirm(page, 'End all sessions');
    await page.locator('.sessions-empty').waitFor();

    // A user is renamed; the page shows the new name, and so does the API.
    await page.goto(`${server.url}/dashboard/#/users/3`);
    const rename = page.locator('form.rename');
    await rename.locator('input[name="user_name"]').fill('');
    await rename.locator('button[type="submit"]').click();
    await rename.locator('[data-error-for="user_name"]').filter({ hasText: /\S/ }).waitFor();
    await rename.locator('input[name="user_name"]').fill('Test user one');
    await rename.locator('button[type="submit"]').click();
    await page.locator('dd', { hasText: 'Test user one' }).waitFor();
    const ada = (await tokensIn(page))?.access_token;
    expect(await (await rest('GET', '/users/3', ada)).json()).toMatchObject({ user_name: 'Test user one' });

    // Grace is deleted (after a change of mind); then Ada is the last admin, and cannot make herself a user.
    await page.goto(`${server.url}/dashboard/#/users/${OTHERS + 3}`);
    await page.locator('dd code', { hasText: 'grace' }).waitFor();
    await confirm(page, 'Delete', 'cancel');
    expect(await page.locator('dd code').textContent()).toBe('grace');
    await confirm(page, 'Delete');
    await page.locator('h1', { hasText: 'Users' }).waitFor();
    expect((await rest('POST', '/login', undefined, { login: 'grace', password: PASSWORD })).status).toBe(401);
    await page.goto(`${server.url}/dashboard/#/users/1`);
    await page.locator('dd code', { hasText: 'ada' }).waitFor();
    await confirm(page, 'Make user');
    await page.locator('.admin-panel > .outcome', { hasText: '409 LAST_ADMIN' }).waitFor();
  });

  it('changes the admin’s own password and ends her other sessions on her account page', async () => {
    await page.click('header a[href="#/me"]');
    await page.locator('h1', { hasText: 'My account' }).waitFor();
    await page.fill('input[name="user_name"]', '');
    await page.click('button:text-is("Rename")');
    await errorFor(page, 'user_name').filter({ hasText: /./ }).waitFor();
    await page.fill('input[name="user_name"]', 'Ada, Countess of Lovelace');
    await page.click('button:text-is("Rename")');
    await page.locator('.success', { hasText: 'Your name is now Ada, Countess of Lovelace.' }).waitFor();
    await page.locator('dd', { hasText: 'Ada, Countess of Lovelace' }).waitFor();
    const { access_token } = (await tokensIn(page)) as Tokens;
    expect(((await (await rest('GET', '/me', access_token)).json()) as { user_name: string }).user_name).toBe(
      'Ada, Countess of Lovelace',
    );
    await page.fill('input[name="current_password"]', 'not my password');
    await page.fill('input[name="new_password"]', ADA_NEW);
    await page.click('button:text-is("Change password")');
    await errorFor(page, '').filter({ hasText: 'The current password is wrong (401 WRONG_PASSWORD)' }).waitFor();
    await page.fill('input[name="current_password"]', PASSWORD);
    await page.fill('input[name="new_password"]', '12345678');
    await page.click('button:text-is("Change password")');
    await errorFor(page, 'new_password').filter({ hasText: 'commonly used' }).waitFor();

    const other = (await (
      await rest('POST', '/login', undefined, { login: 'ada', password: PASSWORD })
    ).json()) as Tokens;
    const before = await tokensIn(page);
    await page.fill('input[name="new_password"]', ADA_NEW);
    await page.click('button:text-is("Change password")');
    await page.locator('.success', { hasText: 'Password changed' }).waitFor();
    // The tab goes on with the new session's pair; every earlier session has ended, the tab's own included.
    expect((await tokensIn(page))?.refresh_token).not.toBe(before?.refresh_token);
    for (const token of [other.access_token, before?.access_token])
      expect((await rest('GET', '/me', token)).status).toBe(401);

    const another = (await (
      await rest('POST', '/login', undefined, { login: 'ada', password: ADA_NEW })
    ).json()) as Tokens;
    await page.click('header a[href="#/users"]');
    await page.click('header a[href="#/me"]');
    const sessions = page.locator('table.sessions tbody tr');
    await sessions.nth(1).waitFor();
    expect(await page.locator('table.sessions .badge', { hasText: 'this tab' }).count()).toBe(1);
    await screenshot(page, '5d-my-account');
    await confirm(page, 'Sign out everywhere else');
    await page.locator('.outcome', { hasText: '1 other session ended.' }).waitFor();
    expect(await sessions.count()).toBe(1);
    expect((await rest('GET', '/me', another.access_token)).status).toBe(401);
  });

  it('shows the audit log to an admin, filtered by type and actor', async () => {
    await page.click('header a[href="#/audit"]');
    const events = page.locator('table.audit tbody tr');
    await events.first().waitFor();
    await page.selectOption('select[name="type"]', 'login_failed');
    await page.click('form.filters button[type="submit"]');
    await page
      .locator('table.audit tbody tr td:nth-child(2)', { hasText: 'login_failed bad_password' })
      .first()
      .waitFor();
    const types = await page.locator('table.audit tbody tr td:nth-child(2)').allTextContents();
    expect(types.length).toBeGreaterThan(0);
    expect(types.every((type) => type.startsWith('login_failed'))).toBe(true);
    await screenshot(page, '5e-audit');
    // By login, not id; each account shown by name and login, a deleted one as such.
    await page.selectOption('select[name="type"]', '');
    await page.fill('input[name="actor"]', 'nobody-at-all');
    await page.click('form.filters button[type="submit"]');
    await page.locator('p.error', { hasText: 'No account has the login nobody-at-all' }).waitFor();
    await page.fill('input[name="actor"]', 'ADA');
    await page.click('form.filters button[type="submit"]');
    const deletion = page.locator('table.audit tbody tr', { hasText: 'deleted' });
    await deletion
      .locator('td:nth-child(4)', { hasText: `#${OTHERS + 3}, deleted` })
      .first()
      .waitFor();
    await page
      .locator('table.audit tbody tr td:nth-child(4)', { hasText: 'Charles Babbage (charles)' })
      .first()
      .waitFor();
    const actors = await page.locator('table.audit tbody tr td:nth-child(3)').allTextContents();
    // Her name as it is now (she renamed herself on her account page).
    expect(new Set(actors)).toEqual(new Set(['Ada, Countess of Lovelace (ada)']));
  });

  it('keeps the session when the access token stops working (automatic refresh)', async () => {
    const before = await tokensIn(page);
    expect((await rest('DELETE', '/logout', before?.access_token)).status).toBe(200);
    await page.click('header a[href="#/users"]');
    await page.locator('h1', { hasText: '20 shown' }).waitFor();
    const after = await tokensIn(page);
    expect(after?.access_token).not.toBe(before?.access_token);
    expect(after?.refresh_token).not.toBe(before?.refresh_token);
  });

  it('signs out: both tokens revoked and forgotten, the pages gone', async () => {
    const tokens = await tokensIn(page);
    await page.click('header >> text=Sign out');
    await page.locator('.notice', { hasText: 'Signed out.' }).waitFor();
    await screenshot(page, '6-signed-out');
    expect(await tokensIn(page)).toBeNull();
    // logoutRefresh ended the session: its refresh token and its access tokens.
    expect((await rest('GET', '/users', tokens?.access_token)).status).toBe(401);
    expect((await rest('POST', '/refresh', tokens?.refresh_token)).status).toBe(401);

    await page.goto(`${server.url}/dashboard/#/users`);
    await page.locator('h1', { hasText: 'Sign in' }).waitFor();
    expect(await page.locator('table').count()).toBe(0);
  });

  it('shows a plain user no admin action, the 403 for creating an admin, and ends a session revoked elsewhere', async () => {
    const plain = await newPage();
    await signIn(plain, PLAIN.login, CHARLES_NEW);
    await plain.locator('header .badge', { hasText: 'user' }).waitFor();
    expect(await plain.locator('header nav a').allTextContents()).toEqual(['Users', 'New user', 'My account']);
    await plain.goto(`${server.url}/dashboard/#/audit`);
    await plain.locator('.notice', { hasText: 'The audit log is for admins.' }).waitFor();
    for (const id of [1, 2]) {
      await plain.goto(`${server.url}/dashboard/#/users/${id}`);
      await plain
        .locator('dl dd')
        .first()
        .filter({ hasText: String(id) })
        .waitFor();
      expect(await plain.locator('.admin-panel, button.danger').count()).toBe(0);
    }
    await plain.click('header a[href="#/me"]');
    await plain.locator('h1', { hasText: 'My account' }).waitFor();
    expect(await plain.locator('.admin-panel').count()).toBe(0);
    await screenshot(plain, '7a-plain-account');
    await plain.click('header a[href="#/users/new"]');
    // The page renders after the click: wait for it before counting.
    const hint = plain.locator('.hint', { hasText: 'Only an admin can create an admin' });
    await hint.waitFor();
    expect(await hint.count()).toBe(1);
    await plain.fill('input[name="user_name"]', 'Mallory');
    await plain.fill('input[name="login"]', 'mallory');
    await plain.fill('input[name="password"]', PASSWORD);
    await plain.selectOption('select[name="user_role"]', '1');
    await plain.click('button[type="submit"]');
    await errorFor(plain, 'user_role')
      .filter({ hasText: 'Only an admin can create an admin account (403 FORBIDDEN)' })
      .waitFor();
    await screenshot(plain, '7-forbidden');
    expect((await rest('POST', '/login', undefined, { login: 'mallory', password: PASSWORD })).status).toBe(401);

    // The session ends on the server (another device signing out everywhere, say): the next call's refresh
    // is refused and the dashboard goes back to the sign-in page, saying why.
    expect((await rest('DELETE', '/logout2', (await tokensIn(plain))?.refresh_token)).status).toBe(200);
    await plain.click('header a[href="#/users"]');
    const notice = plain.locator('.notice', { hasText: 'Please sign in again' });
    await notice.waitFor();
    expect(await notice.textContent()).toBe('The session has ended. Please sign in again.');
    expect(await tokensIn(plain)).toBeNull();
  });

  it('enrols an authenticator app from the QR page, then asks for a code at sign-in', async () => {
    const grace = { user_name: 'Grace Hopper', login: 'grace', password: PASSWORD };
    expect((await rest('POST', '/register', undefined, grace)).status).toBe(201);
    const tab = await newPage();
    await signIn(tab, grace.login, grace.password);
    await tab.locator('header .who', { hasText: 'Grace Hopper (grace)' }).waitFor();
    await tab.click('header a[href="#/me"]');
    await tab.click('button:text-is("Set up an authenticator app")');
    const enrol = tab.locator('form:has(img.qr)');
    await enrol.waitFor();
    // The QR code is an image the browser could draw.
    expect(
      await enrol.locator('img.qr').evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth),
    ).toBeGreaterThan(0);
    await screenshot(tab, '9-totp-enrol');
    // What an authenticator app would show now, computed from the secret the page shows.
    const secret = (await enrol.locator('code.secret').textContent()) ?? '';
    await enrol.locator('input[name="code"]').fill(await generate({ secret }));
    await enrol.locator('input[name="password"]').fill('not the password');
    await enrol.locator('button[type="submit"]').click();
    await errorFor(tab, '').filter({ hasText: 'The current password is wrong (401 WRONG_PASSWORD)' }).waitFor();
    await enrol.locator('input[name="password"]').fill(grace.password);
    await enrol.locator('button[type="submit"]').click();
    const codes = tab.locator('.recovery-codes li code');
    await codes.first().waitFor();
    const recovery = await codes.allTextContents();
    expect(recovery).toHaveLength(10);
    await tab.locator('p', { hasText: 'On: signing in asks for a code. 10 recovery codes left.' }).waitFor();
    await screenshot(tab, '9-recovery-codes');

    await tab.click('header >> text=Sign out');
    await signIn(tab, grace.login, grace.password);
    await tab.locator('h1', { hasText: 'Second factor' }).waitFor();
    expect(await tokensIn(tab)).toBeNull();
    await tab.fill('input[name="code"]', 'aaaa-aaaa-aaaa-aaaa');
    await tab.click('button[type="submit"]');
    await errorFor(tab, '').filter({ hasText: 'BAD_CODE' }).waitFor();
    await tab.fill('input[name="code"]', recovery[0] ?? '');
    await tab.click('button[type="submit"]');
    await tab.locator('header .who', { hasText: 'Grace Hopper (grace)' }).waitFor();
    const tokens = await tokensIn(tab);
    expect(JSON.parse(atob(tokens?.access_token.split('.')[1] ?? '')).amr).toEqual(['pwd', 'otp']);
    await tab.click('header a[href="#/me"]');
    await tab.locator('p', { hasText: '9 recovery codes left.' }).waitFor();
  });

  it('adds a passkey in the page, signs in with it and no login typed; a removed passkey signs in no more', async () => {
    const lin = { user_name: 'Lin Passkey', login: 'lin', password: PASSWORD };
    expect((await rest('POST', '/register', undefined, lin)).status).toBe(201);
    // WebAuthn wants a domain: the page is served as localhost (the server's development relying party).
    const site = server.url.replace('127.0.0.1', 'localhost');
    const tab = await newPage();
    // Chromium's virtual authenticator, as a phone's or laptop's platform authenticator: resident keys, and a
    // user who is verified (the PIN or fingerprint) without being asked.
    const cdp = await tab.context().newCDPSession(tab);
    await cdp.send('WebAuthn.enable');
    const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2',
        transport: 'internal',
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    await tab.goto(`${site}/dashboard`);
    await tab.fill('input[name="login"]', lin.login);
    await tab.fill('input[name="password"]', lin.password);
    await tab.click('button[type="submit"]');
    await tab.locator('header .who', { hasText: 'Lin Passkey (lin)' }).waitFor();
    await tab.click('header a[href="#/me"]');
    const add = tab.locator('form.add-passkey');
    await add.locator('input[name="name"]').fill('This laptop');
    await add.locator('input[name="password"]').fill('not the password');
    await add.locator('button[type="submit"]').click();
    await add.locator('[data-error-for=""]').filter({ hasText: 'WRONG_PASSWORD' }).waitFor();
    await add.locator('input[name="password"]').fill(lin.password);
    await add.locator('button[type="submit"]').click();
    await tab.locator('ul.passkeys li strong', { hasText: 'This laptop' }).waitFor();
    const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.isResidentCredential).toBe(true);
    await screenshot(tab, '10-passkeys');

    // Signed out, then in with the passkey alone: no login typed.
    await tab.click('header >> text=Sign out');
    await tab.click('button:text-is("Sign in with a passkey")');
    await tab.locator('header .who', { hasText: 'Lin Passkey (lin)' }).waitFor();
    const alone = await tokensIn(tab);
    expect(JSON.parse(atob(alone?.access_token.split('.')[1] ?? '')).amr).toEqual([expect.stringMatching(/^[hs]wk$/)]);

    // A password sign-in now asks for the second factor: the passkey answers it.
    await tab.click('header >> text=Sign out');
    await tab.fill('input[name="login"]', lin.login);
    await tab.fill('input[name="password"]', lin.password);
    await tab.click('button[type="submit"]');
    await tab.locator('h1', { hasText: 'Second factor' }).waitFor();
    expect(await tab.locator('input[name="code"]').count()).toBe(0);
    await tab.click('button:text-is("Use a passkey")');
    await tab.locator('header .who', { hasText: 'Lin Passkey (lin)' }).waitFor();
    const both = await tokensIn(tab);
    expect(JSON.parse(atob(both?.access_token.split('.')[1] ?? '')).amr).toEqual([
      'pwd',
      expect.stringMatching(/^[hs]wk$/),
    ]);

    // Removed (the password first), it signs in no more, though the authenticator still holds it.
    await tab.click('header a[href="#/me"]');
    const item = tab.locator('ul.passkeys li', { hasText: 'This laptop' });
    await item.locator('input[name="password"]').fill(lin.password);
    await item.locator('button:text-is("Remove")').click();
    await tab.locator('p', { hasText: 'No passkey yet.' }).waitFor();
    await tab.click('header >> text=Sign out');
    await tab.click('button:text-is("Sign in with a passkey")');
    await tab.locator('.passkey-sign-in .error', { hasText: 'PASSKEY_REJECTED' }).waitFor();
    expect(await tokensIn(tab)).toBeNull();
  });

  it('confirms an address from its mailed link, then resets a forgotten password through the mail', async () => {
    const mia = { user_name: 'Mia Mail', login: 'mia', password: PASSWORD, email: 'mia@example.com' };
    expect((await rest('POST', '/register', undefined, mia)).status).toBe(201);
    const tab = await newPage();
    // The links point at PUBLIC_URL (here the development default, http://localhost:<port>).
    const confirm = linkOf(await mailbox.next(mia.email));
    await tab.goto(confirm.url);
    await tab.locator('.success', { hasText: 'Email address confirmed' }).waitFor();

    await tab.goto(`${server.url}/dashboard`);
    await tab.click('a:text-is("Forgot your password?")');
    await tab.fill('input[name="email"]', 'MIA@example.com');
    await tab.click('button[type="submit"]');
    await tab.locator('.success', { hasText: 'a link to set a new password is on its way' }).waitFor();
    await screenshot(tab, '11-forgot-password');
    const reset = linkOf(await mailbox.next(mia.email));
    expect(reset.page).toBe('reset');
    await tab.goto(reset.url);
    await tab.fill('input[name="new_password"]', 'short');
    await tab.click('button[type="submit"]');
    await errorFor(tab, 'new_password').filter({ hasText: 'At least 8 characters' }).waitFor();
    await tab.fill('input[name="new_password"]', 'a password from the mail');
    await tab.click('button[type="submit"]');
    await tab.locator('.success', { hasText: 'every session has ended' }).waitFor();
    await tab.click('a:text-is("Sign in")');
    await tab.fill('input[name="login"]', mia.login);
    await tab.fill('input[name="password"]', 'a password from the mail');
    await tab.click('button[type="submit"]');
    await tab.locator('header .who', { hasText: 'Mia Mail (mia)' }).waitFor();
    await tab.click('header a[href="#/me"]');
    await tab.locator('p', { hasText: 'Confirmed: mia@example.com.' }).waitFor();
    // The link is spent: opened again, it says so.
    await tab.goto(reset.url);
    await tab.fill('input[name="new_password"]', 'yet another password');
    await tab.click('button[type="submit"]');
    await errorFor(tab, '').filter({ hasText: 'LINK_INVALID' }).waitFor();
  });

  it('adds a webhook endpoint as an admin, shows its secret once, and sends a signed test event', async () => {
    const tab = await newPage();
    await signIn(tab, 'ada', ADA_NEW);
    await tab.locator('header .who', { hasText: '(ada)' }).waitFor();
    await tab.click('header a[href="#/webhooks"]');
    const add = tab.locator('form.add-webhook');
    await add.locator('input[name="event_types"]').fill('user.created, no.such.event');
    await add.locator('input[name="url"]').fill(receiver.url);
    await add.locator('button[type="submit"]').click();
    await add
      .locator('[data-error-for]', { hasText: /^Not an event type: one of user.created, / })
      .first()
      .waitFor();
    await add.locator('input[name="event_types"]').fill('*');
    await add.locator('input[name="description"]').fill('the test receiver');
    await add.locator('button[type="submit"]').click();
    const secret = (await tab.locator('.secret-once code.secret').textContent()) ?? '';
    expect(secret).toMatch(/^whsec_/);
    await confirm(tab, 'Send a test event');
    const [delivery] = await receiver.waitFor(1);
    if (!delivery) throw new Error('no delivery');
    expect(verifyWebhook(secret, delivery.body, delivery.headers as Record<string, string>).type).toBe('webhook.test');
    await tab.reload();
    await tab.locator('.webhook .badge.delivered').first().waitFor();
    await screenshot(tab, '12-webhooks');
  });

  it('shows an admin an account whose sign-ins an attack blocked, and lifts the block; keeps a device token', async () => {
    // A server of its own with low limits: two wrong passwords from two addresses block the account.
    const limited = await spawnServer({
      LOG_LEVEL: 'warn',
      RATE_LIMIT_FAILURES_PER_ACCOUNT_ADDRESS: '1',
      RATE_LIMIT_FAILURES_PER_ACCOUNT: '2',
      RATE_LIMIT_FAILURES_PER_ADDRESS: '100',
    });
    onTestFinished(() => limited.stop());
    const post = (path: string, body: object, localAddress = '127.0.0.1') =>
      new Promise<{ status: number; body: Record<string, unknown> }>((resolve, reject) => {
        const { hostname, port } = new URL(limited.url);
        const text = JSON.stringify(body);
        const req = request(
          {
            hostname,
            port,
            method: 'POST',
            path: `${REST_PREFIX}${path}`,
            localAddress,
            headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
          },
          (res) => {
            let data = '';
            res.on('data', (chunk) => {
              data += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
          },
        );
        req.on('error', reject);
        req.end(text);
      });
    await post('/register', { user_name: 'Root', login: 'root', password: PASSWORD, user_role: 1 });
    const victim = await post('/register', { user_name: 'Victim', login: 'victim', password: PASSWORD });
    for (const from of ['127.0.0.2', '127.0.0.3']) {
      expect((await post('/login', { login: 'victim', password: 'a guess' }, from)).status).toBe(401);
    }
    expect((await post('/login', { login: 'victim', password: PASSWORD }, '127.0.0.4')).status).toBe(429);

    const tab = await newPage();
    await tab.goto(`${limited.url}/dashboard`);
    await tab.fill('input[name="login"]', 'root');
    await tab.fill('input[name="password"]', PASSWORD);
    await tab.click('button[type="submit"]');
    await tab.locator('header .who', { hasText: 'Root (root)' }).waitFor();
    // The SDK kept this browser's device token for the login, without the dashboard asking.
    const devices = await tab.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith('api-users.device')));
    expect(devices).toEqual(['api-users.device-token.root']);

    await tab.goto(`${limited.url}/dashboard/#/users/${victim.body.id_user}`);
    await tab.locator('.lockout', { hasText: 'Sign-ins from clients this account has not used are blocked' }).waitFor();
    await screenshot(tab, '8-lockout');
    await confirm(tab, 'Lift the block');
    await tab.locator('.lockout', { hasText: 'Sign-in is not blocked.' }).waitFor();
    expect((await post('/login', { login: 'victim', password: PASSWORD }, '127.0.0.4')).status).toBe(200);
    await tab.close();
  });

  it('deletes a user’s own account once the password is given, and says so on the sign-in page', async () => {
    const leaving = { user_name: 'Leaving Soon', login: 'leaving', password: PASSWORD };
    expect((await rest('POST', '/register', undefined, leaving)).status).toBe(201);
    const tab = await newPage();
    await signIn(tab, leaving.login, leaving.password);
    await tab.locator('header .who', { hasText: '(leaving)' }).waitFor();
    await tab.click('header a[href="#/me"]');
    const form = tab.locator('form:has(button:text-is("Delete my account"))');
    await form.locator('input[name="password"]').fill('not my password');
    await form.locator('button[type="submit"]').click();
    await form.locator('[data-error-for]', { hasText: 'WRONG_PASSWORD' }).waitFor();
    expect((await rest('POST', '/login', undefined, { login: 'leaving', password: PASSWORD })).status).toBe(200);
    await form.locator('input[name="password"]').fill(PASSWORD);
    await form.locator('button[type="submit"]').click();
    await tab.locator('.notice', { hasText: 'Your account has been deleted.' }).waitFor();
    expect(await tokensIn(tab)).toBeNull();
    expect((await rest('POST', '/login', undefined, { login: 'leaving', password: PASSWORD })).status).toBe(401);
    await tab.close();
  });

  it('fits a phone: no page is wider than a 390 px screen', async () => {
    const phone = await newPage(PHONE);
    const widthOf = async (hash: string, ready: string) => {
      await phone.goto(`${server.url}/dashboard/${hash}`);
      await phone.locator(ready).first().waitFor();
      return [hash, await phone.evaluate(() => document.documentElement.scrollWidth)];
    };
    const widths = [await widthOf('#/users', 'h1:text("Sign in")'), await widthOf('#/forgot', 'form')];
    await signIn(phone, 'ada', ADA_NEW);
    await phone.locator('header .who', { hasText: '(ada)' }).waitFor();
    for (const [hash, ready] of [
      ['#/users', 'table tbody tr'],
      ['#/users/new', 'form'],
      ['#/users/2', 'table.sessions, .sessions-empty'],
      ['#/me', 'table.sessions'],
      ['#/audit', 'table.audit tbody tr'],
      ['#/webhooks', '.webhook'],
    ]) {
      widths.push(await widthOf(hash as string, ready as string));
      if (hash === '#/users') await screenshot(phone, '13-phone-users');
    }
    expect(widths).toEqual(widths.map(([hash]) => [hash, PHONE.width]));
    await phone.close();
  });

  it('broke no content security policy and threw no exception', () => {
    expect(consoleErrors).toEqual([]);
  });
});
