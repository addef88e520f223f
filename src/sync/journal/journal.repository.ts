import { sql } from 'drizzle-orm';
import { asJson, type Executor, query } from '../../db/query.ts';

/**
 * The checkpoint of a journal that held no entry when it was taken: nothing happened in the 3 days before, so
 * whatever the journal holds later is newer and is read from its earliest entry.
 */
export const EMPTY_JOURNAL = '';

export interface JournalCheckpoint {
  portalId: number;
  /** An entry's `currentOffset`, or `EMPTY_JOURNAL`. */
  offset: string;
  /** When the offset was taken: the inbox held every event of the journal up to it. */
  checkedAt: Date;
}

export interface GapFillRecord {
  portalId: number;
  fromOffset: string;
  toOffset: string;
  entries: number;
  events: number;
  /** Events the inbox did not have yet (the rest had come by webhook). */
  added: number;
  outageMs: number;
}

/** The service's place in the Webhooks Journal, and the operator-facing record of each gap it filled. */
export function createJournalRepository() {
  return {
    async checkpoint(executor: Executor, portalId: number): Promise<JournalCheckpoint | undefined> {
      const [row] = await query<{ journal_offset: string; checked_at: Date | string }>(
        executor,
        sql`select journal_offset, checked_at from journal_checkpoints where portal_id = ${portalId}`,
      );
      return row ? { portalId, offset: row.journal_offset, checkedAt: new Date(row.checked_at) } : undefined;
    },

    /** Moves the checkpoint forward; an older one (another instance got further) is never written over a newer. */
    async save(executor: Executor, checkpoint: JournalCheckpoint): Promise<void> {
      await executor.execute(
        sql`insert into journal_checkpoints (portal_id, journal_offset, checked_at, updated_at)
          values (${checkpoint.portalId}, ${checkpoint.offset}, ${checkpoint.checkedAt.toISOString()}, now())
          on conflict (portal_id) do update set
            journal_offset = excluded.journal_offset, checked_at = excluded.checked_at, updated_at = now()
          where journal_checkpoints.checked_at <= excluded.checked_at`,
      );
    },

    /** Sessions take only sweep modes, so a gap fill is a sync log: "gap-filled N events from the journal". */
    async recordGapFill(executor: Executor, record: GapFillRecord): Promise<void> {
      const details = {
        message: `gap-filled ${record.events} events from the journal`,
        ...record,
      };
      await executor.execute(
        sql`insert into sync_logs (session_id, operation, entity_type, entity_id, status, details)
          values (null, 'sync', 'journal', ${String(record.portalId)}, 'success', ${asJson(details)}::jsonb)`,
      );
    },
  };
}

export type JournalRepository = ReturnType<typeof createJournalRepository>;
