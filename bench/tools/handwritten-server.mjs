// The second baseline: a hand-written Fastify app doing the same work as the server's GET /users/:id and
// GET /users, nothing else. fast-jwt verifier (cache on, the server's required claims and access-token
// typ), the guard's one statement (session + user + revoked-token EXISTS), then the user or the keyset
// page, each by prepared statement; the same JSON body, security headers and x-request-id. Its preflight
// answer must equal the server's byte for byte (run.mjs checks), so the two cannot drift apart.
// Settings as the server's: DATABASE_URL (mysql://, postgres:// or sqlite:), JWT_SECRET (HS256), DB_POOL_SIZE, HOST,
// PORT.
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { REST_PREFIX } from '@api-users/contract';
import Fastify from 'fastify';
import { ONE_STATEMENT_PREFIX, requireFromDb, requireFromServer, SERVER_DIR } from '../lib.mjs';

const { createVerifier } = requireFromServer('fast-jwt');
const { API_SECURITY_HEADERS } = await import(
  pathToFileURL(join(SERVER_DIR, 'dist/http/plugins/security-headers.js')).href
);
const env = process.env;
const url = env.DATABASE_URL ?? '';
const mysql = url.startsWith('mysql://');
const postgres = /^postgres(ql)?:\/\//.test(url);
/** Written once with MySQL's quoting and `?`; PostgreSQL numbers its parameters ($1, $2, …). */
const q = (sql) => {
  if (mysql) return sql;
  const quoted = sql.replaceAll('`', '"');
  let n = 0;
  return postgres ? quoted.replaceAll('?', () => `$${++n}`) : quoted;
};

/** The guard's columns; the session's and the caller's named apart from the columns of an account read along. */
const GUARD_COLUMNS =
  '`sessions`.`revoked_at`, `sessions`.`expires_at`, `sessions`.`created_at` as `signed_in_at`, `users`.`user_role` as `caller_role`, `users`.`disabled` as `caller_disabled`, exists (select `jti` from `revoked_tokens` where `jti` = ?) as `token_revoked`';
const GUARD_FROM = 'from `sessions` inner join `users` on `users`.`id_user` = `sessions`.`user_id`';
const GUARD_WHERE = 'where `sessions`.`sid` = ? and `sessions`.`user_id` = ?';
const GUARD = q(`select ${GUARD_COLUMNS} ${GUARD_FROM} ${GUARD_WHERE}`);
/** The server's default SESSION_MAX_AGE (90 days), which its guard also checks. */
const SESSION_MAX_AGE_MS = 90 * 86400 * 1000;
const COLUMNS = '`id_user`, `user_name`, `login`, `user_role`, `created_at`, `disabled`, `email`';
const BY_ID = q(`select ${COLUMNS} from \`users\` where \`id_user\` = ?`);
const FIRST_PAGE = q(`select ${COLUMNS} from \`users\` order by \`id_user\` limit ?`);
const NEXT_PAGE = q(`select ${COLUMNS} from \`users\` where \`id_user\` > ? order by \`id_user\` limit ?`);

/**
 * The guard's statement with the user by id read along, as the server has done since issue 25 (one round trip):
 * the session row left-joined with the user. Served under ONE_STATEMENT_PREFIX, an informative reference; the
 * issue's reference is the two statements above.
 */
const ALONG_COLUMNS = COLUMNS.replaceAll('`', '')
  .split(', ')
  .map((c) => `\`a\`.\`${c}\``)
  .join(', ');
const ONE_BY_ID = q(
  `select ${GUARD_COLUMNS}, ${ALONG_COLUMNS} ${GUARD_FROM} left join \`users\` as \`a\` on \`a\`.\`id_user\` = ? ${GUARD_WHERE}`,
);
/** (sql, params) => rows, by prepared statement on either database. */
function openDatabase() {
  if (mysql) {
    const pool = requireFromDb('mysql2').createPool({
      uri: url,
      connectionLimit: Number(env.DB_POOL_SIZE ?? 10),
      charset: 'utf8mb4_bin',
      supportBigNumbers: true,
      bigNumberStrings: false,
      timezone: 'Z',
    });
    const promise = pool.promise();
    return { all: async (sql, params) => (await promise.execute(sql, params))[0], close: () => promise.end() };
  }
  if (postgres) {
    const pg = requireFromDb('pg');
    // As the server's pool: BIGINT (the millisecond times) as numbers.
    pg.types.setTypeParser(20, Number);
    const pool = new pg.Pool({ connectionString: url, max: Number(env.DB_POOL_SIZE ?? 10) });
    // A named statement is prepared once per connection, then only executed.
    const names = new Map();
    const nameOf = (sql) => names.get(sql) ?? names.set(sql, `s${names.size}`).get(sql);
    return {
      all: async (sql, values) => (await pool.query({ name: nameOf(sql), text: sql, values })).rows,
      close: () => pool.end(),
    };
  }
  const SQLite = requireFromDb('better-sqlite3');
  const sqlite = new SQLite(url.slice('sqlite:'.length));
  sqlite.pragma('journal_mode = WAL');
  const statements = new Map();
  const prepared = (sql) => statements.get(sql) ?? statements.set(sql, sqlite.prepare(sql)).get(sql);
  return { all: async (sql, params) => prepared(sql).all(...params), close: async () => sqlite.close() };
}

