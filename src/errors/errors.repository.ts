import { and, eq, getTableColumns, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { keyset } from '../db/keyset.ts';
import { errorLogs } from '../db/schema/index.ts';
import type { KeysetCursor } from '../http/cursor.ts';

export type ErrorRow = typeof errorLogs.$inferSelect;
export type ErrorEntry = typeof errorLogs.$inferInsert;
/** A listed entry: the row and its keyset position, `timestamp` at microsecond precision. */
export type ErrorListRow = ErrorRow & { cursorAt: string };

const errorsKeyset = keyset(errorLogs.timestamp, errorLogs.id);

/**
 * What an entry shows at most. Rows are written by many paths, some long ago (an invalid batch once wrote
 * 50 MB): reading them whole would load a page of such rows into memory, so they are cut in SQL, with a
 * marker saying so, and never reach Node whole.
 */
export const SHOWN_CONTEXT_BYTES = 8 * 1024;
export const SHOWN_TEXT_CHARS = 4 * 1024;

const cutText = (column: typeof errorLogs.errorMessage | typeof errorLogs.stackTrace) =>
  sql<string>`case when length(${column}) > ${SHOWN_TEXT_CHARS}
    then left(${column}, ${SHOWN_TEXT_CHARS}) || ${'… [truncated: '} || length(${column}) || ${' characters in all]'}
    else ${column} end`;

const shownColumns = {
  ...getTableColumns(errorLogs),
  errorMessage: cutText(errorLogs.errorMessage).mapWith(errorLogs.errorMessage),
  stackTrace: cutText(errorLogs.stackTrace).mapWith(errorLogs.stackTrace),
  context: sql<unknown>`case when octet_length(${errorLogs.context}::text) > ${SHOWN_CONTEXT_BYTES}
    then jsonb_build_object('truncated', true, 'bytes', octet_length(${errorLogs.context}::text),
      'head', left(${errorLogs.context}::text, ${SHOWN_CONTEXT_BYTES / 2}))
    else ${errorLogs.context} end`.mapWith(errorLogs.context),
};

export interface ErrorFilter {
  resolved?: boolean | undefined;
  errorType?: string | undefined;
  after?: KeysetCursor | undefined;
  limit: number;
}

export function createErrorsRepository({ db }: { db: Db }) {
  return {
    async record(entry: ErrorEntry): Promise<ErrorRow> {
      const [row] = await db.insert(errorLogs).values(entry).returning();
      if (!row) throw new Error('error_logs insert returned no row');
      return row;
    },

    /** Newest first; `limit + 1` rows so the caller knows whether another page exists. */
    async list({ resolved, errorType, after, limit }: ErrorFilter): Promise<ErrorListRow[]> {
      const conditions: (SQL | undefined)[] = [
        resolved === undefined ? undefined : eq(errorLogs.resolved, resolved),
        errorType ? eq(errorLogs.errorType, errorType) : undefined,
        after ? errorsKeyset.after(after) : undefined,
      ];
      return db
        .select({ ...shownColumns, cursorAt: errorsKeyset.cursorAt })
        .from(errorLogs)
        .where(and(...conditions))
        .orderBy(...errorsKeyset.orderBy)
        .limit(limit + 1);
    },

    async find(id: string): Promise<ErrorRow | undefined> {
      const [row] = await db.select(shownColumns).from(errorLogs).where(eq(errorLogs.id, id));
      return row;
    },

    /** Marks one entry resolved; returns the row before and after, or undefined when there is no such entry. */
    async resolve(
      id: string,
      by: string,
      at: Date,
    ): Promise<{ before: ErrorRow; after: ErrorRow } | undefined> {
      return db.transaction(async (tx) => {
        const [before] = await tx
          .select(shownColumns)
          .from(errorLogs)
          .where(eq(errorLogs.id, id))
          .for('update');
        if (!before) return undefined;
        const [after] = await tx
          .update(errorLogs)
          .set({ resolved: true, resolvedAt: before.resolvedAt ?? at, resolvedBy: before.resolvedBy ?? by })
          .where(eq(errorLogs.id, id))
          .returning(shownColumns);
        return after ? { before, after } : undefined;
      });
    },
  };
}

export type ErrorsRepository = ReturnType<typeof createErrorsRepository>;
