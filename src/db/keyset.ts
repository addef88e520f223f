import { desc, type SQL, sql } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import type { KeysetCursor } from '../http/cursor.ts';

// `ORDER BY … DESC` puts NULLs first, so a NULL time sorts as +infinity and its cursor is the latest time
// there is: a page ending on one goes on with the dated rows (further NULL rows drop out of the row
// comparison). Only for nullable columns whose rows always get `defaultNow()`, where NULL does not occur.
const NULL_AT = '9999-12-31T23:59:59.999999Z';

/**
 * Keyset paging newest first over `(at desc, id desc)`, `at` a `timestamptz` column and `id` a `uuid` one.
 *
 * PostgreSQL keeps microseconds and a JS Date only milliseconds: a cursor built from a Date would skip or
 * repeat rows that share a millisecond, so the cursor's time is rendered by PostgreSQL at full precision.
 */
export function keyset(at: PgColumn, id: PgColumn) {
  const rendered = sql`to_char(${at} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  return {
    /** Select this: the row's position for the cursor, `at` as ISO-8601 text to the microsecond. */
    cursorAt: at.notNull ? sql<string>`${rendered}` : sql<string>`coalesce(${rendered}, ${NULL_AT})`,
    /** Rows strictly after `cursor`; a row comparison, answered from an index on `(at, id)` or `(at)`. */
    after: (cursor: KeysetCursor): SQL =>
      sql`(${at}, ${id}) < (${cursor.at}::timestamptz, ${cursor.id}::uuid)`,
    orderBy: [desc(at), desc(id)] as const,
  };
}

/** The cursor of a row selected with `cursorAt`, for `toPage`. */
export function keyOf(row: { cursorAt: string; id: string }): KeysetCursor {
  return { at: row.cursorAt, id: row.id };
}
