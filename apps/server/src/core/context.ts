import type {
  AuthMethod,
  OperationName,
  Operations,
  OutputOf,
  ParsedInputOf,
  TokenClaims,
  TokenPair,
  UserRole,
} from '@api-users/contract';
import type { Database } from '@api-users/db';
import type { Kysely, Selectable } from 'kysely';

/**
 * What every layer shares: the dependencies handlers run on (ports, implemented by the modules and wired by
 * the composition root in http/app.ts), and the shape of a handler. Imports no module, so nothing can cycle
 * through it.
 */

/** Who is calling, as sessions and the audit log remember it; never a credential. */
export interface Client {
  /** The client's address, as Fastify resolved it (TRUST_PROXY decides whether X-Forwarded-For counts). */
  ip: string;
  /** The `User-Agent` header, cut to what the database keeps. */
  userAgent: string | undefined;
  /** The request id of the logs and the `x-request-id` header. */
  requestId: string;
}

/**
 * The columns that make up an account's public view; the hash is never selected with them, the email only to say
 * whether there is a confirmed one.
 */
export const publicColumns = ['id_user', 'user_name', 'login', 'user_role', 'created_at', 'disabled', 'email'] as const;
export type PublicRow = Pick<Selectable<Database['users']>, (typeof publicColumns)[number]>;

/**
 * The caller an operation sees: the verified claims of the token it sent. For an access token, `role` is the
 * one the database holds now, so a demotion counts at once; a refresh token's is its claim until the
 * refresh reads the database.
 */
export interface Caller {
  userId: number;
  role: UserRole;
  claims: TokenClaims;
  /** The account the operation reads, read by the guard's own statement (users.ts, `accountReads`); null: none. */
  readAlong?: PublicRow | null;
}

/**
 * The caller of an operation that takes a refresh token: the session it names and the ref of the token sent,
 * which the operation compares with its session row (sessions/refresh-tokens.ts).
 */
export interface RefreshCaller {
  sid: string;
  ref: string;
}

/** The session a token pair is issued for. */
export interface SessionRef {
  userId: number;
  role: UserRole;
  sid: string;
  /** The refresh token of the pair (opaque; its session row keeps only a digest of it). */
  refreshToken: string;
  /** When the session was signed in (epoch ms): it ends SESSION_MAX_AGE later, and no access token outlives it. */
  signedInAt: number;
  /** How it was signed in (RFC 8176), as its tokens say. */
  amr: AuthMethod[];
}

export type TokenType = 'access' | 'refresh';

export interface TokenService {
  issuePair(session: SessionRef, nowMs: number): TokenPair;
  /** Verifies signature, algorithm, time claims, type, issuer and audience; throws the AppError to answer with. */
  verify(token: string, expected: TokenType): Promise<TokenClaims>;
}

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  /**
   * Checks a password against a stored hash. With no stored hash (unknown login) it verifies against a
   * throwaway hash, so both answers take the same time and the same path.
   */
  verify(stored: string | null, password: string): Promise<boolean>;
  /** True when the stored hash was made with other parameters than the current ones, or is a legacy hash. */
  needsRehash(stored: string): boolean;
  /** Stops the hashing threads. */
  close(): Promise<void>;
  /** Hashes and checks waiting for a thread (metrics); a hasher without a queue leaves it out. */
  queued?(): number;
}

/** The least time a refused password takes to answer (modules/auth/failed-login-floor.ts says why). */
export interface FailedLoginFloor {
  /** The floor now, in ms; 0 when no legacy hash is stored. */
  readonly ms: number;
  /** Resolves no sooner than the floor after `startedAt` (a `performance.now()`). */
  wait(startedAt: number): Promise<void>;
  /** Checks again whether any legacy hash is stored. */
  refresh(): Promise<void>;
  stop(): void;
}

