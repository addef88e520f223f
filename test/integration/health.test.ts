import { describe, expect, test } from 'vitest';
import { toErrorResponse } from '../../src/http/error-handler.ts';
import { asAdmin, buildTestApp } from '../helpers/app.ts';
import { createScratchDatabase, dbTest } from '../helpers/database.ts';

describe('health checks', () => {
  dbTest('liveness and readiness answer 200 on a migrated database', async ({ database }) => {
    const app = await buildTestApp(database);
    const live = await app.inject({ method: 'GET', url: '/healthz' });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(live.statusCode).toBe(200);
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({ status: 'ready', database: 'up', migrations: { upToDate: true } });
    await app.close();
  });

  test('readiness is 503 while migrations are missing, and says what to run', async () => {
    const scratch = await createScratchDatabase({ empty: true });
    const database = await scratch.open();
    try {
      const app = await buildTestApp(database);
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'not_ready', database: 'up' });
      expect(ready.json().reason).toContain('npm run db:migrate');
      await app.close();
    } finally {
      await database.close();
      await scratch.drop();
    }
  });

  test('readiness is 503 when the database stops answering, while liveness stays 200', async () => {
    const scratch = await createScratchDatabase();
    const database = await scratch.open();
    const app = await buildTestApp(database);
    try {
      await database.close();
      const ready = await app.inject({ method: 'GET', url: '/readyz' });
      const live = await app.inject({ method: 'GET', url: '/healthz' });
      expect(ready.statusCode).toBe(503);
      expect(ready.json()).toMatchObject({ status: 'not_ready', database: 'down' });
      expect(live.statusCode).toBe(200);
      // /readyz is public: the driver's own words (hosts, ports, users) stay in the log.
      expect(ready.json().reason).toBe('database unreachable');
    } finally {
      await app.close();
      await scratch.drop();
    }
  });
});

describe('the database refusing connections', () => {
  const pgError = (code: string, message: string) => Object.assign(new Error(message), { code });
  const wrapped = (cause: Error) => new Error('Failed query: select 1', { cause });

  test('is a 503 database_unavailable with a stable message, whichever refusal it was', () => {
    const refusals = [
      pgError('57P03', 'the database system is starting up'),
      pgError('57P03', 'the database system is not accepting connections'),
      pgError('08006', 'connection failure'),
      pgError('08001', 'could not connect to server at 10.0.0.7 port 5432'),
      pgError('08004', 'server rejected the connection'),
      pgError('ECONNREFUSED', 'connect ECONNREFUSED 10.0.0.7:5432'),
      new AggregateError([pgError('ECONNREFUSED', 'connect ECONNREFUSED ::1:5432')], 'all attempts failed'),
    ];
    for (const refusal of refusals) {
      for (const error of [refusal, wrapped(refusal)]) {
        expect(toErrorResponse(error), refusal.message).toEqual({
          status: 503,
          body: {
            error: { code: 'database_unavailable', message: 'the database is unavailable; retry later' },
          },
        });
      }
    }
  });

  test('other database errors stay 500s that reveal nothing', () => {
    expect(toErrorResponse(wrapped(pgError('23505', 'duplicate key'))).status).toBe(500);
  });

  test('an API call while the database is gone answers 503 database_unavailable', async () => {
    const scratch = await createScratchDatabase();
    const database = await scratch.open();
    const app = await buildTestApp(database);
    try {
      await database.close();
      const response = await app.inject({ method: 'GET', url: '/api/contacts', headers: asAdmin });
      expect(response.statusCode).toBe(503);
      expect(response.json()).toEqual({
        error: { code: 'database_unavailable', message: 'the database is unavailable; retry later' },
      });
    } finally {
      await app.close();
      await scratch.drop();
    }
  });
});
