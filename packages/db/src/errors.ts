/** Dialect-specific error recognition, kept beside the dialect choice. */

interface DriverError {
  code?: unknown;
  errno?: unknown;
}

const asDriverError = (err: unknown): DriverError => (typeof err === 'object' && err !== null ? err : {});

export function isUniqueViolation(err: unknown): boolean {
  const { code } = asDriverError(err);
  return code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/** InnoDB rolled the transaction back to break a deadlock with another one. */
export const isDeadlock = (err: unknown): boolean => asDriverError(err).code === 'ER_LOCK_DEADLOCK';

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
]);

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
  // mysql2 wraps a refused connection in an AggregateError carrying the per-address errors.
  return err instanceof AggregateError && err.errors.some(isUnavailable);
}
