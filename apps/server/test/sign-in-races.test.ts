import { expect, it, onTestFinished } from 'vitest';
import type { PasswordHasher } from '../src/core/context.js';
import { createPasswordHasher } from '../src/modules/auth/passwords.js';
import { createTestDatabase, describeEachDatabase, storedHash } from './support/databases.js';
import { type Reply, restClient } from './support/http.js';
import { startServer, type TestServer, uniqueLogin } from './support/server.js';

const PASSWORD = 'the password of old';
const NEW_PASSWORD = 'a password set meanwhile';

/**
 * A hasher whose next verification, once done, waits for the test: a sign-in held between checking the
 * password and opening its session, the window the races below happen in.
 */
function gatedHasher(inner: PasswordHasher) {
  let gate: { reached: () => void; release: Promise<void> } | undefined;
  const hasher: PasswordHasher = {
    ...inner,
    async verify(stored, password) {
      const ok = await inner.verify(stored, password);
      const held = gate;
      gate = undefined;
      if (held) {
        held.reached();
        await held.release;
      }
      return ok;
    },
  };
  /** Holds the next verification; resolves once it is held, with the function that lets it go on. */
  const holdNext = () =>
    new Promise<() => void>((held) => {
      let release = () => {};
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      gate = { reached: () => held(release), release: released };
    });
  return { hasher, holdNext };
}

describeEachDatabase('sign-in under races', (dialect) => {
  /**
   * A server whose sign-ins can be held, an admin and a user on it; everything goes when the test ends. With
   * `madeWith`, the two accounts are made first by a server hashing with it (outdated parameters, say).
   */
  async function setUp(madeWith?: PasswordHasher) {
    const database = await createTestDatabase(dialect);
    onTestFinished(() => database.drop());
    const maker = madeWith ? await startServer(database.url, {}, { passwords: madeWith }) : undefined;
    const gated = gatedHasher(createPasswordHasher());
    const server: TestServer = await startServer(database.url, {}, { passwords: gated.hasher });
    onTestFinished(() => server.close());
    const api = restClient(server.url);
    const makerApi = restClient((maker ?? server).url);
    const admin = await makerApi.signUp(uniqueLogin('race.admin'), PASSWORD, 1);
    const user = await makerApi.signUp(uniqueLogin('race.user'), PASSWORD);
    await maker?.close();
    const asAdmin = { token: admin.tokens.access_token };
    /** Signs `login` in with the old password, held after its check while `meanwhile` runs; its answer. */
    const signInAcross = async (login: string, meanwhile: () => Promise<unknown>): Promise<Reply> => {
      const held = gated.holdNext();
      const answer = api.login(login, PASSWORD);
      const release = await held;
      await meanwhile();
      release();
      return answer;
    };
    const sessionsOf = async (id: number) =>
      (await api.call('GET', `/users/${id}/sessions`, asAdmin)).body.items as { id: string }[];
    return { server, database, api, admin, user, asAdmin, signInAcross, sessionsOf };
  }

  const refused = (reply: Reply) => ({ status: reply.status, code: reply.body.code });

  it('opens no session for a sign-in that was checking the old password while the owner changed it', async () => {
    const { api, user, signInAcross, sessionsOf } = await setUp();
    let changed: Reply | undefined;
    const raced = await signInAcross(user.user.login, async () => {
      changed = await api.call('POST', '/me/password', {
        token: user.tokens.access_token,
        json: { current_password: PASSWORD, new_password: NEW_PASSWORD },
      });
    });
    expect(changed?.status).toBe(200);
    expect(refused(raced)).toEqual({ status: 401, code: 'BAD_CREDENTIALS' });
    const live = await sessionsOf(user.user.id_user);
    expect(live.map((s) => s.id)).toEqual([JSON.parse(atob(changed?.body.access_token.split('.')[1])).sid]);
  });

  it('opens no session across an admin’s password reset, and the reset stands', async () => {
    const { api, user, asAdmin, signInAcross, sessionsOf } = await setUp();
    const raced = await signInAcross(user.user.login, () =>
      api.call('POST', `/users/${user.user.id_user}/password`, { ...asAdmin, json: { new_password: NEW_PASSWORD } }),
    );
    expect(refused(raced)).toEqual({ status: 401, code: 'BAD_CREDENTIALS' });
    expect(await sessionsOf(user.user.id_user)).toEqual([]);
    expect((await api.login(user.user.login, PASSWORD)).status).toBe(401);
    expect((await api.login(user.user.login, NEW_PASSWORD)).status).toBe(200);
  });

  it('opens no session across a disable, so none comes back when the account is enabled again', async () => {
    const { api, user, asAdmin, signInAcross, sessionsOf } = await setUp();
    const account = `/users/${user.user.id_user}`;
    const raced = await signInAcross(user.user.login, () =>
      api.call('PATCH', account, { ...asAdmin, json: { disabled: true } }),
    );
    expect(raced.status).toBe(401);
    expect((await api.call('PATCH', account, { ...asAdmin, json: { disabled: false } })).status).toBe(200);
    expect(await sessionsOf(user.user.id_user)).toEqual([]);
  });

  it('issues no admin tokens to an admin demoted while signing in', async () => {
    const { api, admin, signInAcross } = await setUp();
    // A second admin demotes the first (the last enabled admin cannot be demoted).
    const other = await api.signUp(uniqueLogin('race.admin2'), PASSWORD, 1, admin.tokens.access_token);
    const raced = await signInAcross(admin.user.login, () =>
      api.call('PATCH', `/users/${admin.user.id_user}`, {
        token: other.tokens.access_token,
        json: { user_role: 2 },
      }),
    );
    expect(refused(raced)).toEqual({ status: 401, code: 'BAD_CREDENTIALS' });
    expect(raced.body.access_token).toBeUndefined();
  });

  it('answers a sign-in whose account was deleted meanwhile as a wrong password, logging no error', async () => {
    const { server, api, user, asAdmin, signInAcross } = await setUp();
    const raced = await signInAcross(user.user.login, () => api.call('DELETE', `/users/${user.user.id_user}`, asAdmin));
    expect(refused(raced)).toEqual({ status: 401, code: 'BAD_CREDENTIALS' });
    expect(server.logs.filter((line) => line.includes('"level":50'))).toEqual([]);
  });

  it('does not write an outdated hash back over an admin’s reset made while it was verifying', async () => {
    // Accounts made with other argon2 parameters are rehashed at their next sign-in.
    const { api, user, asAdmin, signInAcross, database } = await setUp(
      createPasswordHasher({ memoryCost: 4096, timeCost: 1, parallelism: 1 }),
    );
    expect(await storedHash(database.url, user.user.login)).toMatch(/m=4096/);
    const raced = await signInAcross(user.user.login, () =>
      api.call('POST', `/users/${user.user.id_user}/password`, { ...asAdmin, json: { new_password: NEW_PASSWORD } }),
    );
    expect(raced.status).toBe(401);
    expect((await api.login(user.user.login, PASSWORD)).status).toBe(401);
    expect((await api.login(user.user.login, NEW_PASSWORD)).status).toBe(200);
  });
});
