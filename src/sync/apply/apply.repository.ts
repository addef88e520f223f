import { sql } from 'drizzle-orm';
import { asJson, type Executor, query } from '../../db/query.ts';
import { appendOutbox, type OutboxEvent } from '../../realtime/outbox.ts';
import { createAssociationsRepository } from '../associations/associations.repository.ts';
import { type ContactState, emptyContact } from './contact-state.ts';

export interface ContactRowWrite {
  hubspot_id: string;
  /** The properties whose value or version changed: merged into the row (`||`), so a batch sends little. */
  data_patch: Record<string, string | null>;
  versions_patch: Record<string, number>;
  /** Start from empty instead of merging (an erasure). */
  replace: boolean;
  archived: boolean;
  merged_into: string | null;
  lifecycle_version: number;
  erased: boolean;
  sync_status: string;
  /** Whether anything a reader sees changed (moves `updated_at`). */
  touched: boolean;
}

export interface HistoryWrite {
  hubspot_id: string;
  property_name: string;
  value: string | null;
  occurred_at: number;
  source: 'webhook' | 'sweep' | 'fetch';
  source_id: string | null;
  applied: boolean;
}

export interface SyncLogWrite {
  session_id: string | null;
  operation: 'create' | 'update' | 'delete' | 'sync';
  entity_id: string;
  status: 'success' | 'warning' | 'error';
  details: unknown;
}

export interface AuditWrite {
  entity_id: string;
  operation: 'create' | 'update' | 'delete';
  old_data: unknown;
  new_data: unknown;
  user_id: string;
}

export type OutboxWrite = OutboxEvent;

const ids = (list: readonly string[]) =>
  sql`(select value from jsonb_array_elements_text(${asJson(list)}::jsonb))`;

