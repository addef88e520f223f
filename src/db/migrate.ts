import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { Database, RawExec } from './client.ts';

export const MIGRATIONS_FOLDER = fileURLToPath(new URL('../../drizzle', import.meta.url));

// The shipped migrations never change while the process runs: read them once, not on every readiness probe.
const shippedByFolder = new Map<string, ReturnType<typeof readMigrationFiles>>();
function shippedMigrations(migrationsFolder: string) {
  let shipped = shippedByFolder.get(migrationsFolder);
  if (!shipped) {
    shipped = readMigrationFiles({ migrationsFolder });
    shippedByFolder.set(migrationsFolder, shipped);
  }
  return shipped;
}

// Any fixed 64-bit number; it only has to differ from the other advisory locks the service takes.
const MIGRATION_LOCK_KEY = 7_262_002_001n;

/**
 * Applies pending migrations in one transaction. Idempotent, and safe when several instances start at
 * once: they queue on an advisory lock and the later ones find nothing left to do. The bookkeeping table
 * is drizzle-kit's own (`drizzle.__drizzle_migrations`), so drizzle's tools agree with it.
 */
export async function migrateDatabase(
  database: Database,
  migrationsFolder = MIGRATIONS_FOLDER,
): Promise<number> {
  const migrations = shippedMigrations(migrationsFolder);
  return database.withAdvisoryLock(MIGRATION_LOCK_KEY, async (exec) => {
    await exec('create schema if not exists drizzle');
    await exec(
      'create table if not exists drizzle.__drizzle_migrations (id serial primary key, hash text not null, created_at bigint)',
    );
    const [last] = await exec(
      'select created_at from drizzle.__drizzle_migrations order by created_at desc limit 1',
    );
    const appliedUpTo = Number(last?.created_at ?? 0);
    const pending = migrations.filter((m) => m.folderMillis > appliedUpTo);
    if (pending.length === 0) return 0;
    await inTransaction(exec, async () => {
      for (const migration of pending) {
        for (const statement of migration.sql) if (statement.trim()) await exec(statement);
        await exec('insert into drizzle.__drizzle_migrations (hash, created_at) values ($1, $2)', [
          migration.hash,
          migration.folderMillis,
        ]);
      }
    });
    return pending.length;
  });
}

async function inTransaction(exec: RawExec, work: () => Promise<void>): Promise<void> {
  await exec('begin');
  try {
    await work();
    await exec('commit');
  } catch (error) {
    await exec('rollback');
    throw error;
  }
}

export interface MigrationStatus {
  expected: number;
  applied: number;
  upToDate: boolean;
}

/** Compares the migrations recorded in the database with those shipped in `drizzle/`. */
export async function readMigrationStatus(
  database: Database,
  migrationsFolder = MIGRATIONS_FOLDER,
): Promise<MigrationStatus> {
  const shipped = shippedMigrations(migrationsFolder);
  const newest = Math.max(0, ...shipped.map((m) => m.folderMillis));
  const [table] = await database.rows<{ exists: boolean }>(
    sql`select to_regclass('drizzle.__drizzle_migrations') is not null as exists`,
  );
  if (!table?.exists) return { expected: shipped.length, applied: 0, upToDate: shipped.length === 0 };
  const [row] = await database.rows<{ applied: number; newest: string | null }>(
    sql`select count(*)::int as applied, max(created_at)::text as newest from drizzle.__drizzle_migrations`,
  );
  return {
    expected: shipped.length,
    applied: row?.applied ?? 0,
    upToDate: Number(row?.newest ?? 0) >= newest,
  };
}
