import type { SQL } from 'drizzle-orm';
import type { Db } from './client.ts';
import { resultRows } from './client.ts';

/** A database or a transaction: anything that runs SQL. */
export type Executor = Pick<Db, 'execute'>;
export type Transaction = Parameters<Parameters<Db['transaction']>[0]>[0];

export async function query<T>(executor: Executor, statement: SQL): Promise<T[]> {
  return resultRows<T>(await executor.execute(statement));
}

/** Many rows as one JSON parameter, unpacked server-side by `jsonb_to_recordset`: one round trip for a batch. */
export const asJson = (value: unknown) => JSON.stringify(value);

// PostgreSQL unpacks one big JSON array slower per row than several small ones (a 1,000-row statement cost
// 2.7× the server CPU per row of ten 100-row ones here), so large batches go as slices.
const SLICE_ROWS = 100;

/**
 * Runs `statement` over `rows` in slices of 100, all sent at once: on one connection (a transaction) they are
 * pipelined, so slicing costs no round trips, and run in order, so rows sorted for locking stay sorted.
 */
export async function inSlices<R, T>(
  rows: readonly R[],
  statement: (slice: readonly R[]) => Promise<T[]>,
): Promise<T[]> {
  if (rows.length <= SLICE_ROWS) return statement(rows);
  const pending: Promise<T[]>[] = [];
  for (let start = 0; start < rows.length; start += SLICE_ROWS)
    pending.push(statement(rows.slice(start, start + SLICE_ROWS)));
  return (await Promise.all(pending)).flat();
}
