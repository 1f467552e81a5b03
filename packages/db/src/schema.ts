import type { Generated } from 'kysely';

/** Times are epoch milliseconds in BIGINT columns: one representation on MySQL and SQLite. */
export interface UsersTable {
  id_user: Generated<number>;
  user_name: string;
  login: string;
  password_hash: string;
  user_role: number;
  created_at: number;
  /** 1 when an admin has disabled the account: it cannot sign in, and its sessions are ended. */
  disabled: Generated<number>;
  /** `user_name` folded for case-insensitive search (search.ts); written with every name. */
  user_name_search: string;
  /**
   * Raised by every change of the password, the role or the disabled flag: a sign-in opens its session only
   * while it is the value read with the hash it verified, so no such change can be outrun.
   */
  credentials_version: Generated<number>;
  /** The confirmed email address, lower case; null until one is confirmed. */
  email: Generated<string | null>;
}

/** One row per login session; it knows the one refresh token that may still be spent, and the one before. */
export interface SessionsTable {
  sid: string;
  user_id: number;
  /**
   * The live refresh token: the SHA-256 (hex) of its secret; for a refresh JWT issued before migration 0005 and
   * not yet spent, its `jti`.
   */
  refresh_ref: string;
  /** The refresh token it replaced: sent again, it is a replay (RFC 9700), and the session ends. */
  previous_refresh_ref: string | null;
  /** How it was signed in: RFC 8176 method references, comma-separated (`pwd`). */
  amr: Generated<string>;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  /** The client as seen at sign-in and at the last refresh (addresses as Fastify resolved them). */
  client_address: string | null;
  user_agent: string | null;
  refreshed_at: number | null;
  refreshed_client_address: string | null;
  refreshed_user_agent: string | null;
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

/** The append-only audit log: who did what to which account, from where; never a secret. */
export interface AuditEventsTable {
  id: Generated<number>;
  at: number;
  type: string;
  actor_id: number | null;
  target_id: number | null;
  session_id: string | null;
  detail: string | null;
  client_address: string | null;
  user_agent: string | null;
  request_id: string | null;
}

/** Named locks: a transaction that updates a row holds that lock until it ends. */
export interface LocksTable {
  name: string;
  version: number;
}

/** An authenticator app of an account (RFC 6238); it counts at sign-in once confirmed. */
export interface TotpFactorsTable {
  user_id: number;
  /** The shared secret, base32: the server must compute codes from it, so it cannot be kept as a digest. */
  secret: string;
  created_at: number;
  /** Null while the enrolment waits for its first code. */
  confirmed_at: number | null;
  /** The 30-second step of the last code accepted: no code of it or before is accepted again (replay). */
  last_step: number | null;
}

/** An account's recovery codes: the SHA-256 of each (80 random bits), spent once. */
export interface RecoveryCodesTable {
  user_id: number;
  code_digest: string;
  used_at: number | null;
}

/** A sign-in whose password was right, waiting for its second factor: its token is `mfa.<id>.<secret>`. */
export interface MfaChallengesTable {
  id: string;
  /** SHA-256 of the token's secret. */
  digest: string;
  user_id: number;
  /** As read with the password verified: a change of the credentials since voids the challenge. */
  credentials_version: number;
  /** The device token's id the sign-in carried, so the code step keeps that client's own failure budget. */
  device_id: string | null;
  expires_at: number;
  used_at: number | null;
  /** Codes sent with it; at the limit it is spent. */
  attempts: Generated<number>;
}

/** A passkey (WebAuthn credential) of an account: it signs in alone, or as the second factor. */
export interface PasskeysTable {
  id: string;
  user_id: number;
  /** The credential id, base64url, as the authenticator names it. */
  credential_id: string;
  /** The COSE public key, base64url. */
  public_key: string;
  /** The signature counter last seen: one that goes back is a cloned authenticator. */
  counter: number;
  /** The authenticator's transports, comma-separated (`internal,hybrid`), as hints for the browser. */
  transports: string;
  /** `singleDevice` (bound to one authenticator) or `multiDevice` (synced), with whether it is backed up now. */
  device_type: string;
  backed_up: number;
  name: string;
  created_at: number;
  last_used_at: number | null;
}

/** A WebAuthn ceremony under way: the challenge its answer must sign, for one purpose, once, before it expires. */
export interface WebauthnCeremoniesTable {
  id: string;
  /** `register` (a passkey of `user_id`) or `sign_in` (any account's passkey, or `user_id`'s after a password). */
  purpose: string;
  challenge: string;
  user_id: number | null;
  /** The password step (mfa_challenges) a second-factor sign-in finishes. */
  mfa_challenge_id: string | null;
  expires_at: number;
  used_at: number | null;
}

/** The token of a mailed link: confirm an address (`verify`) or set a new password (`reset`). */
export interface EmailTokensTable {
  id: string;
  /** SHA-256 of the token's secret: the link's token opens nothing from a copy of the database. */
  digest: string;
  user_id: number;
  purpose: string;
  /** The address mailed: for `verify`, the one that becomes the account's. */
  email: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** Where events are sent (Standard Webhooks), and which. */
export interface WebhookEndpointsTable {
  id: string;
  url: string;
  /** Comma-separated event types, or `*` for all. */
  event_types: string;
  enabled: number;
  /** The signing secret, `whsec_` and base64 (the receiver holds it too: it cannot be kept as a digest). */
  secret: string;
  /** The secret before the last rotation: it signs too, until `previous_secret_until`. */
  previous_secret: Generated<string | null>;
  previous_secret_until: Generated<number | null>;
  description: string;
  created_at: number;
}

/** One event for one endpoint: the outbox row, then its delivery's state. */
export interface WebhookDeliveriesTable {
  id: Generated<number>;
  /** The `webhook-id` header: the same for every endpoint and every attempt, so receivers drop duplicates. */
  message_id: string;
  endpoint_id: string;
  event_type: string;
  /** The JSON body, as signed. */
  payload: string;
  created_at: number;
  /** `pending`, `delivered` or `failed` (gave up after a day). */
  status: string;
  attempts: number;
  next_attempt_at: number;
  /** While an instance is sending it: no other claims it before this time. */
  lease_until: number | null;
  last_status: number | null;
  last_error: string | null;
  last_latency_ms: number | null;
  delivered_at: number | null;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  revoked_tokens: RevokedTokensTable;
  admin_bootstrap: AdminBootstrapTable;
  flask_import: FlaskImportTable;
  audit_events: AuditEventsTable;
  locks: LocksTable;
  totp_factors: TotpFactorsTable;
  recovery_codes: RecoveryCodesTable;
  mfa_challenges: MfaChallengesTable;
  passkeys: PasskeysTable;
  webauthn_ceremonies: WebauthnCeremoniesTable;
  email_tokens: EmailTokensTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
}
