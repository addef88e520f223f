import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditRepository } from '../audit/audit.repository.ts';
import { actorOf } from '../audit/audit.routes.ts';
import type { Clock } from '../clock.ts';
import { keyOf } from '../db/keyset.ts';
import { notFound } from '../http/app-error.ts';
import type { AuthGuards } from '../http/auth.ts';
import { decodeCursor, filterText, PageQuery, toPage } from '../http/cursor.ts';
import type { ErrorRow, ErrorsRepository } from './errors.repository.ts';

const ErrorView = z.object({
  id: z.string(),
  sessionId: z.string().nullable(),
  errorType: z.string(),
  errorMessage: z.string(),
  stackTrace: z.string().nullable(),
  context: z.unknown(),
  timestamp: z.string().nullable(),
  resolved: z.boolean(),
  resolvedAt: z.string().nullable(),
  resolvedBy: z.string().nullable(),
});

// A listed row's `cursorAt` is the page's business, not part of the entry.
function toErrorView({ cursorAt: _cursorAt, ...row }: ErrorRow & { cursorAt?: string }) {
  return {
    ...row,
    timestamp: row.timestamp?.toISOString() ?? null,
    resolved: row.resolved ?? false,
    resolvedAt: row.resolvedAt?.toISOString() ?? null,
  };
}

const booleanFlag = z.enum(['true', 'false']).transform((value) => value === 'true');

export interface ErrorsRoutesDeps {
  errors: ErrorsRepository;
  /** Puts webhook events parked under an error back in line; returns how many. */
  replayParked: (errorId: string) => Promise<number>;
  audit: AuditRepository;
  guards: AuthGuards;
  clock: Clock;
}

export function errorsRoutes({
  errors,
  replayParked,
  audit,
  guards,
  clock,
}: ErrorsRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/errors',
      {
        onRequest: guards.requireRead,
        schema: {
          tags: ['errors'],
          summary: 'The error log, newest first',
          security: [{ bearer: [] }],
          querystring: PageQuery.extend({
            resolved: booleanFlag.optional(),
            error_type: filterText('error_type', 200).optional(),
          }),
          response: { 200: z.object({ data: z.array(ErrorView), nextCursor: z.string().nullable() }) },
        },
      },
      async (request) => {
        const { limit, cursor, resolved, error_type } = request.query;
        const rows = await errors.list({
          resolved,
          errorType: error_type,
          after: cursor ? decodeCursor(cursor) : undefined,
          limit,
        });
        const page = toPage(rows, limit, keyOf);
        return { data: page.data.map(toErrorView), nextCursor: page.nextCursor };
      },
    );

    app.post(
      '/api/errors/:id/resolve',
      {
        onRequest: guards.requireAdmin,
        schema: {
          tags: ['errors'],
          summary: 'Marks an error resolved (audited) and replays the webhook events parked under it',
          security: [{ bearer: [] }],
          params: z.object({ id: z.uuid('id must be an error id (a UUID)') }),
          response: { 200: ErrorView.extend({ replayedEvents: z.number().int() }) },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        const result = await errors.resolve(request.params.id, actor.userId ?? 'admin-token', clock.now());
        if (!result) throw notFound(`no error ${request.params.id}`);
        const replayedEvents = await replayParked(result.after.id);
        if (!result.before.resolved) {
          await audit.record({
            entityType: 'error_log',
            entityId: result.after.id,
            operation: 'update',
            oldData: { resolved: false },
            newData: { resolved: true, replayedEvents },
            ...actor,
          });
        }
        return { ...toErrorView(result.after), replayedEvents };
      },
    );

    app.post(
      '/api/errors/:id/replay',
      {
        onRequest: guards.requireAdmin,
        schema: {
          tags: ['errors'],
          summary: 'Puts the webhook events parked under an error back in line, leaving the error open',
          description:
            'For retrying after a fix without closing the entry: if the events fail again they are parked ' +
            'under a new error entry. Audited.',
          security: [{ bearer: [] }],
          params: z.object({ id: z.uuid('id must be an error id (a UUID)') }),
          response: { 200: z.object({ replayedEvents: z.number().int() }) },
        },
      },
      async (request) => {
        const entry = await errors.find(request.params.id);
        if (!entry) throw notFound(`no error ${request.params.id}`);
        const replayedEvents = await replayParked(entry.id);
        await audit.record({
          entityType: 'error_log',
          entityId: entry.id,
          operation: 'update',
          newData: { replayedEvents },
          ...actorOf(request),
        });
        return { replayedEvents };
      },
    );
  };
}
