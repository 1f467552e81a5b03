import { connect, migrateToLatest } from '@api-users/db';
import { ConfigError, loadConfig } from './config.js';

/** `pnpm migrate`: applies pending migrations and exits (the server also does this on start). */
try {
  const { databaseUrl } = loadConfig({ ...process.env, NODE_ENV: 'development' });
  const { db } = connect(databaseUrl);
  try {
    const applied = await migrateToLatest(db);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'Database is up to date');
  } finally {
    await db.destroy();
  }
} catch (err) {
  console.error(
    err instanceof ConfigError ? err.message : `Migration failed: ${err instanceof Error ? err.message : String(err)}`,
  );
  process.exit(1);
}
