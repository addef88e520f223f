import { loadConfig } from '../config.ts';
import { createDatabase, describeDatabaseError, embeddedDatabaseRefusal } from './client.ts';
import { migrateDatabase, readMigrationStatus } from './migrate.ts';

// `npm run db:migrate`: the same migrations the service applies at start-up, for release commands.
try {
  const config = loadConfig(process.env);
  const refusal = embeddedDatabaseRefusal({ ...config, nodeEnv: process.env.NODE_ENV });
  if (refusal) throw new Error(refusal);
  const database = await createDatabase({
    url: config.DATABASE_URL,
    pgliteDir: config.PGLITE_DIR,
    maxConnections: 1,
    // A release command may rewrite a large table: no statement limit (the connect timeout still applies).
    statementTimeoutMs: 0,
  });
  try {
    const ran = await migrateDatabase(database);
    const status = await readMigrationStatus(database);
    const where = config.DATABASE_URL ? 'PostgreSQL' : `embedded database at ${config.PGLITE_DIR}`;
    console.log(
      `applied ${ran} migration(s) to the ${where}; ${status.applied} of ${status.expected} now applied`,
    );
  } finally {
    await database.close();
  }
} catch (error) {
  console.error(describeDatabaseError(error));
  process.exitCode = 1;
}
