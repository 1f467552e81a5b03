/** Dialect-specific error recognition, kept beside the dialect choice. */

interface DriverError {
  code?: unknown;
  errno?: unknown;
}

const asDriverError = (err: unknown): DriverError => (typeof err === 'object' && err !== null ? err : {});

/** PostgreSQL's SQLSTATE of a unique violation (node-postgres puts the SQLSTATE in `code`). */
const PG_UNIQUE_VIOLATION = '23505';
const PG_DEADLOCK_DETECTED = '40P01';

export function isUniqueViolation(err: unknown): boolean {
  const { code } = asDriverError(err);
  return (
    code === 'ER_DUP_ENTRY' ||
    code === PG_UNIQUE_VIOLATION ||
    code === 'SQLITE_CONSTRAINT_UNIQUE' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/** The database rolled the transaction back to break a deadlock with another one (InnoDB or PostgreSQL). */
export const isDeadlock = (err: unknown): boolean => {
  const { code } = asDriverError(err);
  return code === 'ER_LOCK_DEADLOCK' || code === PG_DEADLOCK_DETECTED;
};

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_CON_COUNT_ERROR',
  'ER_SERVER_SHUTDOWN',
  'POOL_CLOSED',
  'SQLITE_CANTOPEN',
  // Past the statement bound (ConnectOptions.statementTimeoutSeconds): a lock held elsewhere, or a statement too slow.
  'ER_LOCK_WAIT_TIMEOUT',
  // A deadlock that went on after inTransaction's runs again.
  'ER_LOCK_DEADLOCK',
  'ER_QUERY_TIMEOUT',
  // PostgreSQL (SQLSTATE): connection exceptions, too many connections, shutting down or starting, a statement
  // cancelled by statement_timeout, a lock not had within lock_timeout, and a deadlock that went on.
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '53300',
  '57P01',
  '57P02',
  '57P03',
  '57014',
  '55P03',
  PG_DEADLOCK_DETECTED,
]);

/**
 * node-postgres reports a lost or unopenable connection by message only, without a code; these are its words
 * (pg 8 and pg-pool 3).
 */
const PG_CONNECTION_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

/** MariaDB's max_statement_time error, which mysql2 has no code name for. */
const ER_STATEMENT_TIMEOUT = 1969;

/** True when the database could not be reached or is busy, as opposed to a query being wrong. */
export function isUnavailable(err: unknown): boolean {
  const { code, errno } = asDriverError(err);
  if (errno === ER_STATEMENT_TIMEOUT) return true;
  if (typeof code === 'string') {
    // SQLITE_BUSY and SQLITE_LOCKED come with extended variants (SQLITE_BUSY_SNAPSHOT, ...): all mean "held by another".
    if (UNAVAILABLE_CODES.has(code) || code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return true;
  }
  if (err instanceof Error && PG_CONNECTION_MESSAGES.some((words) => err.message.startsWith(words))) return true;
  // mysql2 wraps a refused connection in an AggregateError carrying the per-address errors.
  return err instanceof AggregateError && err.errors.some(isUnavailable);
}
