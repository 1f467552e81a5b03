import { ADMIN, inputMessage, LoginSchema, USER, UserNameSchema, type UserRole } from '@api-users/contract';
import { afterExplicitUserIds, type Database, insertUserRow, inTransaction, nameForSearch } from '@api-users/db';
import type { Kysely } from 'kysely';
import type { ZodError } from 'zod';
import { legacyHashMethod } from '../auth/legacy-hashes.js';
import type { FlaskSource, FlaskUser } from './source.js';

/**
 * Stored instead of a hash when the Flask row held none this service accepts (plain text, say). It is no
 * hash of anything, so no password opens the account: a login takes the dummy verify and is refused like any
 * other, until an admin sets a password.
 */
export const NO_PASSWORD = '!needs-admin-set-password';

/**
 * The Flask ids kept as they are: 1 to a billion. Our `id_user` is a signed 32-bit INT (the API takes ids up to
 * 2,147,483,647), and every database numbers new accounts after the largest id in the table: a kept id near the
 * top (2,147,483,647, say) would leave no id for the next registration (MySQL then refuses every INSERT). Above
 * a billion, or at 0 and below, a Flask row gets a new id, and `flask_import` keeps its Flask id.
 */
const KEPT_IDS = { min: 1, max: 1_000_000_000 } as const;
const keepable = (id: number) => id >= KEPT_IDS.min && id <= KEPT_IDS.max;

/** What became of one Flask row. Never holds a password or hash. */
export interface ReportRow {
  flaskId: number;
  /** As the Flask table has it. */
  login: string;
  status: 'imported' | 'needs_password' | 'already_imported' | 'skipped';
  /** The account here: the Flask id where it was free, else a new one (null in a dry run); null when skipped. */
  userId: number | null;
  /** Null when skipped or imported earlier. */
  role: UserRole | null;
  /** Why it was skipped, or what was done to it. */
  detail: string;
}

export interface ImportReport {
  dryRun: boolean;
  rows: ReportRow[];
  /** Rows of the Flask `revoked_tokens` table, which are not imported. */
  revokedTokens: number;
}

export interface ImportOptions {
  dryRun: boolean;
  batchSize: number;
  clock?: () => number;
  /** Called after each batch with the rows handled so far and the table's row count. */
  onProgress?: (done: number, total: number) => void;
}

/** An account to create: the Flask row, decided. */
interface Planned {
  row: ReportRow;
  values: { user_name: string; user_name_search: string; login: string; password_hash: string; user_role: UserRole };
}

/** The Flask row that holds a login in this run: its id and its login as written there. */
type Claim = Pick<FlaskUser, 'id_user' | 'login'>;

const issues = (error: ZodError) => error.issues.map((i) => i.message).join('; ');

/**
 * Copies the Flask `User` table into `users`, batch by batch (one transaction each, so a large table neither
 * holds long locks nor starts over after a failure). The rules, in order, for each row by Flask id:
 * - imported by an earlier run (the `flask_import` table says so): left alone;
 * - a login our rules refuse (after folding: NFKC, lower case), or a user_name they refuse: skipped;
 * - a login an earlier row already holds, the same or differing only in case: skipped (Flask's lookup found
 *   the earlier row, so this one could never log in there);
 * - a login an account of ours already has: skipped (never merged into someone else's account);
 * - otherwise imported: user_role 1 stays admin, anything else (2, NULL, other) becomes 2, a user; the
 *   werkzeug hash is kept for the first login to verify and replace, or, when the column holds no accepted
 *   hash, NO_PASSWORD; the Flask id is kept where free, else the account gets a new id after every kept one
 *   is in (so a new id never takes a later row's own).
 * Skipped rows are not recorded, so a re-run decides them again (after the source row is fixed, say).
 * A dry run makes the same decisions and writes nothing.
 */
export async function importFlaskUsers(
  source: FlaskSource,
  db: Kysely<Database>,
  options: ImportOptions,
): Promise<ImportReport> {
  const clock = options.clock ?? Date.now;
  const { users: total, revokedTokens } = await source.count();
  const rows: ReportRow[] = [];
  /** Folded login → the first Flask row holding it, in this run. */
  const claimed = new Map<string, Claim>();
  const needNewIds: Planned[] = [];
  // From the lowest id there can be: a row at 0 or below is read, and reported, like any other.
  for (let after = Number.MIN_SAFE_INTEGER; ; ) {
    const batch = await source.usersAfter(after, options.batchSize);
    if (batch.length === 0) break;
    after = batch[batch.length - 1]?.id_user ?? after;
    const { report, keepIds, newIds } = await planBatch(db, batch, claimed);
    rows.push(...report);
    needNewIds.push(...newIds);
    if (!options.dryRun && keepIds.length > 0) {
      await inTransaction(db, async (trx) => {
        const now = clock();
        await trx
          .insertInto('users')
          .values(keepIds.map((p) => ({ ...p.values, id_user: p.row.flaskId, created_at: now })))
          .execute();
        await trx
          .insertInto('flask_import')
          .values(keepIds.map((p) => ({ flask_id: p.row.flaskId, user_id: p.row.flaskId, imported_at: now })))
          .execute();
        await afterExplicitUserIds(trx);
      });
    }
    options.onProgress?.(rows.length, total);
  }
  if (!options.dryRun) {
    for (let i = 0; i < needNewIds.length; i += options.batchSize) {
      await inTransaction(db, async (trx) => {
        const now = clock();
        for (const p of needNewIds.slice(i, i + options.batchSize)) {
          p.row.userId = await insertUserRow(trx, { ...p.values, created_at: now });
          await trx
            .insertInto('flask_import')
            .values({ flask_id: p.row.flaskId, user_id: p.row.userId, imported_at: now })
            .execute();
        }
      });
    }
  }
  return { dryRun: options.dryRun, rows, revokedTokens };
}