/**
 * Device tokens, OWASP's device cookies: what a client that signed in to an account before sends back, so that
 * the account's sign-in block (an attack from many clients) does not stop it. Bound to the login and signed.
 */
export interface DeviceTokens {
  issue(login: string): string;
  /** The device's id when `token` was issued for `login` (signed by this deployment), else undefined. */
  verify(login: string, token: string): string | undefined;
}

/** The account-wide count of wrong passwords: the one limit many clients together can bring an account to. */
export interface SignInLimits {
  /** Seconds until the block on sign-ins from unknown clients ends; null when there is none. */
  blockedFor(login: string): Promise<number | null>;
  /** Clears the count; whether there was a block. */
  lift(login: string): Promise<boolean>;
}

/** What a mail says, by kind; the mailer writes its words and its link. */
export type MailMessage =
  | { kind: 'verify'; to: string; token: string; expiresAt: number }
  | { kind: 'reset'; to: string; token: string; expiresAt: number }
  | { kind: 'email_change_notice'; to: string };

export interface Mailer {
  /** Whether mail can go out (SMTP, or the log in development); flows that need it are refused when not. */
  readonly available: boolean;
  /** Sends after the answer, retrying a failed delivery; a mail that cannot go is logged, never answered. */
  send(message: MailMessage): void;
}

/** The settings handlers read (a part of the configuration). */
export interface Settings {
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  /** Seconds after sign-in past which a session cannot be refreshed, however often it was rotated. */
  sessionMaxAgeSeconds: number;
  /** Who may list and read other accounts: anyone signed in (the original's rule), or admins only. */
  usersReadableBy: 'everyone' | 'admins';
  /** Who may create accounts: anyone (`open`, as the Flask service), or only admins (`admins`: invite-only). */
  registration: 'open' | 'admins';
  /** Seconds an audit event is kept before the purge deletes it; 0 keeps events for ever. */
  auditRetentionSeconds: number;
  /** Whether an admin without a second factor may only enrol one (operations marked `beforeMfa`). */
  mfaRequiredForAdmins: boolean;
  /** The issuer an authenticator app shows for its codes (the otpauth:// URI's). */
  totpIssuer: string;
  /** The relying party passkeys belong to, and the origins (pages) they may be used from. */
  webauthn: { rpId: string; rpName: string; origins: string[] };
  /** Where webhooks may go: https only (production), and private addresses only when allowed (tests). */
  webhooks: { requireHttps: boolean; allowPrivate: boolean; timeoutMs: number; pollIntervalMs: number };
}

/** What the handlers need from the outside world; built once in the composition root. */
export interface Deps {
  db: Kysely<Database>;
  clock: () => number;
  tokens: TokenService;
  passwords: PasswordHasher;
  failedLogins: FailedLoginFloor;
  devices: DeviceTokens;
  signInLimits: SignInLimits;
  mailer: Mailer;
  /** Runs `task` after the answer (tracked, so a shutdown waits for it; a failure is logged). */
  later(task: () => Promise<void>): void;
  config: Settings;
}

/** Operations that take a token always get a caller; the others may get one (`optional`) or none. */
type CallerFor<K extends OperationName> = Operations[K]['auth'] extends 'refresh'
  ? RefreshCaller
  : Operations[K]['auth'] extends 'access'
    ? Caller
    : Caller | null;

/** What a handler knows besides its input: the dependencies, who sent the request, and from where. */
export type Context<K extends OperationName> = Deps & { caller: CallerFor<K>; client: Client };

/** The one shape of every operation's handler: its context and its input, as the contract parsed it. */
export type Handler<K extends OperationName> = (ctx: Context<K>, input: ParsedInputOf<K>) => Promise<OutputOf<K>>;

export type Handlers = { [K in OperationName]: Handler<K> };

/** For operations that read one account: its id, from the parsed input and the token's claims. */
export type AccountReads = { [K in OperationName]?: (input: ParsedInputOf<K>, claims: TokenClaims) => number };
