import { sql } from 'drizzle-orm';
import { describe, expect } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { createErrorsRepository } from '../../src/errors/errors.repository.ts';
import { MAX_APPLY_ATTEMPTS } from '../../src/webhooks/inbox.repository.ts';
import { asAdmin, buildTestApp } from '../helpers/app.ts';
import { dbTest as test } from '../helpers/database.ts';
import { contactRow, webhookPipeline } from '../helpers/pipeline.ts';
import { propertyChange } from '../helpers/webhooks.ts';

const T = 1_795_000_000_000;

/** A database rule that rejects one contact: any failure bound to that contact's events. */
async function curse(database: Database, hubspotId: string) {
  await database.rows(
    sql.raw(`create function reject_cursed() returns trigger language plpgsql as $$
    begin if new.hubspot_id = '${hubspotId}' then raise exception 'contact ${hubspotId} is cursed'; end if; return new; end $$`),
  );
  await database.rows(sql`create trigger reject_cursed before insert or update on contacts
    for each row execute function reject_cursed()`);
}

type InboxRow = { status: string; attempts: number; delay_s: number; error_log_id: string | null };
const inboxRow = async (database: Database, objectId: number) =>
  (
    await database.rows<InboxRow>(
      sql`select status, attempts, error_log_id,
            round(extract(epoch from next_attempt_at - now()))::int as delay_s
          from webhook_inbox where object_id = ${objectId}`,
    )
  )[0];

describe('a failing event is retried with backoff, parked, and replayed on resolve', () => {
  test('the retry delay doubles from 1 s with each failed attempt', async ({ database }) => {
    const pipeline = webhookPipeline(database);
    await curse(database, '666');
    await pipeline.receive([propertyChange(666, T, 'email', 'bad@example.com')]);
    const delays: number[] = [];
    for (let attempt = 1; attempt < MAX_APPLY_ATTEMPTS; attempt++) {
      await pipeline.applyAll();
      const row = await inboxRow(database, 666);
      expect(row).toMatchObject({ status: 'pending', attempts: attempt });
      delays.push(row?.delay_s ?? -1);
      // Due again now, so the next apply retries it.
      await database.rows(sql`update webhook_inbox set next_attempt_at = now() where object_id = 666`);
    }
    expect(delays).toEqual([1, 2, 4, 8]);
    await pipeline.applyAll();
    expect(await inboxRow(database, 666)).toMatchObject({ status: 'parked', attempts: MAX_APPLY_ATTEMPTS });
  });

  test('the retry delay stops growing at 10 minutes', async ({ database }) => {
    const pipeline = webhookPipeline(database);
    await pipeline.receive([propertyChange(777, T, 'email', 'x@example.com')]);
    const [row] = await database.rows<{ id: string }>(
      sql`select id from webhook_inbox where object_id = 777`,
    );
    const error = await createErrorsRepository({ db: database.db }).record({
      errorType: 'webhook.apply_failed',
      errorMessage: 'test',
    });
    const delays: number[] = [];
    // Attempts already made (as if MAX_APPLY_ATTEMPTS were larger): 2^9 s = 512 s, then 2^10 s > 600 s.
    for (const made of [9, 10, 20]) {
      await database.rows(
        sql`update webhook_inbox set attempts = ${made}, status = 'pending' where object_id = 777`,
      );
      await pipeline.inbox.recordFailure(database.db, [Number(row?.id)], 'failed', error.id);
      delays.push((await inboxRow(database, 777))?.delay_s ?? -1);
    }
    expect(delays).toEqual([512, 600, 600]);
  });

  test('resolving the error replays the parked event, which is then applied', async ({ database }) => {
    const pipeline = webhookPipeline(database);
    await curse(database, '666');
    await pipeline.receive([propertyChange(666, T, 'email', 'bad@example.com')]);
    for (let attempt = 0; attempt < MAX_APPLY_ATTEMPTS; attempt++) {
      await pipeline.applyAll();
      await database.rows(sql`update webhook_inbox set next_attempt_at = now() where status = 'pending'`);
    }
    const parked = await inboxRow(database, 666);
    expect(parked?.status).toBe('parked');
    await database.rows(sql`drop trigger reject_cursed on contacts`);

    const app = await buildTestApp(database);
    try {
      const response = await app.inject({
        method: 'POST',
        url: `/api/errors/${parked?.error_log_id}/resolve`,
        headers: asAdmin,
      });
      expect(response.statusCode).toBe(200);
      expect(response.json()).toMatchObject({ resolved: true, replayedEvents: 1 });
      expect(await inboxRow(database, 666)).toMatchObject({ status: 'pending', attempts: 0 });
      await pipeline.applyAll();
      expect((await contactRow(database, '666'))?.data.email).toBe('bad@example.com');
      expect((await inboxRow(database, 666))?.status).toBe('done');
    } finally {
      await app.close();
    }
  });
});

describe('the inbox dedupe key', () => {
  test('one eventId with another property or time is another event; an exact duplicate is not', async ({
    database,
  }) => {
    const pipeline = webhookPipeline(database);
    const first = propertyChange(42, T, 'email', 'a@example.com');
    const sameIdOtherProperty = { ...first, propertyName: 'firstname', propertyValue: 'Ada' };
    const sameIdOtherTime = { ...first, occurredAt: T + 1, propertyValue: 'b@example.com' };
    expect(await pipeline.receive([first])).toBe(1);
    expect(await pipeline.receive([sameIdOtherProperty, sameIdOtherTime])).toBe(2);
    // HubSpot redelivers the same event (a new attempt number): stored once.
    expect(await pipeline.receive([{ ...first, attemptNumber: 1 }, { ...sameIdOtherTime }])).toBe(0);
    const rows = await database.rows<{ property_name: string; occurred_at: string }>(
      sql`select property_name, occurred_at::text from webhook_inbox where event_id = ${first.eventId} order by id`,
    );
    expect(rows).toEqual([
      { property_name: 'email', occurred_at: String(T) },
      { property_name: 'firstname', occurred_at: String(T) },
      { property_name: 'email', occurred_at: String(T + 1) },
    ]);
  });
});
