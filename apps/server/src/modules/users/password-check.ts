import type { Client, Deps } from '../../core/context.js';
import { refuse } from '../../core/errors.js';
import { type AuditRecord, record } from '../audit/audit.js';

/**
 * A wrong password, wherever one is checked: an audit event, no answer before the failed-login floor (begun at
 * `started`), and the same error, so the answer says nothing about the account.
 */
export async function refusePassword(
  deps: Deps,
  started: number,
  now: number,
  client: Client,
  event: Omit<AuditRecord, 'type'>,
): Promise<never> {
  await record(deps.db, now, client, { type: 'login_failed', ...event });
  await deps.failedLogins.wait(started);
  throw refuse('badCredentials');
}
