import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';

/** A row of the Flask service's `User` table, as its `db.create_all()` made it. */
export interface FlaskUser {
  id_user: number;
  user_name: string;
  login: string;
  /** A werkzeug hash, or whatever else a write outside the app left there: never printed. */
  password: string;
  user_role: number | null;
}

/** A problem the person running the import can fix, told in one line (never with the source's password). */
export class ImportError extends Error {}

/** The URL as it may be shown: without its password. */
const display = (url: URL) =>
  `mysql://${url.username ? `${decodeURIComponent(url.username)}@` : ''}${url.host}${url.pathname}`;

/** Checks `--from`: a `mysql://user:pass@host[:port]/database` URL. */
export function parseSourceUrl(from: string): URL {
  let url: URL;
  try {
    url = new URL(from);
  } catch {
    throw new ImportError('--from must be a URL such as mysql://user:password@host:3306/flask_db');
  }
  if (url.protocol !== 'mysql:' || !url.hostname || url.pathname.length < 2) {
    throw new ImportError(`--from must be a mysql:// URL naming host and database (got ${url.protocol}//…)`);
  }
  return url;
}

export interface FlaskSource {
  /** Rows in `User`, and in `revoked_tokens` (which are not imported). */
  count(): Promise<{ users: number; revokedTokens: number }>;
  /** Up to `size` users with `id_user` above `after`, in id order. */
  usersAfter(after: number, size: number): Promise<FlaskUser[]>;
  close(): Promise<void>;
}

/** Opens the Flask database read-only in intent: only SELECTs are sent. */
export async function openSource(url: URL): Promise<FlaskSource> {
  const password = decodeURIComponent(url.password);
  const fail = (what: string, err: unknown): never => {
    const e = err as { code?: string; message?: string };
    // mysql2 wraps a refused connection in an AggregateError with no message of its own, only a code.
    const why = e.message || e.code || String(err);
    throw new ImportError(`${what} ${display(url)}: ${password ? why.replaceAll(password, '***') : why}`);
  };
  let conn: Connection;
  try {
    conn = await createConnection({
      uri: url.toString(),
      connectTimeout: 5000,
      charset: 'utf8mb4',
      supportBigNumbers: true,
      bigNumberStrings: false,
    });
  } catch (err) {
    return fail('cannot connect to the Flask database at', err);
  }
  const select = async <T>(sql: string, params: number[] = []): Promise<T[]> => {
    try {
      const [rows] = await conn.execute<RowDataPacket[]>(sql, params);
      return rows as T[];
    } catch (err) {
      return fail('cannot read', err);
    }
  };
  // Lower-cased: a server with lower_case_table_names=1 keeps `User` as `user` (and finds it by either name).
  const tables = new Set(
    (
      await select<{ name: string }>(
        'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = DATABASE()',
      )
    ).map((t) => t.name.toLowerCase()),
  );
  if (!tables.has('user')) {
    await conn.end();
    throw new ImportError(`${display(url)} has no table \`User\`: is it the Flask service's database?`);
  }
  const countOf = async (table: string) =>
    tables.has(table.toLowerCase())
      ? Number((await select<{ n: number }>(`SELECT COUNT(*) AS n FROM \`${table}\``))[0]?.n)
      : 0;
  return {
    count: async () => ({ users: await countOf('User'), revokedTokens: await countOf('revoked_tokens') }),
    async usersAfter(after, size) {
      const rows = await select<FlaskUser>(
        // The LIMIT is our own integer: a placeholder there trips some MySQL versions' prepared statements.
        `SELECT id_user, user_name, login, password, user_role FROM \`User\` WHERE id_user > ? ORDER BY id_user LIMIT ${Math.trunc(size)}`,
        [after],
      );
      return rows.map((r) => ({
        ...r,
        id_user: Number(r.id_user),
        user_role: r.user_role === null ? null : Number(r.user_role),
      }));
    },
    close: () => conn.end(),
  };
}
