import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { type Executor, query } from '../../db/query.ts';
import type { SessionStatus } from '../../db/schema/index.ts';
import { appendOutbox } from '../../realtime/outbox.ts';
import { progressOf, type SweepProgress } from './progress.ts';

export type SweepMode = 'full' | 'incremental';
export type SweepTrigger = 'schedule' | 'admin' | 'startup';

export interface SessionCounts {
  seen: number;
  created: number;
  updated: number;
  archived: number;
  unchanged: number;
  drift: number;
  errors: number;
}

export interface SessionRow {
  id: string;
  session_id: string;
  mode: SweepMode;
  trigger: SweepTrigger;
  triggered_by: string | null;
  status: SessionStatus;
  start_time: string;
  end_time: string | null;
  records_count: number;
  error_count: number;
  seen_count: number;
  created_count: number;
  updated_count: number;
  archived_count: number;
  unchanged_count: number;
  drift_count: number;
  checkpoint: unknown;
  total_estimate: number | null;
  error_message: string | null;
  heartbeat_at: string | null;
}

const COLUMNS = sql`id, session_id, mode, trigger, triggered_by, status,
  to_char(start_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as start_time,
  to_char(end_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as end_time,
  records_count, error_count, seen_count, created_count, updated_count, archived_count, unchanged_count,
  drift_count, checkpoint, total_estimate, error_message,
  to_char(heartbeat_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as heartbeat_at`;

export function countsOf(row: SessionRow): SessionCounts {
  return {
    seen: row.seen_count,
    created: row.created_count,
    updated: row.updated_count,
    archived: row.archived_count,
    unchanged: row.unchanged_count,
    drift: row.drift_count,
    errors: row.error_count,
  };
}

export function progressOfSession(row: SessionRow, now: number): SweepProgress {
  return progressOf(
    {
      status: row.status,
      startTime: row.start_time,
      endTime: row.end_time,
      seen: row.seen_count,
      total: row.total_estimate,
      phase: (row.checkpoint as { phase?: string } | null)?.phase ?? null,
    },
    now,
  );
}

/** What dashboards are told about a session, in every sync:* event. */
export function sessionEventData(row: SessionRow, now = Date.now()) {
  const { done: _, ...progress } = progressOfSession(row, now);
  return {
    sessionId: row.session_id,
    id: row.id,
    mode: row.mode,
    trigger: row.trigger,
    status: row.status,
    counts: countsOf(row),
    ...progress,
    ...(row.error_message ? { error: row.error_message } : {}),
  };
}

function newSessionId(mode: SweepMode): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').slice(0, 15);
  return `${mode}-${stamp}-${randomBytes(3).toString('hex')}`;
}

export interface SessionsRepositoryOptions {
  /**
   * At most one `sync:progress` event per session this often: a million-contact sweep writes a thousand
   * pages, and dashboards need a few updates a second, not every page.
   */
  progressEveryMs?: number;
  now?: () => number;
}

