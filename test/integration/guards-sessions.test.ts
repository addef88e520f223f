import { sql } from 'drizzle-orm';
import { describe, expect } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { createErrorsRepository } from '../../src/errors/errors.repository.ts';
import { createHubSpotClient } from '../../src/hubspot/client.ts';
import { createLogger } from '../../src/logger.ts';
import { createApplyRepository } from '../../src/sync/apply/apply.repository.ts';
import { createSessionsRepository } from '../../src/sync/sessions/sessions.repository.ts';
import { newFullCheckpoint } from '../../src/sync/sweep/full-sweep.ts';
import { createSweepScheduler } from '../../src/sync/sweep/scheduler.ts';
import { createSweepRepository } from '../../src/sync/sweep/sweep.repository.ts';
import { createSweeper } from '../../src/sync/sweep/sweeper.ts';
import { dbTest as test } from '../helpers/database.ts';

const logger = createLogger({ level: 'silent' });
const sessions = createSessionsRepository();

/** A scheduler whose HubSpot connection is not usable: no sweep can start, as after a revoked install. */
function disconnectedScheduler(database: Database) {
  const sweeper = createSweeper({
    database,
    // Never called: the connection is not usable, so no request is made.
    hubspot: createHubSpotClient({ basePath: 'http://127.0.0.1:9', accessToken: async () => 'x', logger }),
    apply: createApplyRepository(),
    sweeps: createSweepRepository(),
    sessions,
    errors: createErrorsRepository({ db: database.db }),
    logger,
    properties: ['email'],
    connected: () => false,
  });
  const scheduler = createSweepScheduler({
    sweeper,
    sessions,
    database,
    logger,
    incrementalEveryMs: 0,
    fullEveryMs: 0,
  });
  return { sweeper, scheduler };
}

async function leaveSessions(database: Database) {
  const pending = await sessions.create(database.db, {
    mode: 'full',
    trigger: 'admin',
    triggeredBy: null,
    checkpoint: newFullCheckpoint(),
  });
  const running = await sessions.create(database.db, {
    mode: 'incremental',
    trigger: 'schedule',
    triggeredBy: null,
    checkpoint: null,
  });
  await sessions.start(database.db, running.id);
  return [pending.id, running.id];
}

const statuses = (database: Database) =>
  database.rows<{ id: string; status: string; error_message: string | null }>(
    sql`select id, status, error_message from sync_sessions order by created_at`,
  );

describe('sessions a stopped instance left behind', () => {
  test('are marked failed when the scheduler starts, even when no sweep can run', async ({ database }) => {
    const ids = await leaveSessions(database);
    const { scheduler } = disconnectedScheduler(database);
    await scheduler.start();
    scheduler.stop();
    const rows = await statuses(database);
    expect(rows.map((r) => r.id)).toEqual(ids);
    for (const row of rows)
      expect(row).toMatchObject({ status: 'failed', error_message: expect.stringContaining('interrupted') });
  });

  test('are left alone while a sweep runs somewhere (another instance holds the sweep lock)', async ({
    database,
  }) => {
    await leaveSessions(database);
    const { sweeper } = disconnectedScheduler(database);
    const SWEEP_LOCK_KEY = 7_262_002_002n;
    const result = await database.tryWithAdvisoryLock(SWEEP_LOCK_KEY, () => sweeper.failLeftovers());
    expect(result).toEqual({ acquired: true, value: [] });
    expect((await statuses(database)).map((r) => r.status)).toEqual(['pending', 'running']);
  });
});
