import { describe, expect, test } from 'vitest';
import { buildTestApp } from '../helpers/app.ts';
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
    } finally {
      await app.close();
      await scratch.drop();
    }
  });
});
