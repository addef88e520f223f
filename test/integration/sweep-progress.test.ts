import { sql } from 'drizzle-orm';
import { expect } from 'vitest';
import { createSessionsRepository, type SessionCounts } from '../../src/sync/sessions/sessions.repository.ts';
import { dbTest as test } from '../helpers/database.ts';

const page: SessionCounts = {
  seen: 100,
  created: 100,
  updated: 0,
  archived: 0,
  unchanged: 0,
  drift: 0,
  errors: 0,
};

test('sync:progress is written at most every 250 ms per session; the counts move on every page', async ({
  database,
}) => {
  let clock = 0;
  const sessions = createSessionsRepository({ now: () => clock });
  const session = await sessions.create(database.db, {
    mode: 'full',
    trigger: 'admin',
    triggeredBy: null,
    checkpoint: { kind: 'full', phase: 'live' },
  });
  await sessions.start(database.db, session.id, 1_000);
  // Ten pages, 100 ms apart: announced at 0, 300, 600 and 900 ms.
  for (let i = 0; i < 10; i++, clock += 100) {
    await sessions.progress(database.db, session.id, page, { kind: 'full', phase: 'live', after: String(i) });
  }
  await sessions.finish(database.db, session.id, { status: 'completed' });
  const events = await database.rows<{ type: string; seen: number; total: number; percent: number }>(
    sql`select type, (data->'counts'->>'seen')::int as seen, (data->>'total')::int as total,
      (data->>'percent')::float as percent from outbox_events order by seq`,
  );
  expect(events.map((e) => [e.type, e.seen])).toEqual([
    ['sync:start', 0],
    ['sync:progress', 100],
    ['sync:progress', 400],
    ['sync:progress', 700],
    ['sync:progress', 1000],
    ['sync:complete', 1000],
  ]);
  expect(events.every((e) => e.total === 1_000)).toBe(true);
  expect(events.at(-1)?.percent).toBe(100);
});
