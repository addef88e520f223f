import { sql } from 'drizzle-orm';
import { describe, expect, inject } from 'vitest';
import { createApplyRepository } from '../../src/sync/apply/apply.repository.ts';
import { applyContactChanges } from '../../src/sync/apply/apply-changes.ts';
import { createScratchDatabase, dbTest as test } from '../helpers/database.ts';
import { contactRow, webhookPipeline } from '../helpers/pipeline.ts';
import { hubspotEvent, propertyChange } from '../helpers/webhooks.ts';

const T = 1_795_000_000_000;
const change = propertyChange;

describe('applying webhook events', () => {
  test('a creation and its properties become a contact, with history, sync log, audit trail and outbox event', async ({
    database,
  }) => {
    const pipeline = webhookPipeline(database);
    await pipeline.receive([
      hubspotEvent({ subscriptionType: 'contact.creation', objectId: 501, occurredAt: T }),
      change(501, T + 1, 'email', 'ada@example.com'),
      change(501, T + 2, 'firstname', 'Ada'),
    ]);
    expect(await pipeline.applyAll()).toBe(3);
    // Creation carries no properties: the contact waits for a read of HubSpot to be complete.
    expect(await contactRow(database, '501')).toMatchObject({
      data: { email: 'ada@example.com', firstname: 'Ada' },
      archived: false,
      sync_status: 'pending',
    });
    const [counts] = await database.rows<Record<string, number>>(sql`select
      (select count(*)::int from contact_property_history where hubspot_id = '501') as history,
      (select count(*)::int from sync_logs where entity_id = '501' and operation = 'create') as logs,
      (select count(*)::int from audit_logs where entity_id = '501' and user_id = 'hubspot:webhook') as audit,
      (select count(*)::int from outbox_events where type = 'contact:created' and data->>'hubspotId' = '501') as outbox,
      (select count(*)::int from webhook_inbox where status = 'done') as done`);
    expect(counts).toEqual({ history: 2, logs: 1, audit: 1, outbox: 1, done: 3 });
  });

  test('an association change is recorded in the sync log and changes nothing else', async ({ database }) => {
    const pipeline = webhookPipeline(database);
    await pipeline.receive([change(31, T, 'email', 'a@example.com')]);
    await pipeline.applyAll();
    await pipeline.receive([
      hubspotEvent({
        subscriptionType: 'contact.associationChange',
        objectId: 31,
        occurredAt: T + 1,
        associationType: 'CONTACT_TO_COMPANY',
        fromObjectId: 31,
        toObjectId: 9001,
        associationRemoved: false,
        isPrimaryAssociation: true,
      }),
    ]);
    await pipeline.applyAll();
    const [logged] = await database.rows<{ association: unknown }>(
      sql`select details->'associations' as association from sync_logs where entity_id = '31' and details ? 'associations'`,
    );
    expect(logged?.association).toEqual([
      { association: 'CONTACT_TO_COMPANY', from: 31, to: 9001, removed: false, primary: true },
    ]);
    expect((await contactRow(database, '31'))?.data).toEqual({ email: 'a@example.com' });
  });

  test('a late propertyChange is recorded as stale and changes nothing', async ({ database }) => {
    const pipeline = webhookPipeline(database);
    await pipeline.receive([change(9, T + 10, 'email', 'new@example.com')]);
    await pipeline.applyAll();
    await pipeline.receive([change(9, T + 5, 'email', 'old@example.com')]);
    await pipeline.applyAll();
    expect((await contactRow(database, '9'))?.data.email).toBe('new@example.com');
    const logs = await database.rows<{ status: string; stale: number }>(
      sql`select status, (details->>'stale')::int as stale from sync_logs where entity_id = '9' order by timestamp`,
    );
    expect(logs.at(-1)).toEqual({ status: 'warning', stale: 1 });
    const history = await database.rows<{ value: string; applied: boolean }>(
      sql`select value, applied from contact_property_history where hubspot_id = '9' order by occurred_at`,
    );
    expect(history).toEqual([
      { value: 'old@example.com', applied: false },
      { value: 'new@example.com', applied: true },
    ]);
  });

  test('deletion archives, restore brings back, and a merge archives the absorbed ids into a new survivor', async ({
    database,
  }) => {
    const pipeline = webhookPipeline(database);
    await pipeline.receive([
      change(1, T, 'email', 'one@example.com'),
      change(2, T, 'email', 'two@example.com'),
      hubspotEvent({ subscriptionType: 'contact.deletion', objectId: 1, occurredAt: T + 1 }),
    ]);
    await pipeline.applyAll();
    expect(await contactRow(database, '1')).toMatchObject({ archived: true });
    await pipeline.receive([
      hubspotEvent({ subscriptionType: 'contact.restore', objectId: 1, occurredAt: T + 2 }),
    ]);
    await pipeline.applyAll();
    expect(await contactRow(database, '1')).toMatchObject({ archived: false, sync_status: 'pending' });
    await pipeline.receive([
      hubspotEvent({
        subscriptionType: 'contact.merge',
        objectId: 1,
        occurredAt: T + 3,
        primaryObjectId: 1,
        mergedObjectIds: [2],
        newObjectId: 3,
      }),
      // HubSpot still delivers late events for merged-away ids.
      change(2, T + 4, 'email', 'late@example.com'),
    ]);
    await pipeline.applyAll();
    expect(await contactRow(database, '1')).toMatchObject({ archived: true, merged_into: '3' });
    expect(await contactRow(database, '2')).toMatchObject({ archived: true, merged_into: '3' });
    expect(await contactRow(database, '3')).toMatchObject({ archived: false, sync_status: 'pending' });
    const merged = await database.rows<{ id: string }>(
      sql`select data->>'hubspotId' as id from outbox_events where type = 'contact:merged' order by 1`,
    );
    expect(merged.map((m) => m.id)).toEqual(['1', '2']);
  });

  test('a privacy deletion leaves no trace of the person in any table', async ({ database }) => {
    const pipeline = webhookPipeline(database);
    const email = 'erase.me@example.com';
    await pipeline.receive([
      hubspotEvent({ subscriptionType: 'contact.creation', objectId: 77, occurredAt: T }),
      change(77, T + 1, 'email', email),
      change(77, T + 2, 'lastname', 'Lovelace'),
    ]);
    await pipeline.applyAll();
    await pipeline.receive([
      hubspotEvent({ subscriptionType: 'contact.privacyDeletion', objectId: 77, occurredAt: T + 5 }),
      hubspotEvent({ subscriptionType: 'contact.deletion', objectId: 77, occurredAt: T + 5 }),
    ]);
    await pipeline.applyAll();
    // HubSpot can still deliver an older change after the erasure: it must not bring the data back.
    await pipeline.receive([change(77, T + 3, 'email', email)]);
    await pipeline.applyAll();

    expect(await contactRow(database, '77')).toMatchObject({ data: {}, archived: true, erased: true });
    const tables = await database.rows<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
    );
    for (const { table_name } of tables) {
      const [found] = await database.rows<{ n: number }>(
        sql`select count(*)::int as n from ${sql.identifier(table_name)} t where t::text ilike ${`%${email}%`} or t::text ilike '%Lovelace%'`,
      );
      expect(`${table_name}: ${found?.n}`).toBe(`${table_name}: 0`);
    }
  });

  test('a privacy deletion also erases the person from the error log of a failed apply', async ({
    database,
  }) => {
    const pipeline = webhookPipeline(database);
    const email = 'erase.me.too@example.com';
    await pipeline.receive([
      hubspotEvent({ subscriptionType: 'contact.creation', objectId: 78, occurredAt: T }),
      change(78, T + 1, 'lastname', 'Hopper'),
    ]);
    await pipeline.applyAll();
    // Any failure bound to one contact's events: here, a rule that refuses the person's email.
    await database.rows(sql`create function reject_78() returns trigger language plpgsql as $$
      begin if new.data->>'email' = ${sql.raw(`'${email}'`)} then raise exception 'refused'; end if;
      return new; end $$`);
    await database.rows(sql`create trigger reject_78 before insert or update on contacts
      for each row execute function reject_78()`);
    await pipeline.receive([change(78, T + 2, 'email', email)]);
    await pipeline.applyAll();
    const logged = await database.rows<{ n: number }>(
      sql`select count(*)::int as n from error_logs where error_type = 'webhook.apply_failed' and context::text like ${`%${email}%`}`,
    );
    // The failure is in the error log, with the person's email in the events kept for replay.
    expect(logged[0]?.n).toBe(1);
    await database.rows(sql`drop trigger reject_78 on contacts`);

    await pipeline.receive([
      hubspotEvent({ subscriptionType: 'contact.privacyDeletion', objectId: 78, occurredAt: T + 5 }),
      hubspotEvent({ subscriptionType: 'contact.deletion', objectId: 78, occurredAt: T + 5 }),
    ]);
    await pipeline.applyAll();
    expect(await contactRow(database, '78')).toMatchObject({ archived: true, erased: true });
    const tables = await database.rows<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
    );
    for (const { table_name } of tables) {
      const [found] = await database.rows<{ n: number }>(
        sql`select count(*)::int as n from ${sql.identifier(table_name)} t where t::text ilike ${`%${email}%`} or t::text ilike '%Hopper%'`,
      );
      expect(`${table_name}: ${found?.n}`).toBe(`${table_name}: 0`);
    }
  });

  test('a poison event is retried, parked, and replayed once fixed, without holding back other contacts', async ({
    database,
  }) => {
    const pipeline = webhookPipeline(database);
    // A database rule that rejects one contact stands in for any failure bound to one contact's events.
    await database.rows(sql`create function reject_666() returns trigger language plpgsql as $$
      begin if new.hubspot_id = '666' then raise exception 'contact 666 is cursed'; end if; return new; end $$`);
    await database.rows(sql`create trigger reject_666 before insert or update on contacts
      for each row execute function reject_666()`);
    await pipeline.receive([
      change(665, T, 'email', 'fine@example.com'),
      change(666, T, 'email', 'bad@example.com'),
    ]);

    await pipeline.applyAll();
    expect((await contactRow(database, '665'))?.data.email).toBe('fine@example.com');
    expect(await contactRow(database, '666')).toBeUndefined();

    for (let attempt = 0; attempt < 6; attempt++) {
      await database.rows(sql`update webhook_inbox set next_attempt_at = now() where status = 'pending'`);
      await pipeline.applyAll();
    }
    const [parked] = await database.rows<{ status: string; attempts: number; error_log_id: string }>(
      sql`select status, attempts, error_log_id from webhook_inbox where object_id = 666`,
    );
    expect(parked).toMatchObject({ status: 'parked', attempts: 5 });
    const [logged] = await database.rows<{ message: string; payload: string }>(
      sql`select error_message as message, context #>> '{events,0,propertyValue}' as payload from error_logs where id = ${parked?.error_log_id}`,
    );
    expect(logged?.message).toContain('contact 666 is cursed');
    expect(logged?.payload).toBe('bad@example.com');

    await database.rows(sql`drop trigger reject_666 on contacts`);
    expect(await pipeline.inbox.replay(database.db, parked?.error_log_id ?? '')).toBe(1);
    await pipeline.applyAll();
    expect((await contactRow(database, '666'))?.data.email).toBe('bad@example.com');
  });

  test('a batch aborted midway leaves nothing applied and nothing lost; the retry applies each event once', async ({
    database,
  }) => {
    const pipeline = webhookPipeline(database);
    await pipeline.receive(
      Array.from({ length: 50 }, (_, i) => change(1000 + i, T + i, 'email', `p${i}@example.com`)),
    );
    // The first batch dies after the contacts, history and logs are written, as a killed connection would
    // (57P01: terminated by the administrator). Sequences are not transactional, so only the first try fails.
    await database.rows(sql`create sequence abort_once`);
    await database.rows(sql`create function abort_once() returns trigger language plpgsql as $$
      begin
        if nextval('abort_once') = 1 then
          raise exception 'terminating connection' using errcode = '57P01';
        end if;
        return null;
      end $$`);
    await database.rows(sql`create trigger abort_once before insert on outbox_events
      for each statement execute function abort_once()`);

    await expect(pipeline.applier.applyNext(1000)).rejects.toThrow();
    const [mid] = await database.rows<Record<string, number>>(sql`select
      (select count(*)::int from contacts) as contacts,
      (select count(*)::int from contact_property_history) as history,
      (select count(*)::int from webhook_inbox where status = 'pending') as pending`);
    expect(mid).toEqual({ contacts: 0, history: 0, pending: 50 });

    expect(await pipeline.applyAll()).toBe(50);
    const [after] = await database.rows<Record<string, number>>(sql`select
      (select count(*)::int from contacts) as contacts,
      (select count(*)::int from contact_property_history) as history,
      (select count(*)::int from outbox_events) as outbox,
      (select count(*)::int from webhook_inbox where status = 'done') as done`);
    expect(after).toEqual({ contacts: 50, history: 50, outbox: 50, done: 50 });
  });

  test('a sweep’s read of a held contact records history only for the values it changed', async ({
    database,
  }) => {
    const repository = createApplyRepository();
    const apply = (at: number, properties: Record<string, string | null>, source: 'webhook' | 'sweep') =>
      database.db.transaction((tx) =>
        applyContactChanges(
          tx,
          repository,
          new Map([
            [
              '88',
              source === 'sweep'
                ? [{ kind: 'read' as const, at, properties }]
                : Object.entries(properties).map(([name, value]) => ({
                    kind: 'property' as const,
                    at,
                    name,
                    value,
                  })),
            ],
          ]),
          {
            source,
            userId: `hubspot:${source}`,
            sessionId: null,
            quietWhenUnchanged: source === 'sweep',
          },
        ),
      );
    await apply(T, { email: 'old@x.io', firstname: 'Ada' }, 'webhook');
    // Newer than what is held: email changed, firstname confirmed, phone new.
    await apply(T + 10, { email: 'new@x.io', firstname: 'Ada', phone: '+1 555' }, 'sweep');
    // Older than what is held: nothing applies.
    const [stale] = await apply(T + 5, { email: 'older@x.io', firstname: 'Ada', phone: null }, 'sweep');
    expect(stale?.stale.map((c) => (c.kind === 'property' ? c.name : c.kind)).sort()).toEqual([
      'email',
      'firstname',
      'phone',
    ]);

    expect((await contactRow(database, '88'))?.data).toEqual({
      email: 'new@x.io',
      firstname: 'Ada',
      phone: '+1 555',
    });
    const history = await database.rows<{ property_name: string; value: string; source: string }>(
      sql`select property_name, value, source from contact_property_history
        where hubspot_id = '88' and source = 'sweep' order by property_name`,
    );
    expect(history).toEqual([
      { property_name: 'email', value: 'new@x.io', source: 'sweep' },
      { property_name: 'phone', value: '+1 555', source: 'sweep' },
    ]);
  });

  // Two transactions racing to create one contact need two connections: a real PostgreSQL.
  test.runIf(inject('testDatabase').kind === 'postgres')(
    'two transactions creating the same contact at once both land, the second folded into the first',
    async ({ database }) => {
      const repository = createApplyRepository();
      const context = {
        source: 'webhook' as const,
        userId: 'hubspot:webhook',
        sessionId: null,
        quietWhenUnchanged: false,
      };
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const first = database.db.transaction(async (tx) => {
        await applyContactChanges(
          tx,
          repository,
          new Map([['77', [{ kind: 'property', at: T, name: 'email', value: 'a@x.io' }]]]),
          context,
        );
        await held;
      });
      // Let the first insert happen, then race a second transaction for the same new contact.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const second = database.db.transaction((tx) =>
        applyContactChanges(
          tx,
          repository,
          new Map([['77', [{ kind: 'property', at: T + 1, name: 'phone', value: '+1 555' }]]]),
          context,
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      release();
      await first;
      const [outcome] = await second;
      expect(outcome?.before.exists).toBe(true);
      expect((await contactRow(database, '77'))?.data).toEqual({ email: 'a@x.io', phone: '+1 555' });
    },
  );
  // Shards run on separate connections at once: a real PostgreSQL.
  test.runIf(inject('testDatabase').kind === 'postgres')(
    'shard loops and the merge step running at once end where one loop does, without waiting on each other',
    async ({ database }) => {
      // A random history with merge chains across shards, new survivors, deletions and restores.
      let seed = 7;
      const random = (n: number) => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return Math.floor((seed / 2 ** 31) * n);
      };
      const events = Array.from({ length: 3_000 }, (_, i) => {
        const objectId = 1 + random(200);
        const at = T + random(100_000) * 10 + (i % 10);
        const roll = random(100);
        if (roll < 4) {
          const loser = 1 + random(200);
          return hubspotEvent({
            subscriptionType: 'contact.merge',
            objectId,
            occurredAt: at,
            primaryObjectId: objectId,
            mergedObjectIds: loser === objectId ? [] : [loser],
            ...(random(2) === 0 ? { newObjectId: 500 + random(50) } : {}),
          });
        }
        if (roll < 8) return hubspotEvent({ subscriptionType: 'contact.deletion', objectId, occurredAt: at });
        if (roll < 12) return hubspotEvent({ subscriptionType: 'contact.restore', objectId, occurredAt: at });
        return change(objectId, at, random(2) ? 'email' : 'firstname', `v${random(1_000)}`);
      });
      const reference = await createScratchDatabase();
      const serial = await reference.open();
      try {
        const one = webhookPipeline(serial);
        await one.receive(events);
        await one.applyAll(100);

        const sharded = webhookPipeline(database);
        await sharded.receive(events);
        const count = 3;
        await Promise.all(
          Array.from({ length: count }, async (_, index) => {
            for (;;) {
              const merged = index === 0 ? await sharded.applier.applyMerges(50) : 0;
              if (merged + (await sharded.applier.applyNext(50, { index, count })) === 0) return;
            }
          }),
        );

        const state = sql`select hubspot_id, data, property_versions, archived, merged_into, lifecycle_version
          from contacts order by hubspot_id`;
        const expected = await serial.rows(state);
        expect(expected.length).toBeGreaterThan(200);
        expect(await database.rows(state)).toEqual(expected);
        const [inbox] = await database.rows<{ done: number; errors: number }>(sql`select
          (select count(*)::int from webhook_inbox where status = 'done') as done,
          (select count(*)::int from error_logs) as errors`);
        expect(inbox).toEqual({ done: events.length, errors: 0 });
      } finally {
        await serial.close();
        await reference.drop();
      }
    },
  );
});