const db = openDatabase();
const verify = createVerifier({
  key: env.JWT_SECRET,
  algorithms: ['HS256'],
  clockTolerance: 5000,
  requiredClaims: ['sub', 'type', 'jti', 'sid', 'role', 'iat', 'nbf', 'exp'],
  complete: true,
  cache: true,
});

const toUser = (row) => ({
  id_user: Number(row.id_user),
  user_name: row.user_name,
  login: row.login,
  user_role: row.user_role === 1 ? 1 : 2,
  created_at: new Date(Number(row.created_at)).toISOString(),
  disabled: Number(row.disabled) === 1,
  email_verified: row.email !== null,
});

const refuse = (reply, status, code, msg) => reply.code(status).send({ code, msg });

/** The claims of the request's access token; undefined when it answered 401. */
function claimsOf(req, reply) {
  const token = /^bearer +([A-Za-z0-9_.~+/=-]+)$/i.exec(req.headers.authorization ?? '')?.[1];
  try {
    const { header, payload } = verify(token ?? '');
    if (header.typ !== 'at+jwt' || payload.type !== 'access') throw new Error('not an access token');
    return payload;
  } catch {
    refuse(reply, 401, 'INVALID_TOKEN', 'The token is not valid');
    return undefined;
  }
}

/** The guard's checks on a row of its statement (either form); false when it answered 401. */
function liveRow(row, reply) {
  const now = Date.now();
  if (
    !row ||
    row.revoked_at !== null ||
    row.token_revoked ||
    row.caller_disabled ||
    Number(row.expires_at) <= now ||
    Number(row.signed_in_at) <= now - SESSION_MAX_AGE_MS
  ) {
    refuse(reply, 401, 'TOKEN_REVOKED', 'The token has been revoked');
    return false;
  }
  return true;
}

/** The guard: a valid access token whose session, token and user are live. False when it answered. */
async function guard(req, reply) {
  const claims = claimsOf(req, reply);
  if (!claims) return false;
  const [row] = await db.all(GUARD, [claims.jti, claims.sid, Number(claims.sub)]);
  return liveRow(row, reply);
}

const app = Fastify({ logger: { level: env.LOG_LEVEL ?? 'warn' }, genReqId: () => randomUUID() });
app.addHook('onSend', async (req, reply) => {
  reply.header('x-request-id', req.id);
  reply.headers(API_SECURITY_HEADERS);
});

app.get(`${REST_PREFIX}/users/:id`, async (req, reply) => {
  if (!(await guard(req, reply))) return reply;
  const id = Number(req.params.id);
  const [row] = await db.all(BY_ID, [id]);
  if (!row) return refuse(reply, 404, 'NOT_FOUND', `No user with id ${id}`);
  return toUser(row);
});

app.get(`${REST_PREFIX}/users`, async (req, reply) => {
  if (!(await guard(req, reply))) return reply;
  const limit = Number(req.query.limit ?? 20);
  const cursor = req.query.cursor;
  const rows = await db.all(cursor ? NEXT_PAGE : FIRST_PAGE, cursor ? [Number(cursor), limit + 1] : [limit + 1]);
  const page = rows.slice(0, limit);
  return {
    items: page.map(toUser),
    next_cursor: rows.length > limit ? String(page.at(-1).id_user) : null,
  };
});
app.get(`${ONE_STATEMENT_PREFIX}${REST_PREFIX}/users/:id`, async (req, reply) => {
  const claims = claimsOf(req, reply);
  if (!claims) return reply;
  const id = Number(req.params.id);
  const [row] = await db.all(ONE_BY_ID, [claims.jti, id, claims.sid, Number(claims.sub)]);
  if (!liveRow(row, reply)) return reply;
  if (row.id_user === null) return refuse(reply, 404, 'NOT_FOUND', `No user with id ${id}`);
  return toUser(row);
});

app.get('/healthz', async () => ({ status: 'ok' }));

const stop = () =>
  app
    .close()
    .then(() => db.close())
    .then(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
await app.listen({ host: env.HOST ?? '127.0.0.1', port: Number(env.PORT ?? 0) });
