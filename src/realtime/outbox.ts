import { sql } from 'drizzle-orm';
import { asJson, type Executor, query } from '../db/query.ts';

/** The NOTIFY channel a trigger on `outbox_events` signals once per committing transaction (migration 0005). */
export const OUTBOX_CHANNEL = 'outbox_events';

export interface OutboxEvent {
  type: string;
  data: unknown;
}

/** An event as dashboards receive it. */
export interface OutboxMessage {
  type: string;
  seq: number;
  at: string;
  data: unknown;
}

/** Where the outbox stands, read in one statement with the rows so the two agree. */
export interface OutboxSnapshot {
  /** The oldest transaction still running: every transaction below it has committed or rolled back. */
  xmin: bigint;
}

/**
 * Appends events for dashboards in the caller's transaction: they become visible exactly when the change
 * they describe commits, and never for a change that rolled back. The transaction id is taken before the
 * first sequence number, so the relay can tell a number held by a running transaction from a lost one.
 */
export async function appendOutbox(executor: Executor, events: readonly OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  // Materialised, so the id is taken when the row source is read, before the default `nextval` is evaluated
  // in the insert's projection (a plain subquery would be pulled up into that projection, after it).
  await executor.execute(sql`with tx as materialized (select pg_current_xact_id() as id)
    insert into outbox_events (tx_id, type, data)
    select tx.id, r.type, r.data
    from tx cross join jsonb_to_recordset(${asJson(events)}::jsonb) as r(type text, data jsonb)`);
}

const MESSAGE_COLUMNS = sql`seq::int8 as seq, type, data,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at`;

interface MessageRow {
  seq: string | number;
  type: string;
  data: unknown;
  at: string;
}

const toMessage = (row: MessageRow): OutboxMessage => ({
  type: row.type,
  seq: Number(row.seq),
  at: row.at,
  data: row.data,
});

export function createOutboxRepository() {
  return {
    append: appendOutbox,

    /** Events after `seq`, oldest first, with the snapshot they were read in. */
    async after(
      executor: Executor,
      seq: number,
      limit: number,
    ): Promise<{ messages: OutboxMessage[]; snapshot: OutboxSnapshot }> {
      const rows = await query<MessageRow & { xmin: string }>(
        executor,
        sql`select s.xmin, e.* from
            (select pg_snapshot_xmin(pg_current_snapshot())::text as xmin) as s
          left join lateral (
            select ${MESSAGE_COLUMNS} from outbox_events where seq > ${seq} order by seq limit ${limit}
          ) as e on true`,
      );
      const [first] = rows;
      if (!first) throw new Error('the outbox read returned no snapshot');
      return {
        snapshot: { xmin: BigInt(first.xmin) },
        messages: rows.filter((row) => row.seq !== null).map(toMessage),
      };
    },

    /** Events in `(from, to]`, oldest first: a reconnecting client's catch-up, page by page. */
    async between(executor: Executor, from: number, to: number, limit: number): Promise<OutboxMessage[]> {
      const rows = await query<MessageRow>(
        executor,
        sql`select ${MESSAGE_COLUMNS} from outbox_events
          where seq > ${from} and seq <= ${to} order by seq limit ${limit}`,
      );
      return rows.map(toMessage);
    },

    /** A transaction id of its own (a statement of its own): every transaction begun before has a lower one. */
    async newTransactionId(executor: Executor): Promise<bigint> {
      const [row] = await query<{ id: string }>(executor, sql`select pg_current_xact_id()::text as id`);
      if (!row) throw new Error('no transaction id returned');
      return BigInt(row.id);
    },

    /** The oldest and newest sequence numbers held (both 0 when the outbox is empty). */
    async bounds(executor: Executor): Promise<{ oldest: number; newest: number }> {
      const [row] = await query<{ oldest: string | null; newest: string | null }>(
        executor,
        sql`select (select seq from outbox_events order by seq limit 1)::text as oldest,
                   (select seq from outbox_events order by seq desc limit 1)::text as newest`,
      );
      return { oldest: Number(row?.oldest ?? 0), newest: Number(row?.newest ?? 0) };
    },
  };
}

export type OutboxRepository = ReturnType<typeof createOutboxRepository>;
