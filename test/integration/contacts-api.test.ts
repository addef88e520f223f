import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { describe, expect } from 'vitest';
import { createAuditRepository } from '../../src/audit/audit.repository.ts';
import type { Database } from '../../src/db/client.ts';
import { type ContactSyncStatus, contacts } from '../../src/db/schema/index.ts';
import { encodeCursor } from '../../src/http/cursor.ts';
import { ADMIN_TOKEN, asAdmin, asReader, buildTestApp } from '../helpers/app.ts';
import { dbTest as test } from '../helpers/database.ts';

interface ContactSeed {
  hubspotId?: string;
  properties?: Record<string, string | null>;
  syncStatus?: ContactSyncStatus | null;
  /** ISO timestamp, microseconds allowed. */
  updatedAt?: string;
  archived?: boolean;
  mergedInto?: string | null;
}

let nextHubspotId = 1000;

async function insertContact(database: Database, seed: ContactSeed = {}) {
  const hubspotId = seed.hubspotId ?? String(nextHubspotId++);
  const updatedAt = seed.updatedAt ?? '2026-01-01T00:00:00Z';
  const [row] = await database.db
    .insert(contacts)
    .values({
      hubspotId,
      data: seed.properties ?? { email: `c${hubspotId}@example.com`, firstname: 'Pat', lastname: 'Doe' },
      lastSync: new Date('2026-01-02T03:04:05.678Z'),
      syncStatus: seed.syncStatus === undefined ? 'synced' : seed.syncStatus,
      createdAt: new Date('2025-12-01T00:00:00Z'),
      updatedAt: sql`${updatedAt}::timestamptz`,
      archived: seed.archived ?? false,
      mergedInto: seed.mergedInto ?? null,
    })
    .returning({ id: contacts.id, hubspotId: contacts.hubspotId });
  if (!row) throw new Error('insert returned no row');
  return row;
}

async function list(app: FastifyInstance, query: string) {
  const response = await app.inject({ method: 'GET', url: `/api/contacts?${query}`, headers: asReader });
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as { data: { hubspotId: string; id: string }[]; nextCursor: string | null };
}

async function hubspotIdsOf(app: FastifyInstance, query: string): Promise<string[]> {
  return (await list(app, query)).data.map((c) => c.hubspotId).sort();
}

