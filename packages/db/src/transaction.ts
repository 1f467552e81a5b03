import type { Kysely, Transaction } from 'kysely';
import { isDeadlock } from './errors.js';
import type { Database } from './schema.js';

/** Runs of a transaction that deadlocks, the first included; past them the deadlock error stands (503). */
const DEADLOCK_ATTEMPTS = 3;

/**
 * Runs `work` in a transaction, again from the start when InnoDB rolled it back to break a deadlock (what
 * MySQL's manual asks of applications: the whole transaction is undone, so running it again is safe). `work`
 * must do nothing outside the database that a second run would repeat.
 */
export async function inTransaction<T>(db: Kysely<Database>, work: (trx: Transaction<Database>) => Promise<T>) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.transaction().execute(work);
    } catch (err) {
      if (!isDeadlock(err) || attempt === DEADLOCK_ATTEMPTS) throw err;
    }
  }
}
