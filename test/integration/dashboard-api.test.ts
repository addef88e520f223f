import { sql } from 'drizzle-orm';
import { describe, expect } from 'vitest';
import { asAdmin, asReader, buildTestApp } from '../helpers/app.ts';
import { dbTest as test } from '../helpers/database.ts';
import { webhookPipeline } from '../helpers/pipeline.ts';
import { propertyChange } from '../helpers/webhooks.ts';

const T = 1_795_000_000_000;
const change = propertyChange;

describe('GET /api/contacts/:hubspotId/history', () => {
  test("a contact's values, newest HubSpot time first, stale ones marked, paged and filtered", async ({
    database,
  }) => {
    const pipeline = webhookPipeline(database);
    await pipeline.receive([
      change(42, T, 'email', 'first@example.com'),
      change(42, T + 2_000, 'email', 'second@example.com'),
      change(42, T + 1_000, 'firstname', 'Ada'),
    ]);
    await pipeline.applyAll();
    // Arrives late with an older time: recorded, not applied.
    await pipeline.receive([change(42, T + 500, 'email', 'late@example.com')]);
    await pipeline.applyAll();
    const app = await buildTestApp(database);

    const all = await app.inject({ method: 'GET', url: '/api/contacts/42/history', headers: asReader });
    expect(all.statusCode).toBe(200);
    expect(
      all
        .json()
        .data.map((h: { propertyName: string; value: string; applied: boolean }) => [
          h.propertyName,
          h.value,
          h.applied,
        ]),
    ).toEqual([
      ['email', 'second@example.com', true],
      ['firstname', 'Ada', true],
      ['email', 'late@example.com', false],
      ['email', 'first@example.com', true],
    ]);
    expect(all.json().data[0]).toMatchObject({
      occurredAt: new Date(T + 2_000).toISOString(),
      source: 'webhook',
    });

    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `property=email&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await app.inject({
        method: 'GET',
        url: `/api/contacts/42/history?${query}`,
        headers: asReader,
      });
      const body: { data: { value: string }[]; nextCursor: string | null } = page.json();
      seen.push(...body.data.map((h) => h.value));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['second@example.com', 'late@example.com', 'first@example.com']);
    await app.close();
  });

  test('an unknown contact is 404; a forged cursor or a bad property name is 400', async ({ database }) => {
    const app = await buildTestApp(database);
    const get = (url: string) => app.inject({ method: 'GET', url, headers: asReader });
    const unknown = await get('/api/contacts/999/history');
    const cursor = await get('/api/contacts/999/history?cursor=bm90LWEtY3Vyc29y');
    const property = await get('/api/contacts/999/history?property=Email%20Address');
    expect([unknown.statusCode, cursor.statusCode, property.statusCode]).toEqual([404, 400, 400]);
    expect(cursor.json().error.message).toMatch(/cursor/);
    expect(property.json().error.message).toMatch(/property/);
    expect((await app.inject({ method: 'GET', url: '/api/contacts/999/history' })).statusCode).toBe(401);
    await app.close();
  });
});

describe('POST /api/errors/:id/replay', () => {
  test('puts the parked events back in line, leaves the error open, and is audited', async ({ database }) => {
    const pipeline = webhookPipeline(database);
    await database.rows(sql`create function reject_7() returns trigger language plpgsql as $$
      begin if new.hubspot_id = '7' then raise exception 'contact 7 is cursed'; end if; return new; end $$`);
    await database.rows(sql`create trigger reject_7 before insert or update on contacts
      for each row execute function reject_7()`);
    await pipeline.receive([change(7, T, 'email', 'seven@example.com')]);
    for (let attempt = 0; attempt < 6; attempt++) {
      await database.rows(sql`update webhook_inbox set next_attempt_at = now() where status = 'pending'`);
      await pipeline.applyAll();
    }
    const [parked] = await database.rows<{ status: string; error_log_id: string }>(
      sql`select status, error_log_id from webhook_inbox where object_id = 7`,
    );
    expect(parked?.status).toBe('parked');
    const app = await buildTestApp(database);
    const url = `/api/errors/${parked?.error_log_id}/replay`;

    expect((await app.inject({ method: 'POST', url, headers: asReader })).statusCode).toBe(403);
    await database.rows(sql`drop trigger reject_7 on contacts`);
    const replayed = await app.inject({ method: 'POST', url, headers: asAdmin });
    expect(replayed.statusCode).toBe(200);
    expect(replayed.json()).toEqual({ replayedEvents: 1 });
    await pipeline.applyAll();
    const [row] = await database.rows<{ email: string }>(
      sql`select data->>'email' as email from contacts where hubspot_id = '7'`,
    );
    expect(row?.email).toBe('seven@example.com');

    const entry = await app.inject({ method: 'GET', url: '/api/errors?resolved=false', headers: asReader });
    expect(entry.json().data.map((e: { id: string }) => e.id)).toContain(parked?.error_log_id);
    const audit = await app.inject({
      method: 'GET',
      url: `/api/audit?entity_id=${parked?.error_log_id}`,
      headers: asAdmin,
    });
    expect(audit.json().data).toEqual([
      expect.objectContaining({
        entityType: 'error_log',
        newData: { replayedEvents: 1 },
        userId: 'admin-token',
      }),
    ]);
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/errors/00000000-0000-4000-8000-000000000000/replay',
      headers: asAdmin,
    });
    expect(unknown.statusCode).toBe(404);
    await app.close();
  });
});

test('the OpenAPI document describes every route of the API, the WebSocket included', async ({
  database,
}) => {
  const app = await buildTestApp(database);
  const paths = (await app.inject({ method: 'GET', url: '/docs/json' })).json().paths as Record<
    string,
    Record<string, { summary?: string; security?: unknown[] }>
  >;
  const expected = [
    ['post', '/webhooks/hubspot'],
    ['get', '/api/contacts'],
    ['get', '/api/contacts/{hubspotId}'],
    ['get', '/api/contacts/{hubspotId}/history'],
    ['post', '/api/contacts/sync'],
    ['get', '/api/sync/status'],
    ['get', '/api/sync/sessions'],
    ['get', '/api/sync/sessions/{id}'],
    ['get', '/api/errors'],
    ['post', '/api/errors/{id}/resolve'],
    ['post', '/api/errors/{id}/replay'],
    ['get', '/api/audit'],
    ['get', '/ws'],
    ['get', '/healthz'],
    ['get', '/readyz'],
  ] as const;
  for (const [method, path] of expected) {
    expect(paths[path]?.[method]?.summary, `${method.toUpperCase()} ${path}`).toBeTruthy();
    if (path.startsWith('/api') || path === '/ws')
      expect(paths[path]?.[method]?.security, `${method.toUpperCase()} ${path} security`).toBeTruthy();
  }
  // The dashboard's files are not API.
  expect(
    Object.keys(paths).filter((path) => !path.startsWith('/api') && !path.startsWith('/webhooks')),
  ).toEqual(expect.not.arrayContaining(['/', '/vendor/*', '/*']));
  await app.close();
});
