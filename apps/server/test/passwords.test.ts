import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { createPasswordHasher, OWASP_ARGON2 } from '../src/modules/auth/passwords.js';
import { describeEachDatabase, storedHash, useTestDatabase } from './support/databases.js';
import { restClient } from './support/http.js';
import { startServer, uniqueLogin } from './support/server.js';

describeEachDatabase('password storage', (dialect) => {
  const database = useTestDatabase(dialect);

  it('stores argon2id with OWASP parameters and rehashes on login when the parameters change', async () => {
    const login = uniqueLogin('rehash');
    const password = 'rehash me please';
    const weak = { memoryCost: 4096, timeCost: 1, parallelism: 1 };
    const old = await startServer(database.url, {}, { passwords: createPasswordHasher(weak) });
    await restClient(old.url).signUp(login, password);
    await old.close();
    const before = await storedHash(database.url, login);
    expect(before).toMatch(/^\$argon2id\$v=19\$m=4096,t=1,p=1\$/);

    const current = await startServer(database.url);
    onTestFinished(() => current.close());
    expect((await restClient(current.url).login(login, password)).status).toBe(200);
    const after = await storedHash(database.url, login);
    const { memoryCost: m, timeCost: t, parallelism: p } = OWASP_ARGON2;
    expect(after).toMatch(new RegExp(`^\\$argon2id\\$v=19\\$m=${m},t=${t},p=${p}\\$`));
    // The new hash still opens the account, and a wrong password still does not.
    expect((await restClient(current.url).login(login, password)).status).toBe(200);
    expect((await restClient(current.url).login(login, 'wrong password')).status).toBe(401);
  });
});

/** The nice value of each thread of this process (field 19 of /proc/self/task/<tid>/stat). */
const threadNiceValues = () =>
  readdirSync('/proc/self/task').map((tid) => {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });

describe('password hashing threads', () => {
  it('hash off the event loop at a lower priority than request handling, and verify correctly', async () => {
    const hasher = createPasswordHasher({ memoryCost: 4096, timeCost: 1, parallelism: 1 });
    onTestFinished(() => hasher.close());
    const stored = await hasher.hash('pool password');
    const checks = await Promise.all([
      hasher.verify(stored, 'pool password'),
      hasher.verify(stored, 'wrong password'),
      hasher.verify(null, 'pool password'),
      hasher.verify('not a hash', 'pool password'),
    ]);
    expect(checks).toEqual([true, false, false, false]);
    expect(threadNiceValues()[0]).toBe(0);
    // Each of the pool's four threads lowers its own priority once it has started; on a busy machine the last
    // ones may start after the tasks above are done (a run saw 3 of 4), so wait for them rather than race them.
    await vi.waitFor(() => expect(threadNiceValues().filter((n) => n === 10).length).toBeGreaterThanOrEqual(4), {
      timeout: 10_000,
      interval: 50,
    });
  });
});
