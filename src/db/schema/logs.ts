import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  index,
  inet,
  jsonb,
  pgPolicy,
  pgTable,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { ownerFullAccess } from './policies.ts';
import { syncSessions } from './sessions.ts';

export const syncLogs = pgTable(
  'sync_logs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sessionId: uuid('session_id').references(() => syncSessions.id),
    operation: text('operation').$type<'create' | 'update' | 'delete' | 'sync'>(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    timestamp: timestamp('timestamp', { withTimezone: true }).defaultNow(),
    status: text('status').$type<'success' | 'error' | 'warning'>(),
    details: jsonb('details'),
  },
  (t) => [
    check('sync_logs_operation_check', sql`${t.operation} IN ('create', 'update', 'delete', 'sync')`),
    check('sync_logs_status_check', sql`${t.status} IN ('success', 'error', 'warning')`),
    index('idx_sync_logs_session_id').on(t.sessionId),
    index('idx_sync_logs_timestamp').on(t.timestamp),
    pgPolicy('sync_logs_owner_all', ownerFullAccess),
  ],
).enableRLS();

export const auditLogs = pgTable(
  'audit_logs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    operation: text('operation').$type<'create' | 'update' | 'delete'>(),
    oldData: jsonb('old_data'),
    newData: jsonb('new_data'),
    userId: text('user_id'),
    timestamp: timestamp('timestamp', { withTimezone: true }).defaultNow(),
    ipAddress: inet('ip_address'),
    userAgent: text('user_agent'),
  },
  (t) => [
    check('audit_logs_operation_check', sql`${t.operation} IN ('create', 'update', 'delete')`),
    index('idx_audit_logs_entity').on(t.entityType, t.entityId),
    index('idx_audit_logs_timestamp').on(t.timestamp),
    pgPolicy('audit_logs_owner_all', ownerFullAccess),
  ],
).enableRLS();

export const errorLogs = pgTable(
  'error_logs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    sessionId: uuid('session_id').references(() => syncSessions.id),
    errorType: text('error_type').notNull(),
    errorMessage: text('error_message').notNull(),
    stackTrace: text('stack_trace'),
    context: jsonb('context'),
    timestamp: timestamp('timestamp', { withTimezone: true }).defaultNow(),
    resolved: boolean('resolved').default(false),
    resolvedAt: timestamp('resolved_at', { withTimezone: true }),
    resolvedBy: text('resolved_by'),
  },
  (t) => [
    index('idx_error_logs_session_id').on(t.sessionId),
    index('idx_error_logs_timestamp').on(t.timestamp),
    index('idx_error_logs_unresolved').on(t.timestamp).where(sql`${t.resolved} = false`),
    pgPolicy('error_logs_owner_all', ownerFullAccess),
  ],
).enableRLS();
