import { sql } from 'drizzle-orm';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditRepository } from '../audit/audit.repository.ts';
import { actorOf } from '../audit/audit.routes.ts';
import type { Config } from '../config.ts';
import type { Connection } from '../connections/connection.ts';
import type { Database } from '../db/client.ts';
import { query } from '../db/query.ts';
import { AppError, notFound } from '../http/app-error.ts';
import type { AuthGuards } from '../http/auth.ts';
import { decodeCursor, filterText, PageQuery, toPage } from '../http/cursor.ts';
import type { HubSpotClient } from '../hubspot/client.ts';
import type { InboxRepository } from '../webhooks/inbox.repository.ts';
import type { PropertySet } from './schema/property-set.ts';
import {
  countsOf,
  progressOfSession,
  type SessionRow,
  type SessionsRepository,
} from './sessions/sessions.repository.ts';
import type { Sweeper } from './sweep/sweeper.ts';

const SessionView = z.object({
  id: z.string(),
  sessionId: z.string(),
  mode: z.enum(['full', 'incremental']),
  trigger: z.enum(['schedule', 'admin', 'startup']),
  triggeredBy: z.string().nullable(),
  status: z.enum(['pending', 'running', 'completed', 'failed']),
  startTime: z.string(),
  endTime: z.string().nullable(),
  recordsCount: z.number(),
  errorCount: z.number(),
  progress: z.object({
    seen: z.number(),
    created: z.number(),
    updated: z.number(),
    archived: z.number(),
    unchanged: z.number(),
    drift: z.number(),
    phase: z.string().nullable(),
    total: z
      .number()
      .nullable()
      .describe("contacts the sweep expects to read (HubSpot's count when it began)"),
    percent: z.number().nullable(),
    ratePerSecond: z.number().nullable(),
    etaSeconds: z.number().nullable(),
  }),
  error: z.string().nullable(),
});

export function toSessionView(row: SessionRow, now = Date.now()): z.infer<typeof SessionView> {
  const { errors: _, ...counts } = countsOf(row);
  const { done: __, ...progress } = progressOfSession(row, now);
  return {
    id: row.id,
    sessionId: row.session_id,
    mode: row.mode,
    trigger: row.trigger,
    triggeredBy: row.triggered_by,
    status: row.status,
    startTime: row.start_time,
    endTime: row.end_time,
    recordsCount: row.records_count,
    errorCount: row.error_count,
    progress: { ...counts, ...progress },
    error: row.error_message,
  };
}

export interface SyncRoutesDeps {
  config: Pick<
    Config,
    'HUBSPOT_ACCESS_TOKEN' | 'HUBSPOT_PORTAL_ID' | 'RECONCILE_INTERVAL' | 'FULL_RECONCILE_INTERVAL'
  >;
  database: Database;
  hubspot?: HubSpotClient | undefined;
  connection: Pick<Connection, 'view'>;
  sweeper: Sweeper;
  sessions: SessionsRepository;
  inbox: InboxRepository;
  audit: AuditRepository;
  guards: AuthGuards;
  /** The mirrored contact properties, as resolved against HubSpot's definitions. */
  properties: Pick<PropertySet, 'status'>;
}

