import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgPolicy,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { ownerFullAccess } from './policies.ts';

export const CONTACT_SYNC_STATUSES = ['synced', 'pending', 'error'] as const;
export type ContactSyncStatus = (typeof CONTACT_SYNC_STATUSES)[number];

/** Per property, the HubSpot time (epoch ms) of the value held: the last-writer-wins version. */
export type PropertyVersions = Record<string, number>;

/** The mirror: one row per HubSpot contact id, archived rows kept for deletions and merges. */
export const contacts = pgTable(
  'contacts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    hubspotId: text('hubspot_id').notNull(),
    supabaseId: uuid('supabase_id'),
    data: jsonb('data').$type<Record<string, string | null>>().notNull(),
    lastSync: timestamp('last_sync', { withTimezone: true }).notNull(),
    syncStatus: text('sync_status').$type<ContactSyncStatus>(),
    createdAt: timestamp('created_at', { withTimezone: true }).defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    propertyVersions: jsonb('property_versions').$type<PropertyVersions>().notNull().default({}),
    archived: boolean('archived').notNull().default(false),
    archivedAt: timestamp('archived_at', { withTimezone: true }),
    mergedInto: text('merged_into'),
    // The HubSpot time of the last lifecycle event (creation, deletion, restore, merge) applied,
    // so an old deletion cannot archive a contact restored after it.
    lifecycleVersion: bigint('lifecycle_version', { mode: 'number' }).notNull().default(0),
    erasedAt: timestamp('erased_at', { withTimezone: true }),
    hubspotCreatedAt: timestamp('hubspot_created_at', { withTimezone: true }),
    hubspotUpdatedAt: timestamp('hubspot_updated_at', { withTimezone: true }),
    // A contact whose properties must be read from HubSpot (after a creation, restore or merge event) is
    // `sync_status = 'pending'`; these pace the retries when HubSpot does not know it yet.
    fetchAttempts: integer('fetch_attempts').notNull().default(0),
    nextFetchAt: timestamp('next_fetch_at', { withTimezone: true }),
    // HubSpot purges archived contacts 90 days after deletion, with no webhook: the row stays, marked.
    purgedAt: timestamp('purged_at', { withTimezone: true }),
  },
  (t) => [
    unique('unique_hubspot_contact').on(t.hubspotId),
    check('contacts_sync_status_check', sql`${t.syncStatus} IN ('synced', 'pending', 'error')`),
    check('contacts_data_is_object', sql`jsonb_typeof(${t.data}) = 'object'`),
    index('idx_contacts_hubspot_id').on(t.hubspotId),
    index('idx_contacts_sync_status').on(t.syncStatus),
    index('idx_contacts_last_sync').on(t.lastSync),
    index('idx_contacts_email').on(sql`lower(${t.data} ->> 'email')`),
    index('idx_contacts_updated_at').on(t.updatedAt, t.id),
    index('idx_contacts_to_fetch').on(t.nextFetchAt).where(sql`${t.syncStatus} = 'pending'`),
    index('idx_contacts_merged_into').on(t.mergedInto).where(sql`${t.mergedInto} IS NOT NULL`),
    pgPolicy('contacts_owner_all', ownerFullAccess),
  ],
).enableRLS();

/** Append-only: every value a property held, from webhooks and sweeps, with its HubSpot time. */
export const contactPropertyHistory = pgTable(
  'contact_property_history',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    hubspotId: text('hubspot_id').notNull(),
    propertyName: text('property_name').notNull(),
    value: text('value'),
    occurredAt: bigint('occurred_at', { mode: 'number' }).notNull(),
    source: text('source').notNull(),
    sourceId: text('source_id'),
    applied: boolean('applied').notNull().default(true),
    recordedAt: timestamp('recorded_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('contact_property_history_source_check', sql`${t.source} IN ('webhook', 'sweep', 'fetch')`),
    index('idx_contact_property_history_contact').on(t.hubspotId, t.propertyName, t.occurredAt),
    pgPolicy('contact_property_history_owner_all', ownerFullAccess),
  ],
).enableRLS();