export function createSessionsRepository({
  progressEveryMs = 250,
  now = Date.now,
}: SessionsRepositoryOptions = {}) {
  const lastProgressAt = new Map<string, number>();

  /** Whether this page's progress is announced; the first page's always is. */
  function announceProgress(id: string): boolean {
    const at = now();
    const last = lastProgressAt.get(id);
    if (last !== undefined && at - last < progressEveryMs) return false;
    lastProgressAt.set(id, at);
    return true;
  }

  async function one(executor: Executor, statement: ReturnType<typeof sql>): Promise<SessionRow> {
    const [row] = await query<SessionRow>(executor, statement);
    if (!row) throw new Error('sync session statement returned no row');
    return row;
  }

  return {
    /** A new pending session, announced with `sync:start` once it runs. */
    async create(
      executor: Executor,
      init: { mode: SweepMode; trigger: SweepTrigger; triggeredBy: string | null; checkpoint: unknown },
    ): Promise<SessionRow> {
      return one(
        executor,
        sql`insert into sync_sessions (session_id, start_time, status, mode, trigger, triggered_by, checkpoint, heartbeat_at)
          values (${newSessionId(init.mode)}, now(), 'pending', ${init.mode}, ${init.trigger}, ${init.triggeredBy},
            ${JSON.stringify(init.checkpoint)}::jsonb, now())
          returning ${COLUMNS}`,
      );
    },

    /** Runs the session, with the number of contacts it expects to read (null: unknown). */
    async start(executor: Executor, id: string, totalEstimate: number | null = null): Promise<SessionRow> {
      const row = await one(
        executor,
        sql`update sync_sessions set status = 'running', total_estimate = ${totalEstimate},
            heartbeat_at = now(), updated_at = now()
          where id = ${id} returning ${COLUMNS}`,
      );
      await appendOutbox(executor, [{ type: 'sync:start', data: sessionEventData(row) }]);
      return row;
    },

    /** Adds a page's counts and moves the checkpoint, in the page's own transaction. */
    async progress(
      executor: Executor,
      id: string,
      delta: SessionCounts,
      checkpoint: unknown,
    ): Promise<SessionRow> {
      const row = await one(
        executor,
        sql`update sync_sessions set
            records_count = records_count + ${delta.seen},
            error_count = error_count + ${delta.errors},
            seen_count = seen_count + ${delta.seen},
            created_count = created_count + ${delta.created},
            updated_count = updated_count + ${delta.updated},
            archived_count = archived_count + ${delta.archived},
            unchanged_count = unchanged_count + ${delta.unchanged},
            drift_count = drift_count + ${delta.drift},
            checkpoint = ${JSON.stringify(checkpoint)}::jsonb,
            heartbeat_at = now(), updated_at = now()
          where id = ${id} returning ${COLUMNS}`,
      );
      if (announceProgress(id))
        await appendOutbox(executor, [{ type: 'sync:progress', data: sessionEventData(row, now()) }]);
      return row;
    },

    async finish(
      executor: Executor,
      id: string,
      outcome: { status: 'completed' } | { status: 'failed'; error: string },
    ) {
      const error = outcome.status === 'failed' ? outcome.error : null;
      const row = await one(
        executor,
        sql`update sync_sessions set status = ${outcome.status}, end_time = greatest(now(), start_time),
            error_message = ${error}, heartbeat_at = now(), updated_at = now()
          where id = ${id} returning ${COLUMNS}`,
      );
      lastProgressAt.delete(id);
      const type = outcome.status === 'completed' ? 'sync:complete' : 'sync:error';
      await appendOutbox(executor, [{ type, data: sessionEventData(row, now()) }]);
      return row;
    },

    /**
     * Sessions left pending or running by an instance that died (only called while holding the sweep lock,
     * so none of them can still be alive): marked failed, and returned so a new sweep can resume them.
     */
    async failInterrupted(executor: Executor): Promise<SessionRow[]> {
      const rows = await query<SessionRow>(
        executor,
        sql`update sync_sessions set status = 'failed', end_time = greatest(now(), start_time),
            error_message = 'interrupted: the instance running it stopped', updated_at = now()
          where status in ('pending', 'running')
          returning ${COLUMNS}`,
      );
      await appendOutbox(
        executor,
        rows.map((row) => ({ type: 'sync:error', data: sessionEventData(row) })),
      );
      return rows;
    },

    async active(executor: Executor): Promise<SessionRow | undefined> {
      const [row] = await query<SessionRow>(
        executor,
        sql`select ${COLUMNS} from sync_sessions where status in ('pending', 'running') order by created_at desc limit 1`,
      );
      return row;
    },

    async latest(
      executor: Executor,
      filter: { mode?: SweepMode; status?: SessionStatus } = {},
    ): Promise<SessionRow | undefined> {
      const [row] = await query<SessionRow>(
        executor,
        sql`select ${COLUMNS} from sync_sessions
          where (${filter.mode ?? null}::text is null or mode = ${filter.mode ?? null})
            and (${filter.status ?? null}::text is null or status = ${filter.status ?? null})
          order by created_at desc limit 1`,
      );
      return row;
    },

    /** Newest first, keyset on (created_at, id); `limit + 1` rows so the caller can tell if more exist. */
    async list(
      executor: Executor,
      limit: number,
      after?: { at: string; id: string },
    ): Promise<(SessionRow & { cursor_at: string })[]> {
      return query(
        executor,
        sql`select ${COLUMNS}, to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as cursor_at
          from sync_sessions
          where ${after ? sql`(created_at, id) < (${after.at}::timestamptz, ${after.id}::uuid)` : sql`true`}
          order by created_at desc, id desc limit ${limit + 1}`,
      );
    },

    async find(executor: Executor, idOrSessionId: string): Promise<SessionRow | undefined> {
      const isUuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(idOrSessionId);
      const [row] = await query<SessionRow>(
        executor,
        isUuid
          ? sql`select ${COLUMNS} from sync_sessions where id = ${idOrSessionId}::uuid`
          : sql`select ${COLUMNS} from sync_sessions where session_id = ${idOrSessionId}`,
      );
      return row;
    },

    async logs(executor: Executor, id: string, limit: number) {
      return query<{
        id: string;
        operation: string;
        entity_type: string;
        entity_id: string;
        status: string;
        timestamp: string;
        details: unknown;
      }>(
        executor,
        sql`select id, operation, entity_type, entity_id, status, details,
            to_char(timestamp at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as timestamp
          from sync_logs where session_id = ${id} order by timestamp desc limit ${limit}`,
      );
    },
  };
}

export type SessionsRepository = ReturnType<typeof createSessionsRepository>;
