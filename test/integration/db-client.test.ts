import { sql } from 'drizzle-orm';
import { describe, expect, inject } from 'vitest';
import { query } from '../../src/db/query.ts';
import { retryOnConflict } from '../../src/db/transient.ts';
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

  // A deadlock needs two connections: a real PostgreSQL.
  test.runIf(inject('testDatabase').kind === 'postgres')(
    'a transaction PostgreSQL aborts to break a deadlock is run again and lands',
    async ({ database }) => {
      await database.db.execute(sql`create table deadlock_probe (id int primary key, touched int not null)`);
      await database.db.execute(sql`insert into deadlock_probe values (1, 0), (2, 0)`);
      // Two transactions each lock one row, wait until the other holds its own, then ask for the other's.
      const crossingPair = (wrap: (work: () => Promise<void>) => Promise<void>) => {
        let holding = 0;
        let bothHoldOne!: () => void;
        const met = new Promise<void>((resolve) => {
          bothHoldOne = resolve;
        });
        let attempts = 0;
        const crossing = (first: number, second: number) =>
          wrap(() =>
            database.db.transaction(async (tx) => {
              attempts++;
              await tx.execute(sql`update deadlock_probe set touched = touched + 1 where id = ${first}`);
              if (++holding === 2) bothHoldOne();
              await met;
              await tx.execute(sql`update deadlock_probe set touched = touched + 1 where id = ${second}`);
            }),
          );
        return Promise.allSettled([crossing(1, 2), crossing(2, 1)]).then((settled) => ({
          settled,
          attempts,
        }));
      };

      const bare = await crossingPair((work) => work());
      const refused = bare.settled.filter((s) => s.status === 'rejected');
      expect(refused).toHaveLength(1);
      expect(String((refused[0] as PromiseRejectedResult).reason?.cause?.code)).toBe('40P01');

      const retried = await crossingPair((work) => retryOnConflict(work));
      expect(retried.settled.map((s) => s.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(retried.attempts).toBe(3);
      // One from the bare pair, two from the retried one, on each row.
      const rows = await query<{ touched: number }>(
        database.db,
        sql`select touched from deadlock_probe order by id`,
      );
      expect(rows.map((row) => row.touched)).toEqual([3, 3]);
    },
  );
});
