import { and, eq, getTableColumns, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { keyset } from '../db/keyset.ts';
import { auditLogs } from '../db/schema/index.ts';
import type { KeysetCursor } from '../http/cursor.ts';

export type AuditEntry = typeof auditLogs.$inferInsert;
export type AuditRow = typeof auditLogs.$inferSelect;
/** A listed entry: the row and its keyset position, `timestamp` at microsecond precision. */
export type AuditListRow = AuditRow & { cursorAt: string };

const auditKeyset = keyset(auditLogs.timestamp, auditLogs.id);

export interface AuditFilter {
  entityType?: string | undefined;
  entityId?: string | undefined;
  after?: KeysetCursor | undefined;
  limit: number;
}

export function createAuditRepository({ db }: { db: Db }) {
  return {
    async record(entry: AuditEntry): Promise<void> {
      await db.insert(auditLogs).values(entry);
    },

    /** Newest first; `limit + 1` rows so the caller knows whether another page exists. */
    async list({ entityType, entityId, after, limit }: AuditFilter): Promise<AuditListRow[]> {
      const conditions: (SQL | undefined)[] = [
        entityType ? eq(auditLogs.entityType, entityType) : undefined,
        entityId ? eq(auditLogs.entityId, entityId) : undefined,
        after ? auditKeyset.after(after) : undefined,
      ];
      return db
        .select({ ...getTableColumns(auditLogs), cursorAt: auditKeyset.cursorAt })
        .from(auditLogs)
        .where(and(...conditions))
        .orderBy(...auditKeyset.orderBy)
        .limit(limit + 1);
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