describe('GET /api/contacts', () => {
  test('needs a token: none or a wrong one is 401, the read and admin tokens read', async ({ database }) => {
    await insertContact(database, { hubspotId: '42' });
    const app = await buildTestApp(database);
    for (const url of ['/api/contacts', '/api/contacts/42', '/api/contacts/not-an-id']) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token' }, { authorization: ADMIN_TOKEN }]) {
        const response = await app.inject({ method: 'GET', url, headers });
        expect(response.statusCode).toBe(401);
        expect(response.json().error.code).toBe('unauthorized');
      }
    }
    for (const headers of [asReader, asAdmin]) {
      expect((await app.inject({ method: 'GET', url: '/api/contacts', headers })).statusCode).toBe(200);
      expect((await app.inject({ method: 'GET', url: '/api/contacts/42', headers })).statusCode).toBe(200);
    }
    await app.close();
  });

  test('a contact is shown in the contract’s shape, with its properties and ISO timestamps', async ({
    database,
  }) => {
    const { id } = await insertContact(database, {
      hubspotId: '501',
      properties: { email: 'ada@example.com', firstname: 'Ada', lastname: null, company: 'Analytical' },
      syncStatus: 'pending',
      updatedAt: '2026-03-04T05:06:07.123456Z',
    });
    const app = await buildTestApp(database);
    expect(await list(app, '')).toEqual({
      data: [
        {
          id,
          hubspotId: '501',
          properties: { email: 'ada@example.com', firstname: 'Ada', lastname: null, company: 'Analytical' },
          archived: false,
          mergedInto: null,
          purgedAt: null,
          syncStatus: 'pending',
          lastSync: '2026-01-02T03:04:05.678Z',
          createdAt: '2025-12-01T00:00:00.000Z',
          updatedAt: '2026-03-04T05:06:07.123Z',
        },
      ],
      nextCursor: null,
    });
    await app.close();
  });

  test('email matches the whole address, ignoring case', async ({ database }) => {
    await insertContact(database, { hubspotId: '1', properties: { email: 'Ann.Lee@Example.com' } });
    await insertContact(database, { hubspotId: '2', properties: { email: 'ann.lee@example.com.au' } });
    await insertContact(database, { hubspotId: '3', properties: { email: 'joann.lee@example.com' } });
    await insertContact(database, { hubspotId: '4', properties: { firstname: 'No email' } });
    const app = await buildTestApp(database);
    expect(await hubspotIdsOf(app, 'email=ann.lee%40EXAMPLE.COM')).toEqual(['1']);
    expect(await hubspotIdsOf(app, 'email=ann.lee%40example.com.au')).toEqual(['2']);
    expect(await hubspotIdsOf(app, 'email=lee%40example.com')).toEqual([]);
    await app.close();
  });

  test('q is a case-insensitive substring of email, first name, last name or company', async ({
    database,
  }) => {
    await insertContact(database, { hubspotId: '1', properties: { email: 'grace@navy.mil' } });
    await insertContact(database, { hubspotId: '2', properties: { firstname: 'Navya' } });
    await insertContact(database, { hubspotId: '3', properties: { lastname: 'Canavy' } });
    await insertContact(database, { hubspotId: '4', properties: { company: 'NAVY Yard' } });
    await insertContact(database, {
      hubspotId: '5',
      properties: { jobtitle: 'navy officer', email: 'x@y.z' },
    });
    const app = await buildTestApp(database);
    expect(await hubspotIdsOf(app, 'q=navy')).toEqual(['1', '2', '3', '4']);
    expect(await hubspotIdsOf(app, 'q=NaVy%20Y')).toEqual(['4']);
    expect(await hubspotIdsOf(app, 'q=officer')).toEqual([]);
    await app.close();
  });

  test('q treats %, _ and \\ in the input as themselves, not as LIKE wildcards', async ({ database }) => {
    await insertContact(database, { hubspotId: '1', properties: { company: '100% Organic' } });
    await insertContact(database, { hubspotId: '2', properties: { company: '100 Organic' } });
    await insertContact(database, { hubspotId: '3', properties: { email: 'a_b@example.com' } });
    await insertContact(database, { hubspotId: '4', properties: { email: 'axb@example.com' } });
    await insertContact(database, { hubspotId: '5', properties: { lastname: 'back\\slash' } });
    await insertContact(database, { hubspotId: '6', properties: { lastname: 'backslash' } });
    const app = await buildTestApp(database);
    expect(await hubspotIdsOf(app, 'q=100%25')).toEqual(['1']);
    expect(await hubspotIdsOf(app, 'q=a_b')).toEqual(['3']);
    expect(await hubspotIdsOf(app, 'q=%25')).toEqual(['1']);
    expect(await hubspotIdsOf(app, 'q=_')).toEqual(['3']);
    expect(await hubspotIdsOf(app, 'q=k%5Cs')).toEqual(['5']);
    await app.close();
  });

  test('sync_status and updated_since filter, and every filter combines with the others', async ({
    database,
  }) => {
    await insertContact(database, {
      hubspotId: '1',
      syncStatus: 'synced',
      updatedAt: '2026-02-01T00:00:00.000001Z',
      properties: { email: 'one@acme.test', company: 'Acme' },
    });
    await insertContact(database, {
      hubspotId: '2',
      syncStatus: 'error',
      updatedAt: '2026-02-01T00:00:00Z',
      properties: { email: 'two@acme.test', company: 'Acme' },
    });
    await insertContact(database, {
      hubspotId: '3',
      syncStatus: 'error',
      updatedAt: '2026-01-31T23:59:59.999999Z',
      properties: { email: 'three@acme.test', company: 'Acme' },
    });
    await insertContact(database, {
      hubspotId: '4',
      syncStatus: 'pending',
      updatedAt: '2026-03-01T00:00:00Z',
      properties: { email: 'four@other.test', company: 'Other' },
    });
    await insertContact(database, { hubspotId: '5', syncStatus: null });
    const app = await buildTestApp(database);

    expect(await hubspotIdsOf(app, 'sync_status=error')).toEqual(['2', '3']);
    expect(await hubspotIdsOf(app, 'sync_status=pending')).toEqual(['4']);
    expect(await hubspotIdsOf(app, 'sync_status=synced')).toEqual(['1']);
    // Inclusive bound, to the microsecond; an offset is honoured.
    expect(await hubspotIdsOf(app, 'updated_since=2026-02-01T00:00:00Z')).toEqual(['1', '2', '4']);
    expect(await hubspotIdsOf(app, 'updated_since=2026-02-01T00:00:00.000001Z')).toEqual(['1', '4']);
    expect(await hubspotIdsOf(app, 'updated_since=2026-02-01T01:00:00%2B01:00')).toEqual(['1', '2', '4']);
    expect(await hubspotIdsOf(app, 'q=acme&sync_status=error')).toEqual(['2', '3']);
    expect(await hubspotIdsOf(app, 'q=acme&sync_status=error&updated_since=2026-02-01T00:00:00Z')).toEqual([
      '2',
    ]);
    expect(await hubspotIdsOf(app, 'email=TWO%40acme.test&sync_status=synced')).toEqual([]);
    expect(await hubspotIdsOf(app, 'email=TWO%40acme.test&sync_status=error&q=acme')).toEqual(['2']);
    await app.close();
  });

  test('archived (deleted or merged-away) contacts are listed only with archived=true', async ({
    database,
  }) => {
    await insertContact(database, { hubspotId: '1', properties: { email: 'live@example.com' } });
    await insertContact(database, {
      hubspotId: '2',
      archived: true,
      properties: { email: 'gone@example.com' },
    });
    await insertContact(database, {
      hubspotId: '3',
      archived: true,
      mergedInto: '1',
      properties: { email: 'merged@example.com' },
    });
    const app = await buildTestApp(database);
    expect(await hubspotIdsOf(app, '')).toEqual(['1']);
    expect(await hubspotIdsOf(app, 'archived=false')).toEqual(['1']);
    expect(await hubspotIdsOf(app, 'archived=true')).toEqual(['2', '3']);
    expect(await hubspotIdsOf(app, 'q=merged')).toEqual([]);
    const merged = await list(app, 'archived=true&email=merged%40example.com');
    expect(merged.data).toEqual([
      expect.objectContaining({ hubspotId: '3', archived: true, mergedInto: '1' }),
    ]);
    await app.close();
  });

  test('paging with limit=25 visits every row exactly once, newest first, through ties', async ({
    database,
  }) => {
    // 20 distinct times, 10 rows inside one millisecond (a cursor truncated to milliseconds would skip
    // them), then 100 rows sharing one timestamp.
    const seeds: { updatedAt: string; rank: number }[] = [];
    for (let i = 0; i < 20; i++) {
      seeds.push({ updatedAt: `2026-05-01T00:00:${String(59 - i).padStart(2, '0')}Z`, rank: i });
    }
    for (let i = 0; i < 10; i++) {
      seeds.push({ updatedAt: `2026-04-01T00:00:00.5000${String(10 - i).padStart(2, '0')}Z`, rank: 20 + i });
    }
    for (let i = 0; i < 100; i++) seeds.push({ updatedAt: '2026-03-01T12:00:00.123456Z', rank: 30 });
    const expected: { id: string; rank: number }[] = [];
    for (const seed of seeds) {
      const { id } = await insertContact(database, { updatedAt: seed.updatedAt });
      expected.push({ id, rank: seed.rank });
    }
    // Archived rows interleaved in time must not appear, nor shift the pages.
    for (let i = 0; i < 5; i++) {
      await insertContact(database, { updatedAt: '2026-03-01T12:00:00.123456Z', archived: true });
    }
    // PostgreSQL orders uuids bytewise, which is the order of their lowercase hex text.
    expected.sort((a, b) => a.rank - b.rank || (a.id < b.id ? 1 : -1));

    const app = await buildTestApp(database);
    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const page = await list(app, `limit=25${cursor ? `&cursor=${cursor}` : ''}`);
      seen.push(...page.data.map((c) => c.id));
      pageSizes.push(page.data.length);
      cursor = page.nextCursor;
    } while (cursor && pageSizes.length < 20);

    expect(seen).toHaveLength(130);
    expect(new Set(seen).size).toBe(130);
    expect(seen).toEqual(expected.map((e) => e.id));
    expect(pageSizes).toEqual([25, 25, 25, 25, 25, 5]);
    await app.close();
  });

  test('the cursor keeps the filters’ results: paging a filtered list stays inside the filter', async ({
    database,
  }) => {
    for (let i = 0; i < 12; i++) {
      await insertContact(database, {
        syncStatus: i % 2 === 0 ? 'error' : 'synced',
        updatedAt: '2026-01-05T00:00:00Z',
      });
    }
    const app = await buildTestApp(database);
    const first = await list(app, 'sync_status=error&limit=4');
    const second = await list(app, `sync_status=error&limit=4&cursor=${first.nextCursor}`);
    expect(first.data).toHaveLength(4);
    expect(second.data).toHaveLength(2);
    expect(second.nextCursor).toBeNull();
    const all = await hubspotIdsOf(app, 'sync_status=error');
    expect([...first.data, ...second.data].map((c) => c.hubspotId).sort()).toEqual(all);
    await app.close();
  });

  test('a forged or damaged cursor is 400, never a database error', async ({ database }) => {
    await insertContact(database);
    const app = await buildTestApp(database);
    const forged = [
      'bm9wZQ',
      'not base64 at all!',
      encodeCursor({ at: '2026-01-01T00:00:00Z', id: 'not-a-uuid' }),
      encodeCursor({ at: '0000-01-01T00:00:00Z', id: '00000000-0000-4000-8000-000000000000' }),
      Buffer.from(JSON.stringify({ at: 'yesterday', id: '00000000-0000-4000-8000-000000000000' })).toString(
        'base64url',
      ),
    ];
    for (const cursor of forged) {
      const response = await app.inject({
        method: 'GET',
        url: `/api/contacts?cursor=${encodeURIComponent(cursor)}`,
        headers: asReader,
      });
      expect(response.statusCode, cursor).toBe(400);
      expect(response.json().error).toEqual({
        code: 'invalid_request',
        message: expect.stringContaining('cursor'),
      });
    }
    await app.close();
  });

  test('bad input is 400 with a message naming the field', async ({ database }) => {
    const app = await buildTestApp(database);
    const cases: [string, string][] = [
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=2.5', 'limit'],
      ['sync_status=deleted', 'sync_status'],
      ['updated_since=yesterday', 'updated_since'],
      ['updated_since=2026-01-01', 'updated_since'],
      ['updated_since=2026-01-01T00:00:00', 'updated_since'],
      ['updated_since=0000-01-01T00:00:00Z', 'updated_since'],
      ['archived=maybe', 'archived'],
      ['email=', 'email'],
      ['q=', 'q'],
    ];
    for (const [query, field] of cases) {
      const response = await app.inject({ method: 'GET', url: `/api/contacts?${query}`, headers: asReader });
      expect(response.statusCode, query).toBe(400);
      expect(response.json().error.code, query).toBe('invalid_request');
      expect(response.json().error.message, query).toContain(field);
    }
    await app.close();
  });

  test('limit defaults to 50 and may go to 500', async ({ database }) => {
    for (let i = 0; i < 51; i++) await insertContact(database);
    const app = await buildTestApp(database);
    const byDefault = await list(app, '');
    expect(byDefault.data).toHaveLength(50);
    expect(byDefault.nextCursor).not.toBeNull();
    const max = await list(app, 'limit=500');
    expect(max.data).toHaveLength(51);
    expect(max.nextCursor).toBeNull();
    await app.close();
  });
});

