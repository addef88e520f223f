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
    /** `oauth` (refreshable) or `private_app` (a token that never expires, refreshed by no one). */
    kind: text('kind').notNull().default('oauth'),
    /** Which key of TOKEN_ENCRYPTION_KEY's ring encrypted the tokens (a short digest of it), for rotation. */
    tokenKeyId: text('token_key_id'),
    hubDomain: text('hub_domain'),
    /** The HubSpot user who installed the app, from the token's introspection. */
    installedBy: text('installed_by'),
  },
  (t) => [
    unique('unique_hubspot_connection').on(t.id),
    check('hubspot_connections_status_check', sql`${t.status} IN ('connecting', 'connected', 'error')`),
    check('hubspot_connections_kind_check', sql`${t.kind} IN ('oauth', 'private_app')`),
    pgPolicy('hubspot_connections_owner_all', ownerFullAccess),
  ],
).enableRLS();

/**
 * The `state` of each OAuth install begun: it must come back signed, before it expires, and only once
 * (`used_at`), on whichever instance the callback reaches.
 */
export const oauthStates = pgTable(
  'oauth_states',
  {
    nonce: text('nonce').primaryKey(),
    redirectUri: text('redirect_uri').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }).notNull(),
    usedAt: timestamp('used_at', { withTimezone: true }),
  },
  () => [pgPolicy('oauth_states_owner_all', ownerFullAccess)],
).enableRLS();

export const API_KEY_ROLES = ['admin', 'read'] as const;

/** Named API keys beside the two bootstrap tokens: stored as SHA-256 digests, never in the clear. */
export const apiKeys = pgTable(
  'api_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull().unique(),
    role: text('role').$type<(typeof API_KEY_ROLES)[number]>().notNull(),
    keyHash: text('key_hash').notNull().unique(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    createdBy: text('created_by'),
    lastUsedAt: timestamp('last_used_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
  },
  (t) => [
    check('api_keys_role_check', sql`${t.role} IN ('admin', 'read')`),
    check('api_keys_name_check', sql`${t.name} ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'`),
    pgPolicy('api_keys_owner_all', ownerFullAccess),
  ],
).enableRLS();
