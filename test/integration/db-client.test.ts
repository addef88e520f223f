import { sql } from 'drizzle-orm';
import { describe, expect, inject } from 'vitest';
import { dbTest as test } from '../helpers/database.ts';

describe('the PostgreSQL client', () => {
  // Prepared statements belong to a PostgreSQL connection; PGlite has no such protocol cost to save.
  test.runIf(inject('testDatabase').kind === 'postgres')(
    'prepares parameterised statements once per connection, inside transactions too',
    async ({ database }) => {
      const prepared = await database.db.transaction(async (tx) => {
        for (const value of [1, 2, 3]) await tx.execute(sql`select ${value}::int + 1 as next`);
        return tx.execute(
          sql`select statement from pg_prepared_statements where statement like '%+ 1 as next'`,
        );
      });
      expect(prepared).toHaveLength(1);
    },
  );
});
