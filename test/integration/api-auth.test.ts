import { describe, expect } from 'vitest';
import { createErrorsRepository } from '../../src/errors/errors.repository.ts';
import { ADMIN_TOKEN, asAdmin, asReader, buildTestApp } from '../helpers/app.ts';
import { dbTest as test } from '../helpers/database.ts';

describe('bearer-token auth on /api', () => {
  test('no token, a wrong token, or a malformed header is 401 with the JSON error shape', async ({
    database,
  }) => {
    const app = await buildTestApp(database);
    for (const headers of [
      {},
      { authorization: 'Bearer nope-not-a-token-at-all' },
      { authorization: ADMIN_TOKEN },
    ]) {
      const response = await app.inject({ method: 'GET', url: '/api/errors', headers });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toEqual({ error: { code: 'unauthorized', message: expect.any(String) } });
    }
    await app.close();
  });

  test('the read token reads but cannot call admin routes', async ({ database }) => {
    const app = await buildTestApp(database);
    const read = await app.inject({ method: 'GET', url: '/api/errors', headers: asReader });
    const audit = await app.inject({ method: 'GET', url: '/api/audit', headers: asReader });
    expect(read.statusCode).toBe(200);
    expect(audit.statusCode).toBe(403);
    expect(audit.json().error.code).toBe('forbidden');
    await app.close();
  });

  test('auth is checked before the input, so strangers learn nothing about the API', async ({ database }) => {
    const app = await buildTestApp(database);
    const response = await app.inject({ method: 'POST', url: '/api/errors/not-a-uuid/resolve' });
    expect(response.statusCode).toBe(401);
    await app.close();
  });

  test('without READ_TOKEN, reads need the admin token', async ({ database }) => {
    const app = await buildTestApp(database, { env: { READ_TOKEN: '' } });
    expect((await app.inject({ method: 'GET', url: '/api/errors', headers: asReader })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/api/errors', headers: asAdmin })).statusCode).toBe(200);
    await app.close();
  });
});

describe('error log and audit trail', () => {
  test('resolving an error is audited with the user, IP address and user agent', async ({ database }) => {
    const errors = createErrorsRepository({ db: database.db });
    const entry = await errors.record({
      errorType: 'hubspot.rate_limited',
      errorMessage: 'TEN_SECONDLY_ROLLING',
    });
    const app = await buildTestApp(database);

    const listed = await app.inject({ method: 'GET', url: '/api/errors?resolved=false', headers: asReader });
    expect(listed.json().data.map((e: { id: string }) => e.id)).toEqual([entry.id]);

    const resolved = await app.inject({
      method: 'POST',
      url: `/api/errors/${entry.id}/resolve`,
      headers: { ...asAdmin, 'user-agent': 'ops-console/1.0' },
      remoteAddress: '203.0.113.9',
    });
    expect(resolved.statusCode).toBe(200);
    expect(resolved.json()).toMatchObject({ id: entry.id, resolved: true, resolvedBy: 'admin-token' });

    const audit = await app.inject({
      method: 'GET',
      url: `/api/audit?entity_id=${entry.id}`,
      headers: asAdmin,
    });
    expect(audit.json().data).toEqual([
      expect.objectContaining({
        entityType: 'error_log',
        operation: 'update',
        userId: 'admin-token',
        ipAddress: '203.0.113.9',
        userAgent: 'ops-console/1.0',
        oldData: { resolved: false },
        newData: { resolved: true, replayedEvents: 0 },
      }),
    ]);
    const stillOpen = await app.inject({
      method: 'GET',
      url: '/api/errors?resolved=false',
      headers: asReader,
    });
    expect(stillOpen.json().data).toEqual([]);
    await app.close();
  });

  test('resolving an unknown error is 404, and a malformed id is 400', async ({ database }) => {
    const app = await buildTestApp(database);
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/errors/00000000-0000-4000-8000-000000000000/resolve',
      headers: asAdmin,
    });
    const malformed = await app.inject({ method: 'POST', url: '/api/errors/123/resolve', headers: asAdmin });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('not_found');
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().error.message).toContain('id');
    await app.close();
  });

  test('the error log pages with an opaque cursor and rejects a forged one', async ({ database }) => {
    const errors = createErrorsRepository({ db: database.db });
    for (let i = 0; i < 5; i++) {
      await errors.record({
        errorType: 'test',
        errorMessage: `e${i}`,
        timestamp: new Date(Date.UTC(2026, 0, 1, 0, 0, i)),
      });
    }
    const app = await buildTestApp(database);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor ? `&cursor=${cursor}` : '';
      const page = await app.inject({ method: 'GET', url: `/api/errors?limit=2${query}`, headers: asReader });
      const body = page.json();
      seen.push(...body.data.map((e: { errorMessage: string }) => e.errorMessage));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['e4', 'e3', 'e2', 'e1', 'e0']);
    const forged = await app.inject({ method: 'GET', url: '/api/errors?cursor=bm9wZQ', headers: asReader });
    expect(forged.statusCode).toBe(400);
    await app.close();
  });
});

describe('the HTTP surface', () => {
  test('an unknown route is a JSON 404 that names it', async ({ database }) => {
    const app = await buildTestApp(database);
    const response = await app.inject({ method: 'GET', url: '/api/nothing-here?x=1' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      error: { code: 'not_found', message: 'no route GET /api/nothing-here' },
    });
    await app.close();
  });

  test('every answer carries a request id, the caller’s own when it sent a sane one', async ({
    database,
  }) => {
    const app = await buildTestApp(database);
    const given = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'trace-42' },
    });
    const made = await app.inject({
      method: 'GET',
      url: '/healthz',
      headers: { 'x-request-id': 'bad id with spaces' },
    });
    expect(given.headers['x-request-id']).toBe('trace-42');
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    await app.close();
  });

  test('a body of an unsupported type is 415 and one over 1 MiB is 413', async ({ database }) => {
    const app = await buildTestApp(database);
    const url = '/api/errors/00000000-0000-4000-8000-000000000000/resolve';
    const wrongType = await app.inject({
      method: 'POST',
      url,
      headers: { ...asAdmin, 'content-type': 'application/xml' },
      payload: '<resolve/>',
    });
    const tooLarge = await app.inject({
      method: 'POST',
      url,
      headers: { ...asAdmin, 'content-type': 'application/json' },
      payload: JSON.stringify({ pad: 'x'.repeat(1024 * 1024) }),
    });
    expect([wrongType.statusCode, wrongType.json().error.code]).toEqual([415, 'unsupported_media_type']);
    expect([tooLarge.statusCode, tooLarge.json().error.code]).toEqual([413, 'payload_too_large']);
    await app.close();
  });

  test('the OpenAPI document lists the routes', async ({ database }) => {
    const app = await buildTestApp(database);
    const response = await app.inject({ method: 'GET', url: '/docs/json' });
    expect(response.statusCode).toBe(200);
    expect(Object.keys(response.json().paths)).toEqual(
      expect.arrayContaining(['/readyz', '/api/errors', '/api/audit']),
    );
    await app.close();
  });
});
