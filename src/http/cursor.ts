import { z } from 'zod';
import { badRequest } from './app-error.ts';

/** Keyset position `(timestamp, id)` of the last row of a page, opaque to clients. */
export interface KeysetCursor {
  at: string;
  id: string;
}

// Every list's rows have uuid ids and timestamptz times, compared in SQL after a cast: a cursor that parses
// but names no row we could have returned (not a uuid, year 0000, which PostgreSQL has not got) must be a
// 400 like any other forged one, not a database error.
const CursorShape = z.object({
  at: z.iso.datetime({ offset: true }).refine((value) => !value.startsWith('0000')),
  id: z.uuid(),
});

export function encodeCursor(cursor: KeysetCursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

export function decodeCursor(text: string): KeysetCursor {
  try {
    return CursorShape.parse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
  } catch {
    throw badRequest('cursor is not one this API returned; pass nextCursor from the previous page unchanged');
  }
}

/** Query fields shared by every list route. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().min(1).optional(),
});

/** Takes `limit + 1` rows and turns them into a page and the cursor of the next one. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => KeysetCursor) {
  const data = rows.slice(0, limit);
  const last = data.at(-1);
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last)) : null };
}
