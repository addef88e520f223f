import { sql } from 'drizzle-orm';
import { bigint, check, pgPolicy, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';
import { ownerFullAccess } from './policies.ts';

/** One row per connected portal. Tokens are AES-256-GCM ciphertexts, never plaintext. */
export const hubspotConnections = pgTable(
  'hubspot_connections',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    accessToken: text('access_token').notNull(),
    refreshToken: text('refresh_token').notNull(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).defaultNow(),
    portalId: bigint('portal_id', { mode: 'number' }),
    scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
    status: text('status').notNull().default('connected'),
    lastError: text('last_error'),
    refreshedAt: timestamp('refreshed_at', { withTimezone: true }),
  },
  (t) => [
    unique('unique_hubspot_connection').on(t.id),
    check('hubspot_connections_status_check', sql`${t.status} IN ('connecting', 'connected', 'error')`),
    pgPolicy('hubspot_connections_owner_all', ownerFullAccess),
  ],
).enableRLS();
