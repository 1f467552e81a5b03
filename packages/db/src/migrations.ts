import { type ColumnDefinitionBuilder, type Kysely, type Migration, Migrator, sql } from 'kysely';
import { isUnavailable } from './errors.js';
import { isMysql, isPostgres } from './portable.js';

/** MySQL gets an explicit engine and a binary utf8mb4 collation; PostgreSQL and SQLite need no table options. */
const tableOptions = (db: Kysely<unknown>) =>
  isMysql(db) ? sql`ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin` : sql``;

/**
 * A generated integer key: AUTO_INCREMENT on MySQL and SQLite, an identity column on PostgreSQL (which has no
 * AUTO_INCREMENT). By default, not always: the Flask import inserts ids of its own.
 */
const generatedKey = (db: Kysely<unknown>) => (c: ColumnDefinitionBuilder) =>
  isPostgres(db) ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement();

/**
 * Gives a column a longer VARCHAR. SQLite does not enforce a VARCHAR length at all, so it is left as it is
 * (rebuilding an SQLite table to restate a length it ignores would risk its rows).
 */
async function widen(db: Kysely<unknown>, table: string, column: string, type: `varchar(${number})`) {
  if (isMysql(db)) {
    await db.schema
      .alterTable(table)
      .modifyColumn(column, type, (c) => c.notNull())
      .execute();
  } else if (isPostgres(db)) {
    await db.schema
      .alterTable(table)
      .alterColumn(column, (c) => c.setDataType(type))
      .execute();
  }
}

