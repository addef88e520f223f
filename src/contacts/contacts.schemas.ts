import { z } from 'zod';
import { AuditEntryView } from '../audit/audit.routes.ts';
import { CONTACT_SYNC_STATUSES } from '../db/schema/index.ts';
import { filterText, isoTimestamp, PageQuery } from '../http/cursor.ts';

const booleanFlag = z.enum(['true', 'false']).transform((value) => value === 'true');

export const ContactListQuery = PageQuery.extend({
  email: filterText('email', 320).optional(),
  q: filterText('q', 200).optional(),
  sync_status: z.enum(CONTACT_SYNC_STATUSES).optional(),
  updated_since: isoTimestamp('updated_since').optional(),
  archived: booleanFlag.default(false),
});

export const ContactParams = z.object({
  // HubSpot object ids are positive 64-bit integers, sent as strings of digits.
  hubspotId: z.string().regex(/^\d{1,20}$/, 'hubspotId must be a HubSpot contact id (digits only)'),
});

export const ContactView = z.object({
  id: z.string(),
  hubspotId: z.string(),
  properties: z.record(z.string(), z.string().nullable()),
  archived: z.boolean(),
  mergedInto: z.string().nullable(),
  purgedAt: z
    .string()
    .nullable()
    .describe(
      'when HubSpot permanently removed the deleted contact (90 days after deletion); null otherwise',
    ),
  syncStatus: z.enum(CONTACT_SYNC_STATUSES).nullable(),
  lastSync: z.string(),
  createdAt: z.string().nullable(),
  updatedAt: z.string(),
});

export const ContactListResponse = z.object({
  data: z.array(ContactView),
  nextCursor: z.string().nullable(),
});

export const AssociationView = z.object({
  toObjectType: z.string().describe("the associated record's type: company"),
  toObjectId: z.string().describe("the associated record's HubSpot id"),
  associationTypeId: z
    .number()
    .int()
    .describe("HubSpot's association type (contact → company: 1 primary, 279 unlabeled, others labelled)"),
  label: z.string().nullable(),
  isPrimary: z.boolean(),
});

export const AssociationsResponse = z.object({
  data: z.array(AssociationView),
  nextCursor: z.null().describe("always null: a contact's associations come in one page"),
});

export const ContactDetailResponse = ContactView.extend({
  audit: z.array(AuditEntryView),
  associations: z.array(AssociationView).describe('live associations only'),
});

export const HistoryQuery = PageQuery.extend({
  property: z
    .string()
    .regex(/^[a-z0-9_]{1,100}$/, 'property must be a HubSpot property name (lower-case letters, digits, _)')
    .optional(),
});

export const HistoryEntryView = z.object({
  id: z.string(),
  propertyName: z.string(),
  value: z.string().nullable(),
  occurredAt: z.string().describe("the change's time at HubSpot"),
  source: z.enum(['webhook', 'sweep', 'fetch']),
  sourceId: z.string().nullable(),
  applied: z.boolean().describe('false: the value was older than the one held, recorded but not applied'),
  recordedAt: z.string(),
});

export const HistoryResponse = z.object({
  data: z.array(HistoryEntryView),
  nextCursor: z.string().nullable(),
});
