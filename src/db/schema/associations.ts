import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  pgPolicy,
  pgTable,
  text,
  timestamp,
  unique,
} from 'drizzle-orm/pg-core';
import { ownerFullAccess } from './policies.ts';

/**
 * Contact ↔ other-object associations (companies first), one row per (contact, object, association type).
 * A removed association keeps its row (`removed`), so an older "added" event cannot bring it back.
 */
export const contactAssociations = pgTable(
  'contact_associations',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    contactHubspotId: text('contact_hubspot_id').notNull(),
    toObjectType: text('to_object_type').notNull(),
    toObjectId: text('to_object_id').notNull(),
    /** HubSpot's association type id (contact → company, primary: 1; unlabeled: 279). */
    associationTypeId: integer('association_type_id').notNull(),
    category: text('category').notNull().default('HUBSPOT_DEFINED'),
    label: text('label'),
    isPrimary: boolean('is_primary').notNull().default(false),
    removed: boolean('removed').notNull().default(false),
    /** The HubSpot time (epoch ms) of the change held: the last-writer-wins version. */
    version: bigint('version', { mode: 'number' }).notNull(),
    source: text('source').notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    unique('unique_contact_association').on(
      t.contactHubspotId,
      t.toObjectType,
      t.toObjectId,
      t.associationTypeId,
    ),
    index('idx_contact_associations_to').on(t.toObjectType, t.toObjectId),
    pgPolicy('contact_associations_owner_all', ownerFullAccess),
  ],
).enableRLS();

/** HubSpot's contact property definitions as last read: what `HUBSPOT_CONTACT_PROPERTIES=all` resolves to. */
export const contactPropertyDefinitions = pgTable(
  'contact_property_definitions',
  {
    name: text('name').primaryKey(),
    label: text('label'),
    type: text('type'),
    fieldType: text('field_type'),
    /** Set when HubSpot no longer lists it; it is then no longer asked for. */
    deletedAt: timestamp('deleted_at', { withTimezone: true }),
    firstSeenAt: timestamp('first_seen_at', { withTimezone: true }).notNull().defaultNow(),
    lastSeenAt: timestamp('last_seen_at', { withTimezone: true }).notNull().defaultNow(),
  },
  () => [pgPolicy('contact_property_definitions_owner_all', ownerFullAccess)],
).enableRLS();

/**
 * Where this deployment stands in HubSpot's Webhooks Journal: the last offset read (and when), so that after
 * downtime the missed events are pulled from there rather than found by a full sweep.
 */
export const journalCheckpoints = pgTable(
  'journal_checkpoints',
  {
    portalId: bigint('portal_id', { mode: 'number' }).primaryKey(),
    journalOffset: text('journal_offset').notNull(),
    /** When the offset was taken: the service had every event up to here. */
    checkedAt: timestamp('checked_at', { withTimezone: true }).notNull(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().default(sql`now()`),
  },
  () => [pgPolicy('journal_checkpoints_owner_all', ownerFullAccess)],
).enableRLS();