export function syncRoutes({
  config,
  database,
  hubspot,
  connection,
  sweeper,
  sessions,
  inbox,
  audit,
  guards,
  properties,
}: SyncRoutesDeps): FastifyPluginAsyncZod {
  const db = database.db;
  return async (app) => {
    app.post(
      '/api/contacts/sync',
      {
        onRequest: guards.requireAdmin,
        schema: {
          tags: ['sync'],
          summary: 'Starts a reconciliation sweep; 409 with the running session when one is already running',
          security: [{ bearer: [] }],
          body: z
            .object({
              mode: z.enum(['full', 'incremental']).default('incremental'),
              allowMassArchive: z.boolean().default(false),
            })
            .strict()
            .default({ mode: 'incremental', allowMassArchive: false }),
          response: {
            202: z.object({ sessionId: z.string(), id: z.string(), mode: z.enum(['full', 'incremental']) }),
            409: z.object({
              error: z.object({ code: z.string(), message: z.string() }),
              session: SessionView.nullable(),
            }),
          },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const result = await sweeper.start({
          mode: request.body.mode,
          trigger: 'admin',
          triggeredBy: actor.userId ?? null,
          allowMassArchive: request.body.allowMassArchive,
        });
        if ('notConnected' in result) {
          throw new AppError({
            code: 'not_connected',
            status: 503,
            message: 'no HubSpot connection: set HUBSPOT_ACCESS_TOKEN or connect a portal first',
          });
        }
        if ('running' in result) {
          const message = result.running
            ? `sweep ${result.running.session_id} is already running`
            : 'a sweep is already running or the service is shutting down';
          return reply.status(409).send({
            error: { code: 'conflict', message },
            session: result.running ? toSessionView(result.running) : null,
          });
        }
        const { started } = result;
        await audit.record({
          entityType: 'sync_session',
          entityId: started.id,
          operation: 'create',
          newData: { mode: started.mode, allowMassArchive: request.body.allowMassArchive },
          ...actor,
        });
        return reply.status(202).send({ sessionId: started.session_id, id: started.id, mode: started.mode });
      },
    );

    app.get(
      '/api/sync/status',
      {
        onRequest: guards.requireRead,
        schema: {
          tags: ['sync'],
          summary: 'Connection state, the running or last session, inbox depth and lag',
          security: [{ bearer: [] }],
        },
      },
      async () => {
        const [active, last, depth, fetches, linked, journal] = await Promise.all([
          sessions.active(db),
          sessions.latest(db),
          inbox.depth(db),
          query<{ pending: number }>(
            db,
            sql`select count(*)::int as pending from contacts where sync_status = 'pending' and not archived`,
          ),
          connection.view(),
          query<{ checked_at: string | Date | null }>(
            db,
            sql`select max(checked_at) as checked_at from journal_checkpoints`,
          ),
        ]);
        return {
          connection: {
            connected: linked.state === 'connected',
            state: linked.state,
            kind: linked.kind,
            portalId: linked.portalId,
            expiresAt: linked.expiresAt,
            lastError: linked.lastError,
            installable: linked.installable,
            // Set while HubSpot's daily API limit is used up: no call goes out until then.
            dailyLimitUntil: hubspot?.pacer.dailyLimitUntil
              ? new Date(hubspot.pacer.dailyLimitUntil).toISOString()
              : null,
          },
          running: active ? toSessionView(active) : null,
          last: last ? toSessionView(last) : null,
          inbox: { pending: depth.pending, parked: depth.parked, lagMs: depth.oldestPendingMs ?? 0 },
          contactsAwaitingFetch: fetches[0]?.pending ?? 0,
          properties: properties.status(),
          // Where the service stands in HubSpot's Webhooks Journal: a gap fill after downtime starts there.
          journal: {
            checkpointAt: journal[0]?.checked_at ? new Date(journal[0].checked_at).toISOString() : null,
          },
          schedule: {
            incrementalEveryMs: config.RECONCILE_INTERVAL,
            fullEveryMs: config.FULL_RECONCILE_INTERVAL,
          },
        };
      },
    );

    app.get(
      '/api/sync/sessions',
      {
        onRequest: guards.requireRead,
        schema: {
          tags: ['sync'],
          summary: 'Sweep history, newest first',
          security: [{ bearer: [] }],
          querystring: PageQuery,
          response: { 200: z.object({ data: z.array(SessionView), nextCursor: z.string().nullable() }) },
        },
      },
      async (request) => {
        const { limit, cursor } = request.query;
        const rows = await sessions.list(db, limit, cursor ? decodeCursor(cursor) : undefined);
        const page = toPage(rows, limit, (row) => ({ at: row.cursor_at, id: row.id }));
        return { data: page.data.map(toSessionView), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/api/sync/sessions/:id',
      {
        onRequest: guards.requireRead,
        schema: {
          tags: ['sync'],
          summary: 'One session (by id or sessionId) with its latest sync logs',
          security: [{ bearer: [] }],
          params: z.object({ id: filterText('id', 100) }),
        },
      },
      async (request) => {
        const row = await sessions.find(db, request.params.id);
        if (!row) throw notFound(`no sync session ${request.params.id}`);
        const logs = await sessions.logs(db, row.id, 200);
        return { ...toSessionView(row), logs };
      },
    );
  };
}
