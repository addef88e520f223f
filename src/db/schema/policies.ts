import { sql } from 'drizzle-orm';

/**
 * RLS is on for every table that holds contact data or secrets, so that Supabase's `anon` and
 * `authenticated` roles (or any other role) see nothing unless a policy says so. This policy keeps
 * full access for the role that ran the migrations (the service's own role), which plain PostgreSQL
 * understands; the seed's `auth.uid()` policy is added by a migration only where Supabase's `auth` exists.
 */
export const ownerFullAccess = {
  as: 'permissive',
  for: 'all',
  to: 'current_user',
  using: sql`true`,
  withCheck: sql`true`,
} as const;
