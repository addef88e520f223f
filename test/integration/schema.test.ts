import { sql } from 'drizzle-orm';
import { describe, expect } from 'vitest';
import { contacts, syncSessions, webhookInbox } from '../../src/db/schema/index.ts';
import { dbTest as test } from '../helpers/database.ts';
import { rejection } from '../helpers/pg-errors.ts';

const CHECK_VIOLATION = '23514';
const UNIQUE_VIOLATION = '23505';

const contact = (hubspotId: string) => ({
  hubspotId,
  data: { email: `${hubspotId}@example.com` },
  lastSync: new Date(),
});

describe('the seed tables and their rules', () => {
  test('a contact with a sync status outside synced, pending, error is rejected', async ({ database }) => {
    const error = await rejection(
      database.rows(
        sql`insert into contacts (hubspot_id, data, last_sync, sync_status) values ('1', '{}', now(), 'syncing')`,
      ),
    );
    expect(error.code).toBe(CHECK_VIOLATION);
    expect(error.message).toContain('contacts_sync_status_check');
  });

  test('two contacts cannot share a hubspot_id', async ({ database }) => {
    await database.db.insert(contacts).values(contact('101'));
    const error = await rejection(database.db.insert(contacts).values(contact('101')));
    expect(error.code).toBe(UNIQUE_VIOLATION);
    expect(error.message).toContain('unique_hubspot_contact');
  });

  test('contact data must be a JSON object', async ({ database }) => {
    const error = await rejection(
      database.rows(sql`insert into contacts (hubspot_id, data, last_sync) values ('7', '[1,2]', now())`),
    );
    expect(error.code).toBe(CHECK_VIOLATION);
  });

  test('a sync session cannot end before it started', async ({ database }) => {
    const error = await rejection(
      database.rows(sql`insert into sync_sessions (session_id, start_time, end_time)
        values ('s-1', now(), now() - interval '1 second')`),
    );
    expect(error.code).toBe(CHECK_VIOLATION);
    expect(error.message).toContain('sync_sessions_end_after_start');
  });

  test('a sync session status outside the four states is rejected', async ({ database }) => {
    const error = await rejection(
      database.rows(
        sql`insert into sync_sessions (session_id, start_time, status) values ('s-2', now(), 'paused')`,
      ),
    );
    expect(error.code).toBe(CHECK_VIOLATION);
  });

  test('record and error counts cannot go negative', async ({ database }) => {
    const error = await rejection(
      database.rows(
        sql`insert into sync_sessions (session_id, start_time, records_count) values ('s-3', now(), -1)`,
      ),
    );
    expect(error.code).toBe(CHECK_VIOLATION);
    expect(error.message).toContain('sync_sessions_counts_non_negative');
  });

  test('sync session ids are unique', async ({ database }) => {
    await database.db.insert(syncSessions).values({ sessionId: 'same', startTime: new Date() });
    const error = await rejection(
      database.db.insert(syncSessions).values({ sessionId: 'same', startTime: new Date() }),
    );
    expect(error.code).toBe(UNIQUE_VIOLATION);
  });

  test('a session moves pending, running, completed and never back', async ({ database }) => {
    const [session] = await database.db
      .insert(syncSessions)
      .values({ sessionId: 'life', startTime: new Date() })
      .returning();
    expect(session?.status).toBe('pending');
    await database.rows(sql`update sync_sessions set status = 'running' where session_id = 'life'`);
    await database.rows(
      sql`update sync_sessions set status = 'completed', end_time = now() where session_id = 'life'`,
    );
    const error = await rejection(
      database.rows(sql`update sync_sessions set status = 'running' where session_id = 'life'`),
    );
    expect(error.code).toBe(CHECK_VIOLATION);
    expect(error.message).toContain('cannot go from completed to running');
  });

  test('a pending session cannot jump straight to completed', async ({ database }) => {
    await database.db.insert(syncSessions).values({ sessionId: 'skip', startTime: new Date() });
    const error = await rejection(
      database.rows(sql`update sync_sessions set status = 'completed' where session_id = 'skip'`),
    );
    expect(error.message).toContain('cannot go from pending to completed');
  });

  test('a new session cannot be created already running', async ({ database }) => {
    const error = await rejection(
      database.rows(
        sql`insert into sync_sessions (session_id, start_time, status) values ('early', now(), 'running')`,
      ),
    );
    expect(error.message).toContain('must be pending');
  });

  test('sync logs and error logs only point at sessions that exist', async ({ database }) => {
    const error = await rejection(
      database.rows(sql`insert into sync_logs (session_id, operation, entity_type, entity_id, status)
        values (gen_random_uuid(), 'sync', 'contact', '1', 'success')`),
    );
    expect(error.code).toBe('23503');
  });

  test('audit operations are limited to create, update and delete', async ({ database }) => {
    const error = await rejection(
      database.rows(
        sql`insert into audit_logs (entity_type, entity_id, operation) values ('contact', '1', 'merge')`,
      ),
    );
    expect(error.code).toBe(CHECK_VIOLATION);
  });

  test('the inbox keeps one row per HubSpot composite event key, whatever the eventId reuse', async ({
    database,
  }) => {
    const event = {
      portalId: 62515,
      subscriptionId: 12345,
      eventId: 1,
      objectId: 123,
      occurredAt: 1_564_113_600_000,
      subscriptionType: 'contact.propertyChange',
      propertyName: 'email',
      payload: {},
    };
    const first = await database.db.insert(webhookInbox).values(event).onConflictDoNothing().returning();
    const again = await database.db.insert(webhookInbox).values(event).onConflictDoNothing().returning();
    // HubSpot reuses eventId: the same id for another property is a different event.
    const other = await database.db
      .insert(webhookInbox)
      .values({ ...event, propertyName: 'firstname' })
      .onConflictDoNothing()
      .returning();
    expect([first.length, again.length, other.length]).toEqual([1, 0, 1]);
  });

  test('the outbox hands out increasing sequence numbers with the writing transaction id', async ({
    database,
  }) => {
    const rows = await database.rows<{ seq: string; tx_id: string }>(
      sql`insert into outbox_events (type, data) values ('a', '{}'), ('b', '{}') returning seq::text, tx_id::text`,
    );
    expect(Number(rows[1]?.seq)).toBeGreaterThan(Number(rows[0]?.seq));
    expect(rows[0]?.tx_id).toMatch(/^\d+$/);
  });
});

