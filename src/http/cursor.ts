import { z } from 'zod';
import { badRequest } from './app-error.ts';

/** Keyset position `(timestamp, id)` of the last row of a page, opaque to clients. */
export interface KeysetCursor {
  at: string;
  id: string;
}

// PostgreSQL takes UTC offsets up to ±15:59 ("time zone displacement out of range" beyond); zod takes ±23:59.
function offsetInRange(value: string): boolean {
  const offset = /([+-])(\d{2}):?(\d{2})$/.exec(value);
  return !offset || Number(offset[2]) <= 15;
}

/**
 * An ISO-8601 timestamp PostgreSQL can compare with: zod takes year 0000, which PostgreSQL has not got (1 BC
 * is year 1 there), and offsets it refuses. Refused here as a 400 naming the field, not a 500 from the query.
 */
export const isoTimestamp = (field: string) =>
  z.iso
    .datetime({ offset: true, message: `${field} must be an ISO-8601 timestamp, e.g. 2026-01-31T09:00:00Z` })
    .refine((value) => !value.startsWith('0000'), `${field} is out of range`)
    .refine(offsetInRange, `${field} has a UTC offset beyond ±15:59`);

/** A text filter: PostgreSQL text cannot hold U+0000, so a NUL would fail the query (a 500) rather than match. */
export const filterText = (field: string, max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((value) => !value.includes('\u0000'), `${field} must not contain U+0000 (NUL)`);

// Every list's rows have uuid ids and timestamptz times, compared in SQL after a cast: a cursor that parses
// but names no row we could have returned (not a uuid, year 0000, which PostgreSQL has not got) must be a
// 400 like any other forged one, not a database error.
const CursorShape = z.object({
  at: isoTimestamp('cursor'),
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
