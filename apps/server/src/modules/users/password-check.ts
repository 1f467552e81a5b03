import type { Client, Deps } from '../../core/context.js';
import { refuse } from '../../core/errors.js';
import { type AuditRecord, record } from '../audit/audit.js';

/**
 * A wrong password, wherever one is checked: an audit event, no answer before the failed-login floor (begun at
 * `started`), and one error for each kind of check: at sign-in BAD_CREDENTIALS, the same for an unknown login
 * (the answer says nothing about the account); a signed-in caller confirming a change WRONG_PASSWORD (there is
 * no login to be wrong).
 */
export async function refusePassword(
  deps: Deps,
  started: number,
  now: number,
  client: Client,
  event: Omit<AuditRecord, 'type'>,
  check: 'signIn' | 'confirmation',
): Promise<never> {
  await record(deps.db, now, client, { type: 'login_failed', ...event });
  await deps.failedLogins.wait(started);
  throw refuse(check === 'signIn' ? 'badCredentials' : 'wrongPassword');
}
