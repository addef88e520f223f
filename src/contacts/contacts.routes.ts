import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AuditRepository } from '../audit/audit.repository.ts';
import { toAuditView } from '../audit/audit.routes.ts';
import { keyOf } from '../db/keyset.ts';
import { notFound } from '../http/app-error.ts';
import type { AuthGuards } from '../http/auth.ts';
import { decodeCursor, toPage } from '../http/cursor.ts';
import type { ContactRecord, ContactsRepository } from './contacts.repository.ts';
import {
  ContactDetailResponse,
  ContactListQuery,
  ContactListResponse,
  ContactParams,
} from './contacts.schemas.ts';

const AUDIT_TRAIL_LENGTH = 20;

export function toContactView(row: ContactRecord) {
  return {
    id: row.id,
    hubspotId: row.hubspotId,
    properties: row.data,
    archived: row.archived,
    mergedInto: row.mergedInto,
    syncStatus: row.syncStatus,
    lastSync: row.lastSync.toISOString(),
    createdAt: row.createdAt?.toISOString() ?? null,
    updatedAt: row.updatedAt.toISOString(),
  };
}

export interface ContactsRoutesDeps {
  contacts: ContactsRepository;
  audit: AuditRepository;
  guards: AuthGuards;
}

export function contactsRoutes({ contacts, audit, guards }: ContactsRoutesDeps): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/contacts',
      {
        onRequest: guards.requireRead,
        schema: {
          tags: ['contacts'],
          summary: 'The mirrored contacts, most recently updated first',
          description:
            'Archived (deleted or merged-away) contacts are listed only with archived=true. ' +
            'q is a case-insensitive substring of email, firstname, lastname or company.',
          security: [{ bearer: [] }],
          querystring: ContactListQuery,
          response: { 200: ContactListResponse },
        },
      },
      async (request) => {
        const { limit, cursor, email, q, sync_status, updated_since, archived } = request.query;
        const rows = await contacts.list({
          email,
          q,
          syncStatus: sync_status,
          updatedSince: updated_since,
          archived,
          after: cursor ? decodeCursor(cursor) : undefined,
          limit,
        });
        const page = toPage(rows, limit, keyOf);
        return { data: page.data.map(toContactView), nextCursor: page.nextCursor };
      },
    );

    app.get(
      '/api/contacts/:hubspotId',
      {
        onRequest: guards.requireRead,
        schema: {
          tags: ['contacts'],
          summary: 'One contact, archived or not, with its latest audit entries',
          security: [{ bearer: [] }],
          params: ContactParams,
          response: { 200: ContactDetailResponse },
        },
      },
      async (request) => {
        const { hubspotId } = request.params;
        const contact = await contacts.findByHubspotId(hubspotId);
        if (!contact) throw notFound(`no contact ${hubspotId}`);
        const trail = await audit.list({
          entityType: 'contact',
          entityId: hubspotId,
          limit: AUDIT_TRAIL_LENGTH,
        });
        return {
          ...toContactView(contact),
          audit: trail.slice(0, AUDIT_TRAIL_LENGTH).map(toAuditView),
        };
      },
    );
  };
}
