import type { Generated } from 'kysely';

/** Times are epoch milliseconds in BIGINT columns: one representation on MySQL and SQLite. */
export interface UsersTable {
  id_user: Generated<number>;
  user_name: string;
  login: string;
  password_hash: string;
  user_role: number;
  created_at: number;
}

/** One row per login session; it holds the one refresh token id that may still be spent. */
export interface SessionsTable {
  sid: string;
  user_id: number;
  refresh_jti: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
}

/** Access tokens revoked before their expiry; rows can go once `expires_at` has passed. */
export interface RevokedTokensTable {
  jti: string;
  expires_at: number;
}

/** A single row (id 1) claimed by the account that bootstraps an empty database as admin. */
export interface AdminBootstrapTable {
  id: number;
}

/** Flask users already imported (`pnpm import-flask`): the Flask `id_user` and the account it became. */
export interface FlaskImportTable {
  flask_id: number;
  user_id: number;
  imported_at: number;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  revoked_tokens: RevokedTokensTable;
  admin_bootstrap: AdminBootstrapTable;
  flask_import: FlaskImportTable;
}