async function planBatch(db: Kysely<Database>, batch: FlaskUser[], claimed: Map<string, Claim>) {
  const flaskIds = batch.map((r) => r.id_user);
  const earlier = new Map(
    (
      await db.selectFrom('flask_import').select(['flask_id', 'user_id']).where('flask_id', 'in', flaskIds).execute()
    ).map((r) => [Number(r.flask_id), r.user_id]),
  );
  const folded = new Map(batch.map((r) => [r.id_user, LoginSchema.safeParse(r.login, { error: inputMessage })]));
  const logins = [...folded.values()].flatMap((f) => (f.success ? [f.data] : []));
  const owners = new Map(
    logins.length === 0
      ? []
      : (await db.selectFrom('users').select(['id_user', 'login']).where('login', 'in', logins).execute()).map((u) => [
          u.login,
          u.id_user,
        ]),
  );
  const ids = flaskIds.filter(keepable);
  const taken = new Set(
    ids.length === 0
      ? []
      : (await db.selectFrom('users').select('id_user').where('id_user', 'in', ids).execute()).map((u) => u.id_user),
  );
  const priorIds = [...earlier.values()];
  const stillWithoutPassword = new Set(
    priorIds.length === 0
      ? []
      : (
          await db
            .selectFrom('users')
            .select('id_user')
            .where('id_user', 'in', priorIds)
            .where('password_hash', '=', NO_PASSWORD)
            .execute()
        ).map((u) => u.id_user),
  );

  const report: ReportRow[] = [];
  const keepIds: Planned[] = [];
  const newIds: Planned[] = [];
  for (const source of batch) {
    const base = { flaskId: source.id_user, login: source.login, userId: null, role: null };
    const skip = (detail: string) => report.push({ ...base, status: 'skipped', detail });
    const login = folded.get(source.id_user);
    const prior = earlier.get(source.id_user);
    if (prior !== undefined) {
      if (login?.success && !claimed.has(login.data))
        claimed.set(login.data, { id_user: source.id_user, login: source.login });
      const still = stillWithoutPassword.has(prior) ? '; it still needs an admin-set password' : '';
      report.push({
        ...base,
        status: 'already_imported',
        userId: prior,
        detail: `imported earlier as id ${prior}${still}`,
      });
      continue;
    }
    if (!login?.success) {
      skip(`login refused here: ${issues(login?.error as ZodError)}`);
      continue;
    }
    const name = UserNameSchema.safeParse(source.user_name, { error: inputMessage });
    if (!name.success) {
      skip(`user_name refused here: ${issues(name.error)}`);
      continue;
    }
    const first = claimed.get(login.data);
    if (first) {
      skip(
        first.login === source.login
          ? `same login as Flask #${first.id_user}, the row the Flask login found; this one could never log in there`
          : `"${source.login}" and Flask #${first.id_user}'s "${first.login}" are one login here ("${login.data}"); ` +
              `#${first.id_user} is the row the Flask login found`,
      );
      continue;
    }
    const owner = owners.get(login.data);
    if (owner !== undefined) {
      skip(`login "${login.data}" already belongs to account id ${owner} here`);
      continue;
    }
    claimed.set(login.data, { id_user: source.id_user, login: source.login });

    const notes: string[] = [];
    const role: UserRole = source.user_role === ADMIN ? ADMIN : USER;
    if (source.user_role !== ADMIN && source.user_role !== USER) {
      notes.push(`user_role ${source.user_role === null ? 'NULL' : source.user_role} imported as 2 (user)`);
    }
    const method = legacyHashMethod(source.password);
    const keep = keepable(source.id_user) && !taken.has(source.id_user);
    if (!keep) {
      const why = keepable(source.id_user)
        ? 'is taken here'
        : `is outside the ids kept (${KEPT_IDS.min} to ${KEPT_IDS.max.toLocaleString('en')})`;
      notes.push(`id ${source.id_user} ${why}: given a new id`);
    }
    const row: ReportRow = {
      ...base,
      status: method ? 'imported' : 'needs_password',
      userId: keep ? source.id_user : null,
      role,
      detail: [
        method
          ? `${method} hash, replaced by argon2id at the first login`
          : 'the password column holds no hash this service accepts: no password opens the account until an admin sets one',
        ...notes,
      ].join('; '),
    };
    report.push(row);
    const planned = {
      row,
      values: {
        user_name: name.data,
        user_name_search: nameForSearch(name.data),
        login: login.data,
        password_hash: method ? source.password : NO_PASSWORD,
        user_role: role,
      },
    };
    (keep ? keepIds : newIds).push(planned);
  }
  return { report, keepIds, newIds };
}
