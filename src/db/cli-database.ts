import type { Config } from '../config.ts';
import { createDatabase, type Database, embeddedDatabaseRefusal } from './client.ts';
import { migrateDatabase } from './migrate.ts';

/**
 * For the command-line tools: opens the configured database (DATABASE_URL, or the embedded one, which a
 * production deployment refuses as the service does), brings its schema up to date as the service does at
 * start-up, runs `work`, and closes it.
 */
export async function withConfiguredDatabase<T>(
  config: Pick<Config, 'DATABASE_URL' | 'PGLITE_DIR' | 'ALLOW_EMBEDDED_DATABASE'>,
  work: (database: Database) => Promise<T>,
): Promise<T> {
  const refusal = embeddedDatabaseRefusal({ ...config, nodeEnv: process.env.NODE_ENV });
  if (refusal) throw new Error(refusal);
  const database = await createDatabase({
    url: config.DATABASE_URL,
    pgliteDir: config.PGLITE_DIR,
    maxConnections: 1,
  });
  try {
    await migrateDatabase(database);
    return await work(database);
  } finally {
    await database.close();
  }
}