describe('GET /api/contacts/:hubspotId', () => {
  test('returns the contact’s properties and its latest 20 audit entries, newest first', async ({
    database,
  }) => {
    const { id } = await insertContact(database, {
      hubspotId: '777',
      properties: { email: 'kim@example.com', firstname: 'Kim' },
      updatedAt: '2026-06-01T00:00:00Z',
    });
    const audit = createAuditRepository({ db: database.db });
    for (let i = 0; i < 25; i++) {
      await audit.record({
        entityType: 'contact',
        entityId: '777',
        operation: 'update',
        newData: { n: i },
        userId: 'admin-token',
        timestamp: new Date(Date.UTC(2026, 5, 1, 0, 0, i)),
      });
    }
    // Entries about other things must not leak into this contact's trail.
    await audit.record({
      entityType: 'contact',
      entityId: '778',
      operation: 'update',
      newData: { n: 'other' },
    });
    await audit.record({
      entityType: 'error_log',
      entityId: '777',
      operation: 'update',
      newData: { n: 'err' },
    });
    const app = await buildTestApp(database);

    const response = await app.inject({ method: 'GET', url: '/api/contacts/777', headers: asReader });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toMatchObject({
      id,
      hubspotId: '777',
      properties: { email: 'kim@example.com', firstname: 'Kim' },
      archived: false,
      mergedInto: null,
      syncStatus: 'synced',
      updatedAt: '2026-06-01T00:00:00.000Z',
    });
    expect(body.audit).toHaveLength(20);
    expect(body.audit.map((e: { newData: { n: number } }) => e.newData.n)).toEqual(
      Array.from({ length: 20 }, (_, i) => 24 - i),
    );
    expect(body.audit[0]).toEqual({
      id: expect.any(String),
      entityType: 'contact',
      entityId: '777',
      operation: 'update',
      oldData: null,
      newData: { n: 24 },
      userId: 'admin-token',
      timestamp: '2026-06-01T00:00:24.000Z',
      ipAddress: null,
      userAgent: null,
    });
    await app.close();
  });

  test('an archived or merged-away contact is still found, with an empty trail when it has none', async ({
    database,
  }) => {
    await insertContact(database, { hubspotId: '900', archived: true, mergedInto: '901' });
    const app = await buildTestApp(database);
    const response = await app.inject({ method: 'GET', url: '/api/contacts/900', headers: asReader });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({ hubspotId: '900', archived: true, mergedInto: '901', audit: [] });
    await app.close();
  });

  test('an unknown id is 404 and an id that is not all digits is 400', async ({ database }) => {
    await insertContact(database, { hubspotId: '124' });
    const app = await buildTestApp(database);
    const unknown = await app.inject({ method: 'GET', url: '/api/contacts/123', headers: asReader });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ error: { code: 'not_found', message: 'no contact 123' } });
    for (const bad of ['abc', '12a', '-5', '1.5', '1'.repeat(21)]) {
      const response = await app.inject({ method: 'GET', url: `/api/contacts/${bad}`, headers: asReader });
      expect(response.statusCode, bad).toBe(400);
      expect(response.json().error.message, bad).toContain('hubspotId');
    }
    await app.close();
  });

  test('both routes appear in the OpenAPI document', async ({ database }) => {
    const app = await buildTestApp(database);
    const paths = Object.keys((await app.inject({ method: 'GET', url: '/docs/json' })).json().paths);
    expect(paths).toEqual(expect.arrayContaining(['/api/contacts', '/api/contacts/{hubspotId}']));
    await app.close();
  });
});
