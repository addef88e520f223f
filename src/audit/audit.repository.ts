import { and, desc, eq, lt, or, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { auditLogs } from '../db/schema/index.ts';
import type { KeysetCursor } from '../http/cursor.ts';

export type AuditEntry = typeof auditLogs.$inferInsert;
export type AuditRow = typeof auditLogs.$inferSelect;

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
    async list({ entityType, entityId, after, limit }: AuditFilter): Promise<AuditRow[]> {
      const conditions: (SQL | undefined)[] = [
        entityType ? eq(auditLogs.entityType, entityType) : undefined,
        entityId ? eq(auditLogs.entityId, entityId) : undefined,
        after
          ? or(
              lt(auditLogs.timestamp, new Date(after.at)),
              and(eq(auditLogs.timestamp, new Date(after.at)), lt(auditLogs.id, after.id)),
            )
          : undefined,
      ];
      return db
        .select()
        .from(auditLogs)
        .where(and(...conditions))
        .orderBy(desc(auditLogs.timestamp), desc(auditLogs.id))
        .limit(limit + 1);
    },
  };
}

export type AuditRepository = ReturnType<typeof createAuditRepository>;