const migrations: Record<string, Migration> = {
  '0001_initial': {
    async up(db) {
      const options = tableOptions(db);
      await db.schema
        .createTable('users')
        .addColumn('id_user', 'integer', generatedKey(db))
        .addColumn('user_name', 'varchar(100)', (c) => c.notNull())
        .addColumn('login', 'varchar(64)', (c) => c.notNull().unique())
        .addColumn('password_hash', 'varchar(255)', (c) => c.notNull())
        .addColumn('user_role', 'smallint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .modifyEnd(options)
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('sid', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id_user').onDelete('cascade'))
        .addColumn('refresh_jti', 'varchar(36)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .modifyEnd(options)
        .execute();
      await db.schema.createIndex('sessions_expires_at').on('sessions').column('expires_at').execute();
      await db.schema
        .createTable('revoked_tokens')
        .addColumn('jti', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .modifyEnd(options)
        .execute();
      await db.schema.createIndex('revoked_tokens_expires_at').on('revoked_tokens').column('expires_at').execute();
      await db.schema
        .createTable('admin_bootstrap')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .modifyEnd(options)
        .execute();
    },
  },
  '0002_flask_import': {
    async up(db) {
      // The Flask service allowed 128-character names.
      await widen(db, 'users', 'user_name', 'varchar(128)');
      // One row per Flask user imported: what makes the import idempotent. No foreign key: an account deleted
      // later must not come back with the next run.
      await db.schema
        .createTable('flask_import')
        .addColumn('flask_id', 'bigint', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addColumn('imported_at', 'bigint', (c) => c.notNull())
        .modifyEnd(tableOptions(db))
        .execute();
    },
  },
  '0003_account': {
    async up(db) {
      const options = tableOptions(db);
      await db.schema
        .alterTable('users')
        .addColumn('disabled', 'smallint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .alterTable('users')
        .addColumn('user_name_search', 'varchar(255)', (c) => c.notNull().defaultTo(''))
        .execute();
      await backfillNameSearch(db);
      // Role and disabled filters page by id within one value: (value, id) on both databases, as InnoDB and
      // SQLite append the primary key to every secondary index.
      await db.schema.createIndex('users_user_role').on('users').column('user_role').execute();
      await db.schema.createIndex('users_disabled').on('users').column('disabled').execute();
      for (const [column, type] of [
        ['client_address', 'varchar(64)'],
        ['user_agent', 'varchar(255)'],
        ['refreshed_at', 'bigint'],
        ['refreshed_client_address', 'varchar(64)'],
        ['refreshed_user_agent', 'varchar(255)'],
      ] as const) {
        await db.schema.alterTable('sessions').addColumn(column, type).execute();
      }
      await db.schema.createIndex('sessions_user_id').on('sessions').columns(['user_id', 'created_at']).execute();
      // No foreign keys: an event outlives the accounts it names.
      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'integer', generatedKey(db))
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('type', 'varchar(32)', (c) => c.notNull())
        .addColumn('actor_id', 'integer')
        .addColumn('target_id', 'integer')
        .addColumn('session_id', 'varchar(36)')
        .addColumn('detail', 'varchar(32)')
        .addColumn('client_address', 'varchar(64)')
        .addColumn('user_agent', 'varchar(255)')
        .addColumn('request_id', 'varchar(64)')
        .modifyEnd(options)
        .execute();
      for (const column of ['at', 'type', 'actor_id', 'target_id'] as const) {
        await db.schema.createIndex(`audit_events_${column}`).on('audit_events').column(column).execute();
      }
      // One row per named lock; a transaction that updates it holds it until it ends (apps/server/src/modules/admin/manage.ts).
      await db.schema
        .createTable('locks')
        .addColumn('name', 'varchar(32)', (c) => c.primaryKey())
        .addColumn('version', 'bigint', (c) => c.notNull())
        .modifyEnd(options)
        .execute();
      await db.insertInto('locks').values({ name: 'admins', version: 0 }).execute();
    },
  },
  '0004_credentials_version': {
    async up(db) {
      await db.schema
        .alterTable('users')
        .addColumn('credentials_version', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  '0005_opaque_refresh_tokens': {
    async up(db) {
      // Refresh tokens become opaque: the row keeps a SHA-256 of the live one (64 hex characters) where it kept
      // a JWT's jti, and the one before it, so a replay can be told from a token that never was.
      await db.schema.alterTable('sessions').renameColumn('refresh_jti', 'refresh_ref').execute();
      await widen(db, 'sessions', 'refresh_ref', 'varchar(64)');
      await db.schema.alterTable('sessions').addColumn('previous_refresh_ref', 'varchar(64)').execute();
    },
  },
  '0006_session_methods': {
    async up(db) {
      // Every session so far was signed in with a password.
      await db.schema
        .alterTable('sessions')
        .addColumn('amr', 'varchar(64)', (c) => c.notNull().defaultTo('pwd'))
        .execute();
    },
  },
  '0007_second_factors': {
    async up(db) {
      const options = tableOptions(db);
      const owner = (c: ColumnDefinitionBuilder) => c.notNull().references('users.id_user').onDelete('cascade');
      await db.schema
        .createTable('totp_factors')
        .addColumn('user_id', 'integer', (c) => owner(c).primaryKey())
        .addColumn('secret', 'varchar(64)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('confirmed_at', 'bigint')
        .addColumn('last_step', 'bigint')
        .modifyEnd(options)
        .execute();
      await db.schema
        .createTable('recovery_codes')
        .addColumn('user_id', 'integer', owner)
        .addColumn('code_digest', 'varchar(64)', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addPrimaryKeyConstraint('recovery_codes_pk', ['user_id', 'code_digest'])
        .modifyEnd(options)
        .execute();
      await db.schema
        .createTable('mfa_challenges')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('digest', 'varchar(64)', (c) => c.notNull())
        .addColumn('user_id', 'integer', owner)
        .addColumn('credentials_version', 'bigint', (c) => c.notNull())
        .addColumn('device_id', 'varchar(64)')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .modifyEnd(options)
        .execute();
      await db.schema.createIndex('mfa_challenges_expires_at').on('mfa_challenges').column('expires_at').execute();
      await db.schema.createIndex('mfa_challenges_user_id').on('mfa_challenges').column('user_id').execute();
    },
  },
  '0008_passkeys': {
    async up(db) {
      const options = tableOptions(db);
      await db.schema
        .createTable('passkeys')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id_user').onDelete('cascade'))
        // base64url of at most 255 bytes (passkeys.ts refuses longer ones): short enough for a unique index.
        .addColumn('credential_id', 'varchar(344)', (c) => c.notNull().unique())
        .addColumn('public_key', 'varchar(2048)', (c) => c.notNull())
        .addColumn('counter', 'bigint', (c) => c.notNull())
        .addColumn('transports', 'varchar(128)', (c) => c.notNull())
        .addColumn('device_type', 'varchar(16)', (c) => c.notNull())
        .addColumn('backed_up', 'smallint', (c) => c.notNull())
        .addColumn('name', 'varchar(100)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_used_at', 'bigint')
        .modifyEnd(options)
        .execute();
      await db.schema.createIndex('passkeys_user_id').on('passkeys').column('user_id').execute();
      // One row per ceremony (registration or sign-in): its challenge, what it is for, single use.
      await db.schema
        .createTable('webauthn_ceremonies')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('purpose', 'varchar(16)', (c) => c.notNull())
        .addColumn('challenge', 'varchar(128)', (c) => c.notNull())
        .addColumn('user_id', 'integer', (c) => c.references('users.id_user').onDelete('cascade'))
        .addColumn('mfa_challenge_id', 'varchar(36)')
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .modifyEnd(options)
        .execute();
      await db.schema
        .createIndex('webauthn_ceremonies_expires_at')
        .on('webauthn_ceremonies')
        .column('expires_at')
        .execute();
    },
  },
  '0009_email': {
    async up(db) {
      // Confirmed addresses only (an address waits in email_tokens until its link is followed), so nobody can
      // hold another person's address by typing it. Unique: one account per address; NULL for none.
      await db.schema.alterTable('users').addColumn('email', 'varchar(254)').execute();
      await db.schema.createIndex('users_email').on('users').column('email').unique().execute();
      await db.schema
        .createTable('email_tokens')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('digest', 'varchar(64)', (c) => c.notNull())
        .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id_user').onDelete('cascade'))
        .addColumn('purpose', 'varchar(16)', (c) => c.notNull())
        .addColumn('email', 'varchar(254)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('used_at', 'bigint')
        .modifyEnd(tableOptions(db))
        .execute();
      await db.schema.createIndex('email_tokens_user_id').on('email_tokens').columns(['user_id', 'purpose']).execute();
      await db.schema.createIndex('email_tokens_expires_at').on('email_tokens').column('expires_at').execute();
    },
  },
  '0010_webhooks': {
    async up(db) {
      const options = tableOptions(db);
      await db.schema
        .createTable('webhook_endpoints')
        .addColumn('id', 'varchar(36)', (c) => c.primaryKey())
        .addColumn('url', 'varchar(2048)', (c) => c.notNull())
        .addColumn('event_types', 'varchar(512)', (c) => c.notNull())
        .addColumn('enabled', 'smallint', (c) => c.notNull())
        .addColumn('secret', 'varchar(64)', (c) => c.notNull())
        .addColumn('description', 'varchar(200)', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .modifyEnd(options)
        .execute();
      // The outbox: one row per event and endpoint, written in the transaction of the change it tells of.
      await db.schema
        .createTable('webhook_deliveries')
        .addColumn('id', 'integer', generatedKey(db))
        .addColumn('message_id', 'varchar(40)', (c) => c.notNull())
        .addColumn('endpoint_id', 'varchar(36)', (c) =>
          c.notNull().references('webhook_endpoints.id').onDelete('cascade'),
        )
        .addColumn('event_type', 'varchar(40)', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('status', 'varchar(12)', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
        .addColumn('lease_until', 'bigint')
        .addColumn('last_status', 'integer')
        .addColumn('last_error', 'varchar(200)')
        .addColumn('last_latency_ms', 'integer')
        .addColumn('delivered_at', 'bigint')
        .modifyEnd(options)
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_due')
        .on('webhook_deliveries')
        .columns(['status', 'next_attempt_at'])
        .execute();
      await db.schema
        .createIndex('webhook_deliveries_endpoint')
        .on('webhook_deliveries')
        .columns(['endpoint_id', 'id'])
        .execute();
    },
  },
  '0011_webhook_secret_rotation': {
    async up(db) {
      // A rotated secret still signs (beside the new one) until receivers have moved to the new one.
      await db.schema.alterTable('webhook_endpoints').addColumn('previous_secret', 'varchar(64)').execute();
      await db.schema.alterTable('webhook_endpoints').addColumn('previous_secret_until', 'bigint').execute();
    },
  },
  '0012_search_by_prefix': {
    async up(db) {
      // `q` finds logins and folded names by prefix, compared in code-point order (search.ts): MySQL's
      // utf8mb4_bin and SQLite's BINARY already order so, and the unique index on login serves it; PostgreSQL
      // orders by the database's collation unless told "C", so both columns get an index in "C" order.
      if (isPostgres(db)) {
        await sql`create index users_login_prefix on users (login collate "C")`.execute(db);
        await sql`create index users_name_prefix on users (user_name_search collate "C")`.execute(db);
      } else {
        await db.schema.createIndex('users_name_prefix').on('users').column('user_name_search').execute();
      }
    },
  },
};

/**
 * `users.user_name_search` as this migration defined it (NFKC, lower case, 255 code points). A copy, not the
 * app's `nameForSearch`: a migration must do the same thing on every database whatever the app becomes.
 */
const searchCopy0003 = (name: string): string =>
  Array.from(name.normalize('NFKC').toLowerCase()).slice(0, 255).join('');

/** Fills the search copy of every existing name, a batch of rows at a time. */
// biome-ignore lint/suspicious/noExplicitAny: migrations run on a database of any schema type
async function backfillNameSearch(db: Kysely<any>): Promise<void> {
  for (let after = 0; ; ) {
    const rows: { id_user: number; user_name: string }[] = await db
      .selectFrom('users')
      .select(['id_user', 'user_name'])
      .where('id_user', '>', after)
      .orderBy('id_user')
      .limit(1000)
      .execute();
    for (const row of rows) {
      await db
        .updateTable('users')
        .set({ user_name_search: searchCopy0003(row.user_name) })
        .where('id_user', '=', row.id_user)
        .execute();
    }
    const last = rows.at(-1);
    if (!last) return;
    after = Number(last.id_user);
  }
}

/**
 * Applies every pending migration. Several instances may start at once: on MySQL kysely's migration lock
 * serialises them, on PostgreSQL its advisory lock; on SQLite a migration that lost the race for the write lock fails as a whole and is
 * retried, finding the work done. An unreachable database is retried the same way before start-up gives up.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations run on a database of any schema type
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const migrator = migratorFor(db);
  for (let attempt = 1; ; attempt++) {
    const { error, results } = await migrator.migrateToLatest();
    if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
    if (attempt >= MIGRATION_ATTEMPTS || !isUnavailable(error)) {
      throw error instanceof Error ? error : new Error(String(error));
    }
    // SQLite reports a lost race at once, without waiting: give the winner time to finish.
    await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
  }
}

const MIGRATION_ATTEMPTS = 6;

// biome-ignore lint/suspicious/noExplicitAny: migrations run on a database of any schema type
const migratorFor = (db: Kysely<any>) => new Migrator({ db, provider: { getMigrations: async () => migrations } });

/** Names of the migrations not yet applied, for commands that must not change the database (a dry run). */
// biome-ignore lint/suspicious/noExplicitAny: migrations run on a database of any schema type
export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  return (await migratorFor(db).getMigrations()).filter((m) => m.executedAt === undefined).map((m) => m.name);
}
