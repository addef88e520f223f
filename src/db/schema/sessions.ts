import { sql } from 'drizzle-orm';
import { check, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

export const SESSION_STATUSES = ['pending', 'running', 'completed', 'failed'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** One reconciliation sweep: its lifecycle, counts, drift and a checkpoint to resume from. */
export const syncSessions = pgTable(
  'sync_sessions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sessionId: text('session_id').unique().notNull(),
    startTime: timestamp('start_time', { withTimezone: true }).notNull(),
    endTime: timestamp('end_time', { withTimezone: true }),
    status: text('status').$type<SessionStatus>().default('pending'),
    recordsCount: integer('records_count').default(0),
    errorCount: integer('error_count').default(0),
    createdAt: timestamp('created_at', { withTimezone: true }).defaultNow(),
    mode: text('mode').notNull().default('full'),
    trigger: text('trigger').notNull().default('admin'),
    triggeredBy: text('triggered_by'),
    seenCount: integer('seen_count').notNull().default(0),
    createdCount: integer('created_count').notNull().default(0),
    updatedCount: integer('updated_count').notNull().default(0),
    archivedCount: integer('archived_count').notNull().default(0),
    unchangedCount: integer('unchanged_count').notNull().default(0),
    driftCount: integer('drift_count').notNull().default(0),
    checkpoint: jsonb('checkpoint'),
    /** How many contacts the sweep expects to read (HubSpot's count when it began), for its ETA; null: unknown. */
    totalEstimate: integer('total_estimate'),
    errorMessage: text('error_message'),
    heartbeatAt: timestamp('heartbeat_at', { withTimezone: true }),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('sync_sessions_status_check', sql`${t.status} IN ('pending', 'running', 'completed', 'failed')`),
    check('sync_sessions_mode_check', sql`${t.mode} IN ('full', 'incremental')`),
    check('sync_sessions_trigger_check', sql`${t.trigger} IN ('schedule', 'admin', 'startup')`),
    check('sync_sessions_end_after_start', sql`${t.endTime} IS NULL OR ${t.endTime} >= ${t.startTime}`),
    check(
      'sync_sessions_counts_non_negative',
      sql`${t.recordsCount} >= 0 AND ${t.errorCount} >= 0 AND ${t.seenCount} >= 0 AND ${t.createdCount} >= 0
        AND ${t.updatedCount} >= 0 AND ${t.archivedCount} >= 0 AND ${t.unchangedCount} >= 0 AND ${t.driftCount} >= 0`,
    ),
  ],
);

/**
 * The ids a full sweep's pass has seen in HubSpot, so that after a complete pass the contacts it never saw
 * can be checked and archived. Keyed by pass, which survives a crash: a resumed sweep continues the pass.
 */
export const sweepSeen = pgTable(
  'sweep_seen',
  {
    passId: uuid('pass_id').notNull(),
    hubspotId: text('hubspot_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.passId, t.hubspotId] })],
);

/** Named cursors that outlive one session, such as the incremental sweep's `lastmodifieddate` watermark. */
export const syncCursors = pgTable('sync_cursors', {
  name: text('name').primaryKey(),
  value: jsonb('value').notNull(),
  updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
});
