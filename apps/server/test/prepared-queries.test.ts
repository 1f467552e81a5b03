import type { Database } from '@api-users/db';
import { connect, type DatabaseHandle, migrateToLatest, prepared } from '@api-users/db';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from './support/databases.js';

const row = (id: number, login: string, role: number) => ({
  id_user: id,
  user_name: `Name ${login}`,
  user_name_search: `name ${login}`,
  login,
  password_hash: 'not a hash',
  user_role: role,
  created_at: 1_700_000_000_000 + id,
});

/** Compiled once per database and per set of values given; the values themselves change on every call. */
const page = prepared(
  (db: Kysely<Database>, v: { take: number; after: number | undefined; role: number | undefined }) => {
    let query = db.selectFrom('users').select(['id_user', 'login']).orderBy('id_user').limit(v.take);
    if (v.after !== undefined) query = query.where('id_user', '>', v.after);
    if (v.role !== undefined) query = query.where('user_role', '=', v.role);
    return query;
  },
);

describeEachDatabase('prepared queries', (dialect) => {
  let database: TestDatabase;
  let handle: DatabaseHandle;
  beforeAll(async () => {
    database = await createTestDatabase(dialect);
    handle = connect(database.url);
    await migrateToLatest(handle.db);
    await handle.db
      .insertInto('users')
      .values([row(1, 'ann', 2), row(2, 'bob', 1), row(3, "o'neil\\", 2), row(4, 'dee', 1)])
      .execute();
  });
  afterAll(async () => {
    await handle.db.destroy();
    await database.drop();
  });

  it('runs each call with its own values, leaving out the clauses of values not given', async () => {
    const ids = async (v: Parameters<typeof page>[1]) => (await page(handle.db, v)).map((r) => r.id_user);
    expect(await ids({ take: 10, after: undefined, role: undefined })).toEqual([1, 2, 3, 4]);
    expect(await ids({ take: 2, after: undefined, role: undefined })).toEqual([1, 2]);
    expect(await ids({ take: 10, after: 1, role: undefined })).toEqual([2, 3, 4]);
    expect(await ids({ take: 10, after: 2, role: undefined })).toEqual([3, 4]);
    expect(await ids({ take: 10, after: undefined, role: 1 })).toEqual([2, 4]);
    expect(await ids({ take: 1, after: 2, role: 1 })).toEqual([4]);
    expect(await ids({ take: 10, after: undefined, role: 2 })).toEqual([1, 3]);
  });

  it('passes values apart from the SQL, quotes and backslashes included', async () => {
    const byLogin = prepared((db: Kysely<Database>, v: { login: string }) =>
      db.selectFrom('users').select('id_user').where('login', '=', v.login),
    );
    expect(await byLogin(handle.db, { login: "o'neil\\" })).toEqual([{ id_user: 3 }]);
    expect(await byLogin(handle.db, { login: "' or 1=1 -- " })).toEqual([]);
  });
});
