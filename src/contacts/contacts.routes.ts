import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AuditRepository } from '../audit/audit.repository.ts';
import { toAuditView } from '../audit/audit.routes.ts';
import { keyOf } from '../db/keyset.ts';
import { notFound } from '../http/app-error.ts';
import type { AuthGuards } from '../http/auth.ts';
import { decodeCursor, toPage } from '../http/cursor.ts';
import type { ContactRecord, ContactsRepository, HistoryRecord } from './contacts.repository.ts';
import {
  AssociationsResponse,
  ContactDetailResponse,
  ContactListQuery,
  ContactListResponse,
  ContactParams,
  HistoryQuery,
  HistoryResponse,
} from './contacts.schemas.ts';
import { decodeHistoryCursor, encodeHistoryCursor } from './history-cursor.ts';

const AUDIT_TRAIL_LENGTH = 20;

export function toContactView(row: ContactRecord) {
  return {
    id: row.id,
    hubspotId: row.hubspotId,
    properties: row.data,
    archived: row.archived,
    mergedInto: row.mergedInto,
    purgedAt: row.purgedAt?.toISOString() ?? null,
    syncStatus: row.syncStatus,
    lastSync: row.lastSync.toISOString(),
    createdAt: row.createdAt?.toISOString() ?? null,
    updatedAt: row.updatedAt.toISOString(),
  };
}

function toHistoryView(row: HistoryRecord) {
  return {
    id: String(row.id),
    propertyName: row.propertyName,
    value: row.value,
    occurredAt: new Date(row.occurredAt).toISOString(),
    source: row.source as 'webhook' | 'sweep' | 'fetch',
    sourceId: row.sourceId,
    applied: row.applied,
    recordedAt: row.recordedAt.toISOString(),
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
          associations: await contacts.associations(hubspotId),
        };
      },
    );

    app.get(
      '/api/contacts/:hubspotId/associations',
      {
        onRequest: guards.requireRead,
        schema: {
          tags: ['contacts'],
          summary: "One contact's live associations (companies), primary first",
          security: [{ bearer: [] }],
          params: ContactParams,
          response: { 200: AssociationsResponse },
        },
      },
      async (request) => {
        const { hubspotId } = request.params;
        const data = await contacts.associations(hubspotId);
        if (data.length === 0 && !(await contacts.findByHubspotId(hubspotId)))
          throw notFound(`no contact ${hubspotId}`);
        return { data, nextCursor: null };
      },
    );

    app.get(
      '/api/contacts/:hubspotId/history',
      {
        onRequest: guards.requireRead,
        schema: {
          tags: ['contacts'],
          summary: "One contact's property history, newest HubSpot time first",
          description:
            'Every value a webhook, sweep or fetch brought, applied or not (an older value than the one held ' +
            'is recorded with applied=false). Filter by property; page with cursor.',
          security: [{ bearer: [] }],
          params: ContactParams,
          querystring: HistoryQuery,
          response: { 200: HistoryResponse },
        },
      },
      async (request) => {
        const { hubspotId } = request.params;
        const { limit, cursor, property } = request.query;
        const rows = await contacts.history(hubspotId, {
          property,
          after: cursor ? decodeHistoryCursor(cursor) : undefined,
          limit,
        });
        if (rows.length === 0 && !cursor && !(await contacts.findByHubspotId(hubspotId)))
          throw notFound(`no contact ${hubspotId}`);
        const data = rows.slice(0, limit);
        const last = data.at(-1);
        return {
          data: data.map(toHistoryView),
          nextCursor: rows.length > limit && last ? encodeHistoryCursor(last) : null,
        };
      },
    );
  };
}
