import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgPolicy,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { errorLogs } from './logs.ts';
import { ownerFullAccess } from './policies.ts';

export const INBOX_STATUSES = ['pending', 'done', 'parked'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];

/**
 * Every webhook event HubSpot was told we accepted, written before the 2xx. HubSpot's `eventId` is not
 * unique, so duplicates are recognised by the composite key its docs recommend; `property_name` is ''
 * (not NULL) for events without one, so the unique index sees those duplicates too.
 * https://developers.hubspot.com/docs/api/webhooks#webhook-payloads
 */
export const webhookInbox = pgTable(
  'webhook_inbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    portalId: bigint('portal_id', { mode: 'number' }).notNull(),
    subscriptionId: bigint('subscription_id', { mode: 'number' }).notNull(),
    eventId: bigint('event_id', { mode: 'number' }).notNull(),
    objectId: bigint('object_id', { mode: 'number' }).notNull(),
    occurredAt: bigint('occurred_at', { mode: 'number' }).notNull(),
    subscriptionType: text('subscription_type').notNull(),
    propertyName: text('property_name').notNull().default(''),
    payload: jsonb('payload').notNull(),
    status: text('status').$type<InboxStatus>().notNull().default('pending'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: timestamp('next_attempt_at', { withTimezone: true }).notNull().defaultNow(),
    lastError: text('last_error'),
    errorLogId: uuid('error_log_id').references(() => errorLogs.id, { onDelete: 'set null' }),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
    processedAt: timestamp('processed_at', { withTimezone: true }),
  },
  (t) => [
    uniqueIndex('webhook_inbox_dedupe_key').on(
      t.portalId,
      t.subscriptionId,
      t.eventId,
      t.objectId,
      t.occurredAt,
      t.propertyName,
    ),
    check('webhook_inbox_status_check', sql`${t.status} IN ('pending', 'done', 'parked')`),
    index('idx_webhook_inbox_pending').on(t.nextAttemptAt, t.id).where(sql`${t.status} = 'pending'`),
    // Merges touch several contacts, so they are applied apart from the per-shard batches: this finds them.
    index('idx_webhook_inbox_pending_merges')
      .on(t.nextAttemptAt, t.id)
      .where(sql`${t.status} = 'pending' and ${t.subscriptionType} = 'contact.merge'`),
    index('idx_webhook_inbox_object').on(t.objectId),
    index('idx_webhook_inbox_processed_at').on(t.processedAt).where(sql`${t.status} = 'done'`),
    pgPolicy('webhook_inbox_owner_all', ownerFullAccess),
  ],
).enableRLS();
