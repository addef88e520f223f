import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { keyOf } from '../db/keyset.ts';
import type { AuthGuards } from '../http/auth.ts';
import { decodeCursor, filterText, PageQuery, toPage } from '../http/cursor.ts';
import type { AuditEntry, AuditRepository, AuditRow } from './audit.repository.ts';

export const AuditEntryView = z.object({
  id: z.string(),
  entityType: z.string(),
  entityId: z.string(),
  operation: z.string().nullable(),
  oldData: z.unknown(),
  newData: z.unknown(),
  userId: z.string().nullable(),
  timestamp: z.string().nullable(),
  ipAddress: z.string().nullable(),
  userAgent: z.string().nullable(),
});

// A listed row's `cursorAt` is the page's business, not part of the entry.
export function toAuditView({ cursorAt: _cursorAt, ...row }: AuditRow & { cursorAt?: string }) {
  return { ...row, timestamp: row.timestamp?.toISOString() ?? null };
}

/**
 * Who did an admin action, for the audit trail: the authenticated token (`admin-token`, or `key:NAME` for a
 * named key), the client address and agent.
 */
export function actorOf(request: FastifyRequest): Pick<AuditEntry, 'userId' | 'ipAddress' | 'userAgent'> {
  return {
    userId: request.actor ?? (request.role === 'admin' ? 'admin-token' : (request.role ?? 'anonymous')),
    ipAddress: request.ip,
    userAgent: request.headers['user-agent'] ?? null,
  };
}

export function auditRoutes({
  audit,
  guards,
}: {
  audit: AuditRepository;
  guards: AuthGuards;
}): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/audit',
      {
        onRequest: guards.requireAdmin,
        schema: {
          tags: ['audit'],
          summary: 'The audit trail, newest first',
          security: [{ bearer: [] }],
          querystring: PageQuery.extend({
            entity_type: filterText('entity_type', 100).optional(),
            entity_id: filterText('entity_id', 200).optional(),
          }),
          response: { 200: z.object({ data: z.array(AuditEntryView), nextCursor: z.string().nullable() }) },
        },
      },
      async (request) => {
        const { limit, cursor, entity_type, entity_id } = request.query;
        const rows = await audit.list({
          entityType: entity_type,
          entityId: entity_id,
          after: cursor ? decodeCursor(cursor) : undefined,
          limit,
        });
        const page = toPage(rows, limit, keyOf);
        return { data: page.data.map(toAuditView), nextCursor: page.nextCursor };
      },
    );
  };
}
