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
