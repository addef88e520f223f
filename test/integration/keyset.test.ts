import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { describe, expect } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { auditLogs, errorLogs } from '../../src/db/schema/index.ts';
import { encodeCursor } from '../../src/http/cursor.ts';
import { asAdmin, buildTestApp } from '../helpers/app.ts';
import { dbTest as test } from '../helpers/database.ts';

// Five times inside one millisecond (a cursor cut to milliseconds would skip or repeat them), inserted out
// of order, with a neighbour in the millisecond after and the one before.
const SAME_MILLISECOND = [
  '2026-01-01T00:00:00.000123Z',
  '2026-01-01T00:00:00.000999Z',
  '2026-01-01T00:00:00.000001Z',
  '2026-01-01T00:00:00.000500Z',
  '2026-01-01T00:00:00.000124Z',
];
const TIMES = [...SAME_MILLISECOND, '2026-01-01T00:00:00.001000Z', '2025-12-31T23:59:59.999999Z'];

interface LogList {
  url: string;
  /** Inserts one row at `at` (ISO text, or null for no time) and returns its id. */
  insert(database: Database, at: string | null, label: string): Promise<string>;
}

const lists: Record<'error log' | 'audit log', LogList> = {
  'error log': {
    url: '/api/errors',
    async insert(database, at, label) {
      const [row] = await database.db
        .insert(errorLogs)
        .values({
          errorType: 'test',
          errorMessage: label,
          timestamp: at === null ? null : sql`${at}::timestamptz`,
        })
        .returning({ id: errorLogs.id });
      if (!row) throw new Error('insert returned no row');
      return row.id;
    },
  },
  'audit log': {
    url: '/api/audit',
    async insert(database, at, label) {
      const [row] = await database.db
        .insert(auditLogs)
        .values({
          entityType: 'test',
          entityId: label,
          operation: 'update',
          timestamp: at === null ? null : sql`${at}::timestamptz`,
        })
        .returning({ id: auditLogs.id });
      if (!row) throw new Error('insert returned no row');
      return row.id;
    },
  },
};

async function page(app: FastifyInstance, url: string) {
  const response = await app.inject({ method: 'GET', url, headers: asAdmin });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as { data: { id: string }[]; nextCursor: string | null };
}

/** Every id the list gives, following `nextCursor` with `limit`, and the size of each page. */
async function pageThrough(app: FastifyInstance, url: string, limit: number) {
  const seen: string[] = [];
  const sizes: number[] = [];
  let cursor: string | null = null;
  do {
    const body = await page(app, `${url}?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    seen.push(...body.data.map((row) => row.id));
    sizes.push(body.data.length);
    cursor = body.nextCursor;
  } while (cursor && sizes.length < 20);
  return { seen, sizes };
}

describe.each(Object.entries(lists))('keyset paging of the %s', (_name, list) => {
  test('rows sharing a millisecond are each listed exactly once, newest first to the microsecond', async ({
    database,
  }) => {
    const rows: { id: string; at: string }[] = [];
    for (const [i, at] of TIMES.entries()) rows.push({ id: await list.insert(database, at, `r${i}`), at });
    // ISO text of one length and zone sorts as the times do.
    const expected = rows.toSorted((a, b) => (a.at < b.at ? 1 : -1)).map((row) => row.id);
    const app = await buildTestApp(database);

    const { seen, sizes } = await pageThrough(app, list.url, 2);
    expect(seen).toEqual(expected);
    expect(new Set(seen).size).toBe(TIMES.length);
    expect(sizes).toEqual([2, 2, 2, 1]);
    await app.close();
  });

  test('rows sharing one exact time page by id, each once', async ({ database }) => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await list.insert(database, '2026-01-01T00:00:00.000123Z', `r${i}`));
    const app = await buildTestApp(database);
    const { seen } = await pageThrough(app, list.url, 2);
    // PostgreSQL orders uuids bytewise, which is the order of their lowercase hex text.
    expect(seen).toEqual(ids.toSorted().reverse());
    await app.close();
  });

  test('a row without a time does not break paging through the others', async ({ database }) => {
    const dated: string[] = [];
    for (const at of SAME_MILLISECOND.slice(0, 3)) dated.push(await list.insert(database, at, at));
    const undated = await list.insert(database, null, 'no time');
    const app = await buildTestApp(database);
    const { seen } = await pageThrough(app, list.url, 1);
    // NULL sorts first under DESC; every dated row still comes, once.
    expect(seen).toEqual([undated, dated[1], dated[0], dated[2]]);
    await app.close();
  });

  test('a forged cursor is 400, never a database error', async ({ database }) => {
    await list.insert(database, SAME_MILLISECOND[0] ?? '', 'r');
    const app = await buildTestApp(database);
    const uuid = '00000000-0000-4000-8000-000000000000';
    for (const cursor of [
      'bm9wZQ',
      encodeCursor({ at: '2026-01-01T00:00:00Z', id: 'not-a-uuid' }),
      encodeCursor({ at: '0000-01-01T00:00:00Z', id: uuid }),
    ]) {
      const response = await app.inject({
        method: 'GET',
        url: `${list.url}?cursor=${encodeURIComponent(cursor)}`,
        headers: asAdmin,
      });
      expect(response.statusCode, cursor).toBe(400);
      expect(response.json().error.code, cursor).toBe('invalid_request');
    }
    await app.close();
  });
});
