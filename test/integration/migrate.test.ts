import { sql } from 'drizzle-orm';
import { describe, expect, inject, test } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { migrateDatabase, readMigrationStatus } from '../../src/db/migrate.ts';
import { createScratchDatabase } from '../helpers/database.ts';

/** Everything a migration could change, as one comparable text. */
async function describeSchema(database: Database): Promise<string> {
  const parts = await Promise.all([
    database.rows(sql`select table_name, column_name, data_type, is_nullable, column_default
      from information_schema.columns where table_schema = 'public' order by 1, 2`),
    database.rows(sql`select conrelid::regclass::text as t, conname, pg_get_constraintdef(oid) as def
      from pg_constraint where connamespace = 'public'::regnamespace order by 1, 2`),
    database.rows(sql`select indexname, indexdef from pg_indexes where schemaname = 'public' order by 1`),
    database.rows(sql`select tablename, policyname, cmd, qual from pg_policies order by 1, 2`),
    database.rows(sql`select relname, relrowsecurity from pg_class where relnamespace = 'public'::regnamespace
      and relkind = 'r' order by 1`),
    database.rows(sql`select tgname from pg_trigger where not tgisinternal order by 1`),
  ]);
  return JSON.stringify(parts);
}

async function withEmptyDatabase(work: (open: () => Promise<Database>) => Promise<void>) {
  const scratch = await createScratchDatabase({ empty: true });
  try {
    await work(() => scratch.open());
  } finally {
    await scratch.drop();
  }
}

describe('migrations', () => {
  test('an empty database gets every table, and a second run changes nothing', async () => {
    await withEmptyDatabase(async (open) => {
      const database = await open();
      try {
        expect((await readMigrationStatus(database)).upToDate).toBe(false);
        const first = await migrateDatabase(database);
        const after = await describeSchema(database);
        const second = await migrateDatabase(database);
        expect(first).toBeGreaterThan(0);
        expect(second).toBe(0);
        expect(await describeSchema(database)).toBe(after);
        const status = await readMigrationStatus(database);
        expect(status).toEqual({ expected: first, applied: first, upToDate: true });
        const tables = await database.rows<{ table_name: string }>(
          sql`select table_name from information_schema.tables where table_schema = 'public'`,
        );
        expect(tables.map((t) => t.table_name)).toEqual(
          expect.arrayContaining([
            'hubspot_connections',
            'sync_sessions',
            'contacts',
            'sync_logs',
            'audit_logs',
            'error_logs',
          ]),
        );
      } finally {
        await database.close();
      }
    });
  });

  // Several instances only share a database on PostgreSQL; an embedded database belongs to one process.
  test.runIf(inject('testDatabase').kind === 'postgres')(
    'instances starting at once apply the migrations exactly once between them',
    async () => {
      await withEmptyDatabase(async (open) => {
        const instances = await Promise.all([open(), open(), open()]);
        try {
          const applied = await Promise.all(instances.map((db) => migrateDatabase(db)));
          expect(applied.filter((n) => n > 0)).toHaveLength(1);
          const recorded = await Promise.all(
            instances.map((db) =>
              db.rows<{ n: number }>(sql`select count(*)::int as n from drizzle.__drizzle_migrations`),
            ),
          );
          expect(recorded.map(([row]) => row?.n)).toEqual(instances.map(() => Math.max(...applied)));
        } finally {
          await Promise.all(instances.map((db) => db.close()));
        }
      });
    },
  );

  test("the seed's per-user contacts policy appears only where Supabase's auth.uid() exists", async () => {
    const policiesOf = async (database: Database) =>
      (
        await database.rows<{ policyname: string }>(
          sql`select policyname from pg_policies where tablename = 'contacts'`,
        )
      ).map((p) => p.policyname);
    await withEmptyDatabase(async (open) => {
      const plain = await open();
      try {
        await migrateDatabase(plain);
        expect(await policiesOf(plain)).not.toContain('Users can view their own data');
      } finally {
        await plain.close();
      }
    });
    await withEmptyDatabase(async (open) => {
      const supabaseLike = await open();
      try {
        await supabaseLike.rows(sql`create schema auth`);
        await supabaseLike.rows(
          sql`create function auth.uid() returns uuid language sql stable as 'select null::uuid'`,
        );
        await migrateDatabase(supabaseLike);
        expect(await policiesOf(supabaseLike)).toContain('Users can view their own data');
      } finally {
        await supabaseLike.close();
      }
    });
  });
});
