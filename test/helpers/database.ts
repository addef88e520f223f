import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject, test } from 'vitest';
import { createDatabase, type Database } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { databaseUrl } from './postgres-target.ts';

let admin: postgres.Sql | undefined;
function adminClient(url: string): postgres.Sql {
  admin ??= postgres(url, { max: 2, onnotice: () => {} });
  return admin;
}

export interface ScratchDatabase {
  /** `postgres://…` of the new database, or undefined on the PGlite fallback. */
  url: string | undefined;
  open(): Promise<Database>;
  drop(): Promise<void>;
}

/** A new database: a copy of the migrated template, or (`empty`) one with nothing in it. */
export async function createScratchDatabase({ empty = false } = {}): Promise<ScratchDatabase> {
  const target = inject('testDatabase');
  if (target.kind === 'pglite') {
    return {
      url: undefined,
      async open() {
        const database = await createDatabase({ pgliteDir: 'memory://' });
        if (!empty) await migrateDatabase(database);
        return database;
      },
      async drop() {},
    };
  }
  // Named after the run's main process (the template's name carries its pid), not this worker's, so the run's
  // teardown, or the next run's setup when this one is interrupted, finds and drops it.
  const runPid = /^hs_template_(\d+)$/.exec(target.template)?.[1] ?? String(process.pid);
  const name = `hs_test_${runPid}_${randomBytes(5).toString('hex')}`;
  const client = adminClient(target.adminUrl);
  await client.unsafe(
    empty ? `create database ${name}` : `create database ${name} template ${target.template}`,
  );
  const url = databaseUrl(target.adminUrl, name);
  return {
    url,
    open: () => createDatabase({ url, maxConnections: 4 }),
    async drop() {
      await client.unsafe(`drop database if exists ${name} with (force)`);
    },
  };
}

/** A vitest `test` whose context carries `database`: a private, migrated database, dropped after the test. */
export const dbTest = test.extend<{ database: Database }>({
  // biome-ignore lint/correctness/noEmptyPattern: vitest reads fixture dependencies from this pattern
  database: async ({}, use) => {
    const scratch = await createScratchDatabase();
    const database = await scratch.open();
    try {
      await use(database);
    } finally {
      await database.close();
      await scratch.drop();
    }
  },
});
