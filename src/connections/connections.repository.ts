import { sql } from 'drizzle-orm';
import { type Executor, query } from '../db/query.ts';

/** The stored connection: tokens as ciphertexts (see token-cipher.ts), never plaintext. */
export interface ConnectionRow {
  id: string;
  kind: 'oauth' | 'private_app';
  status: 'connecting' | 'connected' | 'error';
  access_token: string;
  refresh_token: string;
  expires_at: string;
  token_key_id: string | null;
  portal_id: number | null;
  scopes: string[];
  last_error: string | null;
  refreshed_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface StoredTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  tokenKeyId: string;
}

const iso = (column: string) =>
  sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as ${column}`);

const COLUMNS = sql`id, kind, status, access_token, refresh_token, token_key_id, portal_id::float8 as portal_id,
  scopes, last_error, ${iso('expires_at')}, ${iso('refreshed_at')}, ${iso('created_at')}, ${iso('updated_at')}`;

/** One connection per deployment: the service mirrors one portal. */
export function createConnectionsRepository() {
  return {
    async current(executor: Executor): Promise<ConnectionRow | undefined> {
      const [row] = await query<ConnectionRow>(
        executor,
        sql`select ${COLUMNS} from hubspot_connections order by created_at desc limit 1`,
      );
      return row;
    },

    /** The row, locked until the caller's transaction ends: one refresh at a time across instances. */
    async lock(executor: Executor): Promise<ConnectionRow | undefined> {
      const [row] = await query<ConnectionRow>(
        executor,
        sql`select ${COLUMNS} from hubspot_connections order by created_at desc limit 1 for update`,
      );
      return row;
    },

    /** Replaces whatever connection was held with a new one. */
    async replace(
      executor: Executor,
      init: StoredTokens & { portalId: number | null; scopes: readonly string[] },
    ): Promise<ConnectionRow> {
      await executor.execute(sql`delete from hubspot_connections`);
      const [row] = await query<ConnectionRow>(
        executor,
        sql`insert into hubspot_connections
            (kind, status, access_token, refresh_token, expires_at, token_key_id, portal_id, scopes, refreshed_at)
          values ('oauth', 'connected', ${init.accessToken}, ${init.refreshToken}, ${init.expiresAt.toISOString()},
            ${init.tokenKeyId}, ${init.portalId}, array(select jsonb_array_elements_text(${JSON.stringify(init.scopes)}::jsonb)),
            now())
          returning ${COLUMNS}`,
      );
      if (!row) throw new Error('hubspot_connections insert returned no row');
      return row;
    },

    async saveTokens(executor: Executor, id: string, tokens: StoredTokens): Promise<void> {
      await executor.execute(sql`update hubspot_connections set access_token = ${tokens.accessToken},
          refresh_token = ${tokens.refreshToken}, expires_at = ${tokens.expiresAt.toISOString()},
          token_key_id = ${tokens.tokenKeyId}, status = 'connected', last_error = null,
          refreshed_at = now(), updated_at = now()
        where id = ${id}`);
    },

    /** The same tokens under another key (rotation): nothing else changes. */
    async rewriteTokens(
      executor: Executor,
      id: string,
      tokens: Pick<StoredTokens, 'accessToken' | 'refreshToken' | 'tokenKeyId'>,
    ): Promise<void> {
      await executor.execute(sql`update hubspot_connections set access_token = ${tokens.accessToken},
          refresh_token = ${tokens.refreshToken}, token_key_id = ${tokens.tokenKeyId}, updated_at = now()
        where id = ${id}`);
    },

    async markError(executor: Executor, id: string, message: string): Promise<void> {
      await executor.execute(sql`update hubspot_connections set status = 'error', last_error = ${message},
          updated_at = now() where id = ${id}`);
    },

    async remove(executor: Executor): Promise<number> {
      const rows = await query<{ id: string }>(executor, sql`delete from hubspot_connections returning id`);
      return rows.length;
    },

    /** Every stored connection, for re-encryption under a new key. */
    async all(executor: Executor): Promise<ConnectionRow[]> {
      return query<ConnectionRow>(executor, sql`select ${COLUMNS} from hubspot_connections for update`);
    },

    async createState(executor: Executor, nonce: string, redirectUri: string, ttlMs: number): Promise<void> {
      await executor.execute(sql`insert into oauth_states (nonce, redirect_uri, expires_at)
        values (${nonce}, ${redirectUri}, now() + ${`${ttlMs} milliseconds`}::interval)`);
    },

    /** Marks an install state used; its redirect URI, or undefined when it is unknown, expired or used. */
    async consumeState(executor: Executor, nonce: string): Promise<string | undefined> {
      const [row] = await query<{ redirect_uri: string }>(
        executor,
        sql`update oauth_states set used_at = now()
          where nonce = ${nonce} and used_at is null and expires_at > now()
          returning redirect_uri`,
      );
      return row?.redirect_uri;
    },
  };
}

export type ConnectionsRepository = ReturnType<typeof createConnectionsRepository>;
