import { sql } from 'drizzle-orm';
import { bigserial, customType, index, jsonb, pgPolicy, pgTable, text, timestamp } from 'drizzle-orm/pg-core';
import { ownerFullAccess } from './policies.ts';

const xid8 = customType<{ data: string }>({ dataType: () => 'xid8' });

/**
 * Events for dashboards, written in the same transaction as the change they describe. `seq` orders them;
 * `tx_id` lets a reader stop below the oldest transaction still open, so a sequence number taken by a
 * transaction that commits later is never skipped.
 */
export const outboxEvents = pgTable(
  'outbox_events',
  {
    seq: bigserial('seq', { mode: 'number' }).primaryKey(),
    type: text('type').notNull(),
    data: jsonb('data').notNull(),
    txId: xid8('tx_id').notNull().default(sql`pg_current_xact_id()`),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index('idx_outbox_events_created_at').on(t.createdAt),
    pgPolicy('outbox_events_owner_all', ownerFullAccess),
  ],
).enableRLS();
