import { describe, expect } from 'vitest';
import { encodeCursor } from '../../src/http/cursor.ts';
import { asAdmin, asReader, buildTestApp } from '../helpers/app.ts';
import { dbTest as test } from '../helpers/database.ts';

const NUL = '%00';

describe('valid-looking /api input that PostgreSQL cannot take is a 400 naming the field', () => {
  test('a NUL byte in a text filter or an id', async ({ database }) => {
    const app = await buildTestApp(database);
    const cases: [string, string][] = [
      [`/api/contacts?email=a${NUL}b@example.com`, 'email'],
      [`/api/contacts?q=Ada${NUL}`, 'q'],
      [`/api/contacts/12${NUL}3`, 'hubspotId'],
      [`/api/contacts/12${NUL}3/history`, 'hubspotId'],
      [`/api/errors?error_type=webhook${NUL}`, 'error_type'],
      [`/api/audit?entity_type=contact${NUL}`, 'entity_type'],
      [`/api/audit?entity_id=12${NUL}3`, 'entity_id'],
      [`/api/sync/sessions/full-1${NUL}`, 'id'],
    ];
    for (const [url, field] of cases) {
      const response = await app.inject({ method: 'GET', url, headers: asAdmin });
      expect(`${url} ${response.statusCode}`).toBe(`${url} 400`);
      expect(response.json().error.code).toBe('invalid_request');
      expect(response.json().error.message).toContain(field);
    }
    await app.close();
  });

  test('a UTC offset beyond ±15:59 in updated_since or a cursor', async ({ database }) => {
    const app = await buildTestApp(database);
    for (const offset of ['+16:00', '-23:59', '+2000']) {
      const since = encodeURIComponent(`2026-01-01T00:00:00${offset}`);
      const response = await app.inject({
        method: 'GET',
        url: `/api/contacts?updated_since=${since}`,
        headers: asReader,
      });
      expect(`${offset} ${response.statusCode}`).toBe(`${offset} 400`);
      expect(response.json().error.message).toContain('updated_since');

      const cursor = encodeCursor({
        at: `2026-01-01T00:00:00${offset}`,
        id: '00000000-0000-4000-8000-000000000000',
      });
      for (const url of [`/api/contacts?cursor=${cursor}`, `/api/errors?cursor=${cursor}`]) {
        const paged = await app.inject({ method: 'GET', url, headers: asReader });
        expect(`${url} ${paged.statusCode}`).toBe(`${url} 400`);
        expect(paged.json().error.message).toContain('cursor');
      }
    }
    // The edge PostgreSQL still takes is taken.
    const edge = encodeURIComponent('2026-01-01T00:00:00-15:59');
    const ok = await app.inject({
      method: 'GET',
      url: `/api/contacts?updated_since=${edge}`,
      headers: asReader,
    });
    expect(ok.statusCode).toBe(200);
    await app.close();
  });
});