export function createApplyRepository() {
  return {
    /**
     * Locks the rows of these ids that exist (in id order, so two workers never deadlock) and returns their
     * state, with only the properties asked for (`null`: all of them), since a change reads and writes only
     * its own; an id without a row comes back as an empty contact, to be inserted with `insertContacts`.
     */
    async lockContacts(
      executor: Executor,
      wanted: ReadonlyMap<string, readonly string[] | null>,
    ): Promise<Map<string, ContactState>> {
      const sorted = [...wanted.keys()].sort();
      const asked = sorted.map((hubspot_id) => ({ hubspot_id, names: wanted.get(hubspot_id) ?? null }));
      const only = (column: string) =>
        sql.raw(`case when r.names is null then c.${column} else coalesce((
            select jsonb_object_agg(name, c.${column} -> name) from jsonb_array_elements_text(r.names) as name
            where c.${column} ? name), '{}') end`);
      const rows = await query<{
        hubspot_id: string;
        data: Record<string, string | null>;
        property_versions: Record<string, number>;
        archived: boolean;
        merged_into: string | null;
        lifecycle_version: string | number;
        erased: boolean;
        sync_status: ContactState['syncStatus'] | null;
      }>(
        executor,
        sql`select c.hubspot_id, ${only('data')} as data, ${only('property_versions')} as property_versions,
            c.archived, c.merged_into, c.lifecycle_version, c.erased_at is not null as erased, c.sync_status
          from contacts c
          join jsonb_to_recordset(${asJson(asked)}::jsonb) as r(hubspot_id text, names jsonb)
            on c.hubspot_id = r.hubspot_id
          order by c.hubspot_id
          for update of c`,
      );
      const states = new Map(sorted.map((id) => [id, emptyContact(id)]));
      for (const row of rows) {
        states.set(row.hubspot_id, {
          hubspotId: row.hubspot_id,
          exists: true,
          data: row.data,
          versions: row.property_versions,
          archived: row.archived,
          mergedInto: row.merged_into,
          lifecycleVersion: Number(row.lifecycle_version),
          erased: row.erased,
          syncStatus: row.sync_status ?? 'synced',
        });
      }
      return states;
    },

    /**
     * Inserts contacts seen for the first time, in their final state; returns the ids it inserted. An id
     * another transaction inserted meanwhile is skipped (and left out of the answer) for the caller to redo.
     */
    async insertContacts(executor: Executor, rows: readonly ContactRowWrite[]): Promise<Set<string>> {
      if (rows.length === 0) return new Set();
      const inserted = await query<{ hubspot_id: string }>(
        executor,
        sql`insert into contacts (hubspot_id, data, property_versions, archived, archived_at, merged_into,
            lifecycle_version, erased_at, sync_status, next_fetch_at, last_sync, updated_at)
          select hubspot_id, data_patch, versions_patch, archived, case when archived then now() end, merged_into,
            lifecycle_version, case when erased then now() end, sync_status,
            case when sync_status = 'pending' then now() end, now(), now()
          from jsonb_to_recordset(${asJson(rows)}::jsonb) as r(
            hubspot_id text, data_patch jsonb, versions_patch jsonb, archived boolean, merged_into text,
            lifecycle_version bigint, erased boolean, sync_status text)
          order by hubspot_id
          on conflict (hubspot_id) do nothing
          returning hubspot_id`,
      );
      return new Set(inserted.map((row) => row.hubspot_id));
    },

    async updateContacts(executor: Executor, rows: readonly ContactRowWrite[]): Promise<void> {
      if (rows.length === 0) return;
      await executor.execute(sql`update contacts c set
          data = case when r.replace then r.data_patch else c.data || r.data_patch end,
          property_versions = case when r.replace then r.versions_patch else c.property_versions || r.versions_patch end,
          archived = r.archived,
          archived_at = case when not r.archived then null else coalesce(c.archived_at, now()) end,
          merged_into = r.merged_into,
          lifecycle_version = r.lifecycle_version,
          erased_at = case when r.erased then coalesce(c.erased_at, now()) end,
          sync_status = r.sync_status,
          next_fetch_at = case when r.sync_status = 'pending' then coalesce(c.next_fetch_at, now()) end,
          fetch_attempts = case when r.sync_status = 'pending' then c.fetch_attempts else 0 end,
          last_sync = now(),
          updated_at = case when r.touched then now() else c.updated_at end
        from jsonb_to_recordset(${asJson(rows)}::jsonb) as r(
          hubspot_id text, data_patch jsonb, versions_patch jsonb, replace boolean, archived boolean, merged_into text,
          lifecycle_version bigint, erased boolean, sync_status text, touched boolean)
        where c.hubspot_id = r.hubspot_id`);
    },

    async insertHistory(executor: Executor, rows: readonly HistoryWrite[]): Promise<void> {
      if (rows.length === 0) return;
      await executor.execute(sql`insert into contact_property_history
          (hubspot_id, property_name, value, occurred_at, source, source_id, applied)
        select hubspot_id, property_name, value, occurred_at, source, source_id, applied
        from jsonb_to_recordset(${asJson(rows)}::jsonb) as r(
          hubspot_id text, property_name text, value text, occurred_at bigint, source text, source_id text, applied boolean)`);
    },

    async insertSyncLogs(executor: Executor, rows: readonly SyncLogWrite[]): Promise<void> {
      if (rows.length === 0) return;
      await executor.execute(sql`insert into sync_logs (session_id, operation, entity_type, entity_id, status, details)
        select session_id, operation, 'contact', entity_id, status, details
        from jsonb_to_recordset(${asJson(rows)}::jsonb) as r(
          session_id uuid, operation text, entity_id text, status text, details jsonb)`);
    },

    async insertAudit(executor: Executor, rows: readonly AuditWrite[]): Promise<void> {
      if (rows.length === 0) return;
      await executor.execute(sql`insert into audit_logs (entity_type, entity_id, operation, old_data, new_data, user_id)
        select 'contact', entity_id, operation, old_data, new_data, user_id
        from jsonb_to_recordset(${asJson(rows)}::jsonb) as r(
          entity_id text, operation text, old_data jsonb, new_data jsonb, user_id text)`);
    },

    insertOutbox: appendOutbox,

    /** Contact ↔ company associations, written in the same transaction as the contacts' changes. */
    associations: createAssociationsRepository(),

    /**
     * Keeps `merged_into` pointing at the final survivor when merges chain (A into B, then B into C), in
     * whatever order the merges arrive: contacts that were merged into a newly merged id follow it, and a
     * newly merged id whose survivor was itself merged away follows that.
     */
    async collapseMergeChains(executor: Executor, hubspotIds: readonly string[]): Promise<void> {
      if (hubspotIds.length === 0) return;
      const list = ids(hubspotIds);
      // Two statements, each answered from an index; one `or` across both sides would scan the table twice.
      for (let hop = 0; hop < 10; hop++) {
        const followers = await query<{ hubspot_id: string }>(
          executor,
          sql`update contacts c set merged_into = t.merged_into
            from contacts t
            where t.hubspot_id in ${list} and t.merged_into is not null
              and c.merged_into = t.hubspot_id and c.hubspot_id <> t.merged_into
            returning c.hubspot_id`,
        );
        const merged = await query<{ hubspot_id: string }>(
          executor,
          sql`update contacts c set merged_into = t.merged_into
            from contacts t
            where c.hubspot_id in ${list} and c.merged_into = t.hubspot_id
              and t.merged_into is not null and t.merged_into <> c.hubspot_id
            returning c.hubspot_id`,
        );
        if (followers.length === 0 && merged.length === 0) return;
      }
    },

    /**
     * A privacy deletion: removes the contact's personal data from everything else that held it (its property
     * history, audit and sync log payloads, stored webhook payloads, error contexts); the contact row stays as
     * an empty, archived tombstone.
     */
    async eraseTraces(executor: Executor, hubspotIds: readonly string[]): Promise<void> {
      if (hubspotIds.length === 0) return;
      const list = ids(hubspotIds);
      await executor.execute(sql`delete from contact_property_history where hubspot_id in ${list}`);
      await executor.execute(sql`update audit_logs set old_data = null, new_data = null
        where entity_type = 'contact' and entity_id in ${list} and (old_data is not null or new_data is not null)`);
      await executor.execute(sql`update webhook_inbox set payload = payload - 'propertyValue'
        where object_id in (select value::bigint from jsonb_array_elements_text(${asJson(hubspotIds)}::jsonb))
          and payload ? 'propertyValue'`);
      // Entries name a contact's events under `events` (a failed apply keeps the whole payloads), `samples`
      // (refused webhook events) or, in older entries, `payload`. The message of such an entry may quote a
      // value too (a driver error on a bad value), so it goes with the context.
      const named = (field: string) => sql`exists (select 1 from jsonb_array_elements(
          case when jsonb_typeof(context -> ${field}) = 'array' then context -> ${field} else '[]'::jsonb end
        ) as e where e ->> 'objectId' in ${list})`;
      await executor.execute(sql`update error_logs
        set context = null, stack_trace = null,
          error_message = ${'details erased by a HubSpot privacy deletion'}
        where context is not null and jsonb_typeof(context) = 'object' and (
          (context #>> '{payload,objectId}') in ${list} or ${named('events')} or ${named('samples')})`);
    },
  };
}

export type ApplyRepository = ReturnType<typeof createApplyRepository>;