describe('the catalogue', () => {
  test('row level security is on for the five tables the seed names', async ({ database }) => {
    const rows = await database.rows<{ relname: string }>(
      sql`select relname from pg_class where relrowsecurity and relkind = 'r' and relnamespace = 'public'::regnamespace`,
    );
    const names = rows.map((r) => r.relname);
    for (const table of ['hubspot_connections', 'contacts', 'sync_logs', 'audit_logs', 'error_logs']) {
      expect(names).toContain(table);
    }
  });

  test("the seed's nine indexes exist", async ({ database }) => {
    const rows = await database.rows<{ indexname: string }>(
      sql`select indexname from pg_indexes where schemaname = 'public'`,
    );
    const names = rows.map((r) => r.indexname);
    for (const index of [
      'idx_contacts_hubspot_id',
      'idx_contacts_sync_status',
      'idx_contacts_last_sync',
      'idx_sync_logs_session_id',
      'idx_sync_logs_timestamp',
      'idx_audit_logs_entity',
      'idx_audit_logs_timestamp',
      'idx_error_logs_session_id',
      'idx_error_logs_timestamp',
    ]) {
      expect(names).toContain(index);
    }
  });

  test("every seed column is there with the seed's type", async ({ database }) => {
    const rows = await database.rows<{ table_name: string; column_name: string; data_type: string }>(
      sql`select table_name, column_name, data_type from information_schema.columns where table_schema = 'public'`,
    );
    const typeOf = (table: string, column: string) =>
      rows.find((r) => r.table_name === table && r.column_name === column)?.data_type;
    const seed: [string, string, string][] = [
      ['hubspot_connections', 'access_token', 'text'],
      ['hubspot_connections', 'refresh_token', 'text'],
      ['hubspot_connections', 'expires_at', 'timestamp with time zone'],
      ['sync_sessions', 'session_id', 'text'],
      ['sync_sessions', 'records_count', 'integer'],
      ['sync_sessions', 'error_count', 'integer'],
      ['contacts', 'hubspot_id', 'text'],
      ['contacts', 'supabase_id', 'uuid'],
      ['contacts', 'data', 'jsonb'],
      ['contacts', 'last_sync', 'timestamp with time zone'],
      ['contacts', 'sync_status', 'text'],
      ['sync_logs', 'session_id', 'uuid'],
      ['sync_logs', 'details', 'jsonb'],
      ['audit_logs', 'old_data', 'jsonb'],
      ['audit_logs', 'ip_address', 'inet'],
      ['audit_logs', 'user_agent', 'text'],
      ['error_logs', 'stack_trace', 'text'],
      ['error_logs', 'context', 'jsonb'],
      ['error_logs', 'resolved', 'boolean'],
    ];
    for (const [table, column, type] of seed)
      expect(`${table}.${column} ${typeOf(table, column)}`).toBe(`${table}.${column} ${type}`);
  });
});
