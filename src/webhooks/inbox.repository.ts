import { sql } from 'drizzle-orm';
import { asJson, type Executor, query } from '../db/query.ts';
import type { WebhookEvent } from '../hubspot/webhook-events.ts';

export const INBOX_CHANNEL = 'webhook_inbox';

/** One of `count` disjoint slices of the contacts. */
export interface Shard {
  index: number;
  count: number;
}

export interface ClaimScope {
  onlyIds?: readonly number[];
  shard?: Shard;
  merges?: boolean;
}

export interface ClaimedEvent {
  id: number;
  payload: WebhookEvent;
  attempts: number;
}

/** After this many failed applies an event is parked for a person to look at and replay. */
export const MAX_APPLY_ATTEMPTS = 5;

function restrictTo(scope: ClaimScope) {
  if (scope.onlyIds)
    return sql`and id in (select value::bigint from jsonb_array_elements_text(${asJson(scope.onlyIds)}::jsonb))`;
  if (scope.merges) return sql`and subscription_type = 'contact.merge'`;
  if (scope.shard)
    return sql`and object_id % ${scope.shard.count} = ${scope.shard.index} and subscription_type <> 'contact.merge'`;
  return sql``;
}

export function createInboxRepository() {
  return {
    /**
     * Stores a verified batch in one statement, skipping events already held (HubSpot's composite key).
     * Returns how many were new. The key columns are read from the events server-side, so the batch is sent
     * once, as the JSON it arrived as.
     */
    async insert(executor: Executor, events: readonly WebhookEvent[]): Promise<number> {
      if (events.length === 0) return 0;
      const [result] = await query<{ inserted: number }>(
        executor,
        sql`with inserted as (
          insert into webhook_inbox
            (portal_id, subscription_id, event_id, object_id, occurred_at, subscription_type, property_name, payload)
          select (e->>'portalId')::bigint, (e->>'subscriptionId')::bigint, (e->>'eventId')::bigint,
            (e->>'objectId')::bigint, (e->>'occurredAt')::bigint, e->>'subscriptionType',
            coalesce(e->>'propertyName', ''), e
          from jsonb_array_elements(${asJson(events)}::jsonb) as e
          on conflict do nothing
          returning 1
        )
        select count(*)::int as inserted from inserted`,
      );
      return result?.inserted ?? 0;
    },

    /** Wakes the apply workers of every instance listening on the database. */
    async announce(executor: Executor): Promise<void> {
      await executor.execute(sql`select pg_notify(${INBOX_CHANNEL}, '')`);
    },

    /**
     * Takes up to `limit` due events no other worker holds; they stay locked until the transaction ends.
     * `shard`: only that shard's contacts (by object id), merges left out, since a merge touches contacts of
     * other shards. `merges`: only merge events. `onlyIds`: those events.
     */
    async claim(executor: Executor, limit: number, scope: ClaimScope = {}): Promise<ClaimedEvent[]> {
      const restrict = restrictTo(scope);
      // With a backlog and stale statistics (a burst lands faster than autovacuum analyzes), PostgreSQL
      // would bitmap-scan every pending row and sort them all to take the first few: keep it on the index.
      await executor.execute(sql`set local enable_bitmapscan = off`);
      const rows = await query<{ id: string | number; payload: WebhookEvent; attempts: number }>(
        executor,
        sql`select id, payload, attempts from webhook_inbox
          where status = 'pending' and next_attempt_at <= now() ${restrict}
          order by next_attempt_at, id
          limit ${limit}
          for update skip locked`,
      );
      await executor.execute(sql`set local enable_bitmapscan = on`);
      return rows.map((row) => ({ id: Number(row.id), payload: row.payload, attempts: row.attempts }));
    },

    /** Whether any event in `scope` is due (one index probe). */
    async anyDue(executor: Executor, scope: ClaimScope): Promise<boolean> {
      const [row] = await query<{ due: boolean }>(
        executor,
        sql`select exists (select 1 from webhook_inbox
          where status = 'pending' and next_attempt_at <= now() ${restrictTo(scope)}) as due`,
      );
      return row?.due ?? false;
    },

    async markDone(executor: Executor, ids: readonly number[]): Promise<void> {
      await executor.execute(
        sql`update webhook_inbox set status = 'done', processed_at = now(), attempts = attempts + 1, last_error = null
          where id in (select value::bigint from jsonb_array_elements_text(${asJson(ids)}::jsonb))`,
      );
    },

    /** Counts a failed apply: retried with exponential backoff (1 s … 10 min), parked after the last attempt. */
    async recordFailure(
      executor: Executor,
      ids: readonly number[],
      message: string,
      errorLogId: string,
    ): Promise<number> {
      const rows = await query<{ status: string }>(
        executor,
        sql`update webhook_inbox set
            attempts = attempts + 1,
            last_error = ${message},
            error_log_id = ${errorLogId},
            status = case when attempts + 1 >= ${MAX_APPLY_ATTEMPTS} then 'parked' else 'pending' end,
            next_attempt_at = now() + least(interval '1 second' * power(2, attempts), interval '10 minutes')
          where id in (select value::bigint from jsonb_array_elements_text(${asJson(ids)}::jsonb))
          returning status`,
      );
      return rows.filter((row) => row.status === 'parked').length;
    },

    /** Puts the events parked under an error back in line. */
    async replay(executor: Executor, errorLogId: string): Promise<number> {
      const rows = await query<{ id: string }>(
        executor,
        sql`with replayed as (
            update webhook_inbox set status = 'pending', attempts = 0, next_attempt_at = now()
            where error_log_id = ${errorLogId} and status in ('parked', 'pending')
            returning id
          )
          select id::text, pg_notify(${INBOX_CHANNEL}, '') from replayed`,
      );
      return rows.length;
    },

    async depth(
      executor: Executor,
    ): Promise<{ pending: number; parked: number; oldestPendingMs: number | null }> {
      const [row] = await query<{ pending: number; parked: number; oldest: string | null }>(
        executor,
        sql`select
            count(*) filter (where status = 'pending')::int as pending,
            count(*) filter (where status = 'parked')::int as parked,
            (extract(epoch from now() - min(received_at) filter (where status = 'pending')) * 1000)::bigint::text as oldest
          from webhook_inbox where status <> 'done'`,
      );
      return {
        pending: row?.pending ?? 0,
        parked: row?.parked ?? 0,
        oldestPendingMs: row?.oldest ? Number(row.oldest) : null,
      };
    },
  };
}

export type InboxRepository = ReturnType<typeof createInboxRepository>;
