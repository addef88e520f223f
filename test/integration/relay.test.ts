import { sql } from 'drizzle-orm';
import { expect, test as plainTest } from 'vitest';
import { createDatabase, type Database } from '../../src/db/client.ts';
import { migrateDatabase } from '../../src/db/migrate.ts';
import { createLogger } from '../../src/logger.ts';
import { appendOutbox, createOutboxRepository, type OutboxMessage } from '../../src/realtime/outbox.ts';
import { createOutboxRelay } from '../../src/realtime/relay.ts';
import { dbTest as test } from '../helpers/database.ts';
import { waitFor } from '../helpers/process.ts';

const logger = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function relayOn(database: Database, options: { pollMs?: number; fallbackPollMs?: number } = {}) {
  const delivered: OutboxMessage[] = [];
  const relay = createOutboxRelay({
    database,
    outbox: createOutboxRepository(),
    logger,
    deliver: (messages) => delivered.push(...messages),
    ...options,
  });
  return { relay, delivered };
}

async function committedSeqs(database: Database): Promise<number[]> {
  const rows = await database.rows<{ seq: number }>(
    sql`select seq::int as seq from outbox_events order by seq`,
  );
  return rows.map((row) => row.seq);
}

test('concurrent writers, some rolling back: every committed event once, in sequence order', async ({
  database,
}) => {
  const { relay, delivered } = relayOn(database);
  await relay.start();
  let writing = true;
  let written = 0;
  const writers = Array.from({ length: 4 }, async (_, writer) => {
    for (let round = 0; writing; round++) {
      await database.db
        .transaction(async (tx) => {
          await appendOutbox(tx, [
            { type: 'contact:updated', data: { writer, round } },
            { type: 'contact:updated', data: { writer, round } },
          ]);
          // Hold some transactions open a moment, so later numbers commit first.
          if (round % 3 === 0) await sleep(5);
          if (round % 7 === writer) throw new Error('roll back');
        })
        .then(
          () => {
            written += 2;
          },
          () => {},
        );
    }
  });
  await sleep(1_500);
  writing = false;
  await Promise.all(writers);
  const committed = await committedSeqs(database);
  await waitFor(async () => (delivered.length >= committed.length ? true : undefined), 5_000);
  expect(committed.length).toBe(written);
  expect(committed.length).toBeGreaterThan(100);
  expect(delivered.map((message) => message.seq)).toEqual(committed);
  await relay.stop();
});

test("an event takes its transaction id before its sequence number, even as a transaction's first write", async ({
  database,
}) => {
  // Otherwise a number could be taken by a transaction the relay cannot yet see running, and be skipped.
  await database.rows(sql`create function nextval_after_xid() returns bigint language plpgsql as $$
    begin
      if pg_current_xact_id_if_assigned() is null then
        raise exception 'outbox sequence number taken before the transaction id';
      end if;
      return nextval('outbox_events_seq_seq');
    end $$`);
  await database.rows(sql`alter table outbox_events alter column seq set default nextval_after_xid()`);
  await database.db.transaction((tx) =>
    appendOutbox(tx, [
      { type: 'contact:created', data: {} },
      { type: 'contact:updated', data: {} },
    ]),
  );
  expect(await committedSeqs(database)).toHaveLength(2);
});

test('a relay starts at the newest event, and keeps recent ones for reconnecting clients', async ({
  database,
}) => {
  await database.db.transaction((tx) => appendOutbox(tx, [{ type: 'sync:start', data: {} }]));
  const { relay, delivered } = relayOn(database);
  await relay.start();
  const startedAt = relay.head;
  await database.db.transaction((tx) =>
    appendOutbox(tx, [
      { type: 'sync:progress', data: {} },
      { type: 'sync:complete', data: {} },
    ]),
  );
  await waitFor(async () => (delivered.length === 2 ? true : undefined), 3_000);
  expect(delivered.map((m) => m.type)).toEqual(['sync:progress', 'sync:complete']);
  expect(relay.recentAfter(startedAt)?.map((m) => m.seq)).toEqual(delivered.map((m) => m.seq));
  // What came before the relay started is not in memory: the caller must read it from the table.
  expect(relay.recentAfter(startedAt - 1)).toBeUndefined();
  await relay.stop();
});

test('where LISTEN is unavailable, polling still delivers', async ({ database }) => {
  const deaf: Database = {
    ...database,
    listen: () => Promise.reject(new Error('pooler: LISTEN unsupported')),
  };
  const { relay, delivered } = relayOn(deaf, { fallbackPollMs: 100 });
  await relay.start();
  await database.db.transaction((tx) => appendOutbox(tx, [{ type: 'contact:created', data: {} }]));
  await waitFor(async () => (delivered.length === 1 ? true : undefined), 2_000);
  await relay.stop();
});

test('with LISTEN, a commit wakes the relay at once rather than at its next poll', async ({ database }) => {
  const { relay, delivered } = relayOn(database, { pollMs: 60_000 });
  await relay.start();
  const sentAt = Date.now();
  await database.db.transaction((tx) => appendOutbox(tx, [{ type: 'contact:created', data: {} }]));
  await waitFor(async () => (delivered.length === 1 ? true : undefined), 2_000);
  expect(Date.now() - sentAt).toBeLessThan(1_000);
  await relay.stop();
});

plainTest('on the embedded database, the outbox trigger wakes the relay in-process', async () => {
  const database = await createDatabase({ pgliteDir: 'memory://' });
  await migrateDatabase(database);
  const { relay, delivered } = relayOn(database, { pollMs: 60_000 });
  await relay.start();
  await database.db.transaction((tx) => appendOutbox(tx, [{ type: 'contact:created', data: {} }]));
  await waitFor(async () => (delivered.length === 1 ? true : undefined), 2_000);
  expect(delivered[0]).toMatchObject({ type: 'contact:created', seq: 1 });
  await relay.stop();
  await database.close();
});
