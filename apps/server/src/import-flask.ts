import { parseArgs } from 'node:util';
import { connect, isUniqueViolation, migrateToLatest, pendingMigrations } from '@api-users/db';
import { ConfigError, loadConfig } from './config.js';
import { importFlaskUsers } from './modules/flask-import/import.js';
import { formatReport } from './modules/flask-import/report.js';
import { ImportError, openSource, parseSourceUrl } from './modules/flask-import/source.js';

const USAGE = 'usage: pnpm import-flask --from mysql://user:password@host:3306/flask_db [--dry-run] [--batch-size 500]';

/**
 * `pnpm import-flask`: copies the Flask service's users into the database at DATABASE_URL (migrating it first)
 * and prints what became of every row. Progress goes to stderr, the report to stdout.
 */
async function main(): Promise<void> {
  let values: { from?: string; 'dry-run'?: boolean; 'batch-size'?: string };
  try {
    ({ values } = parseArgs({
      options: { from: { type: 'string' }, 'dry-run': { type: 'boolean' }, 'batch-size': { type: 'string' } },
    }));
  } catch (err) {
    throw new ImportError(`${(err as Error).message}\n${USAGE}`);
  }
  if (!values.from) throw new ImportError(`--from is required\n${USAGE}`);
  const batchSize = Number(values['batch-size'] ?? 500);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new ImportError('--batch-size must be a whole number from 1 to 10000');
  }
  const from = parseSourceUrl(values.from);
  const { databaseUrl } = loadConfig({ ...process.env, NODE_ENV: 'development' });
  const source = await openSource(from);
  const { db } = connect(databaseUrl);
  try {
    const dryRun = values['dry-run'] === true;
    if (!dryRun) await migrateToLatest(db);
    else {
      const pending = await pendingMigrations(db);
      if (pending.length > 0) {
        throw new ImportError(
          `DATABASE_URL's database needs migrations (${pending.join(', ')}); a dry run changes nothing, so run \`npx -y pnpm@10 migrate\` first`,
        );
      }
    }
    const report = await importFlaskUsers(source, db, {
      dryRun,
      batchSize,
      onProgress: (done, total) => process.stderr.write(`${done} of ${total} Flask users handled\n`),
    });
    console.log(formatReport(report));
  } finally {
    await Promise.all([source.close(), db.destroy()]);
  }
}

main().catch((err: unknown) => {
  if (err instanceof ImportError || err instanceof ConfigError) console.error(err.message);
  else if (isUniqueViolation(err)) {
    console.error('Import stopped: a login or id was taken in this database meanwhile; run it again to go on.');
  } else console.error(`Import failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
