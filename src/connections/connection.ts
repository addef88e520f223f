import type { AuditRepository } from '../audit/audit.repository.ts';
import type { Database } from '../db/client.ts';
import type { Executor } from '../db/query.ts';
import type { ErrorsRepository } from '../errors/errors.repository.ts';
import { AppError } from '../http/app-error.ts';
import type { Logger } from '../logger.ts';
import { type ConnectionState, recordConnectionState } from './connection-status.ts';
import type { ConnectionRow, ConnectionsRepository } from './connections.repository.ts';
import { type OAuthClient, OAuthGrantError, type TokenSet } from './oauth-client.ts';
import { encryptionKeyMissing, type TokenCipher } from './token-cipher.ts';

/** What the service needs to mirror contacts; an install without it is refused, naming what is missing. */
export const REQUIRED_SCOPES = ['crm.objects.contacts.read'] as const;

// HubSpot's tokens live 30 minutes: refresh well before, so no call is sent with a token about to lapse.
const REFRESH_MARGIN_MS = 5 * 60_000;
// How stale this instance's idea of the connection may get when another instance connects or loses it.
const STATE_RECHECK_MS = 10_000;

export interface ConnectionView {
  state: 'connected' | 'disconnected' | 'error';
  kind: 'private_app' | 'oauth' | null;
  portalId: number | null;
  scopes: string[];
  expiresAt: string | null;
  lastRefreshAt: string | null;
  lastError: string | null;
  /** Whether /oauth/install can connect a portal here (OAuth configured, no private-app token). */
  installable: boolean;
}

export interface ConnectionDeps {
  database: Database;
  connections: ConnectionsRepository;
  cipher: TokenCipher;
  /** Present when HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET are configured. */
  oauth?: OAuthClient | undefined;
  /** HUBSPOT_ACCESS_TOKEN: a private app's static token, which wins over any stored connection. */
  privateAppToken?: string | undefined;
  /** HUBSPOT_PORTAL_ID: when set, a token for any other portal is refused. */
  portalId?: number | undefined;
  errors: ErrorsRepository;
  audit: Pick<AuditRepository, 'record'>;
  logger: Logger;
  now?: () => number;
  refreshMarginMs?: number;
  /** How often `usable` looks at the stored connection again, for changes another instance made. */
  stateRecheckMs?: number;
}

export const oauthNotConfigured = () =>
  new AppError({
    code: 'connections.oauth_not_configured',
    status: 503,
    message:
      'OAuth needs HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET (and TOKEN_ENCRYPTION_KEY to store tokens)',
  });

const privateAppConfigured = () =>
  new AppError({
    code: 'connections.private_app_configured',
    status: 409,
    message:
      'HUBSPOT_ACCESS_TOKEN is set: this deployment connects as that private app; unset it to use OAuth',
  });

const rejectedGrant = (error: OAuthGrantError) =>
  new AppError({
    code: 'connections.grant_rejected',
    status: 400,
    message: `HubSpot refused the grant: ${error.message}`,
  });

/**
 * The HubSpot connection: a private app's static token, or an OAuth token set stored encrypted and refreshed
 * before it expires. Refreshes are single-flight in the process and, through a row lock, across instances.
 * A refresh token HubSpot rejects (revoked, app uninstalled) puts the connection in `error`: calls that need
 * a token then get none until someone reconnects, while webhooks keep being stored.
 */
export function createConnection(deps: ConnectionDeps) {
  const { database, connections, cipher, logger } = deps;
  const now = deps.now ?? Date.now;
  const margin = deps.refreshMarginMs ?? REFRESH_MARGIN_MS;
  const recheckMs = deps.stateRecheckMs ?? STATE_RECHECK_MS;
  let cached: { token: string; expiresAt: number } | undefined;
  let refreshing: Promise<string | undefined> | undefined;
  /** A private-app token HubSpot answered 401 to: revoked, until the process restarts with another one. */
  let privateAppRejected: string | undefined;
  let usable = Boolean(deps.privateAppToken);
  let checkedAt = Number.NEGATIVE_INFINITY;
  const connectedListeners: (() => void)[] = [];

  function stateOf(row: ConnectionRow | undefined): ConnectionState {
    if (deps.privateAppToken)
      return privateAppRejected
        ? { state: 'error', kind: 'private_app', portalId: deps.portalId ?? null, error: privateAppRejected }
        : { state: 'connected', kind: 'private_app', portalId: deps.portalId ?? null };
    if (!row) return { state: 'disconnected', kind: null, portalId: deps.portalId ?? null };
    return {
      state: row.status === 'error' ? 'error' : 'connected',
      kind: row.kind,
      portalId: row.portal_id,
      ...(row.status === 'error' && row.last_error ? { error: row.last_error } : {}),
    };
  }

  /** Checks a token set HubSpot issued against this deployment's portal and the scopes it needs. */
  function checkGrant(set: TokenSet): void {
    if (deps.portalId !== undefined && set.portalId !== null && set.portalId !== deps.portalId)
      throw new AppError({
        code: 'connections.wrong_portal',
        status: 409,
        message: `the token is for portal ${set.portalId}, but this deployment mirrors portal ${deps.portalId} (HUBSPOT_PORTAL_ID)`,
      });
    const missing = REQUIRED_SCOPES.filter((scope) => !set.scopes.includes(scope));
    if (set.scopes.length > 0 && missing.length > 0)
      throw new AppError({
        code: 'connections.missing_scope',
        status: 400,
        message: `the token lacks the scope${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; add ${missing.length > 1 ? 'them' : 'it'} to the app and install again`,
      });
  }

  const encrypted = (set: TokenSet) => {
    const keyId = cipher.currentKeyId;
    if (!keyId) throw encryptionKeyMissing();
    return {
      accessToken: cipher.encrypt(set.accessToken),
      refreshToken: cipher.encrypt(set.refreshToken),
      expiresAt: set.expiresAt,
      tokenKeyId: keyId,
    };
  };

  async function store(set: TokenSet): Promise<ConnectionRow> {
    checkGrant(set);
    const tokens = encrypted(set);
    const row = await database.db.transaction(async (tx) => {
      const saved = await connections.replace(tx, {
        ...tokens,
        portalId: set.portalId ?? deps.portalId ?? null,
        scopes: set.scopes,
      });
      await recordConnectionState(tx, stateOf(saved));
      return saved;
    });
    cached = { token: set.accessToken, expiresAt: set.expiresAt.getTime() };
    becameUsable(true);
    return row;
  }

  /** Records whether calls can be made; a change to usable tells the listeners (sweeps and fetch-backs resume). */
  function becameUsable(canCall: boolean): void {
    const was = usable;
    usable = canCall;
    if (canCall && !was) for (const listener of connectedListeners) listener();
  }

  async function readState(): Promise<{ row: ConnectionRow | undefined; state: ConnectionState }> {
    const row = deps.privateAppToken ? undefined : await connections.current(database.db);
    const state = stateOf(row);
    checkedAt = now();
    if (!deps.privateAppToken) becameUsable(state.state === 'connected');
    return { row, state };
  }

  /** Puts the connection in `error` in the caller's transaction, tells dashboards, logs it for people. */
  async function fail(tx: Executor, row: ConnectionRow, error: OAuthGrantError): Promise<void> {
    const message = `HubSpot rejected the refresh token (${error.status ?? error.error}): reconnect the portal`;
    await connections.markError(tx, row.id, message);
    await recordConnectionState(tx, { ...stateOf(row), state: 'error', error: message });
    cached = undefined;
    becameUsable(false);
    logger.error({ error: error.error, status: error.status }, message);
    await Promise.all([
      deps.errors.record({
        errorType: 'connection.refresh_rejected',
        errorMessage: message,
        context: { portalId: row.portal_id, error: error.error, status: error.status },
      }),
      deps.audit.record({
        entityType: 'hubspot_connection',
        entityId: row.id,
        operation: 'update',
        oldData: { status: row.status },
        newData: { status: 'error', reason: error.status ?? error.error },
        userId: 'hubspot:refresh',
      }),
    ]).catch((cause) => logger.warn({ err: cause }, 'could not record the refresh failure'));
  }

  /**
   * A valid access token, refreshed first when it expires within the margin (or, with `staleToken`, when
   * HubSpot just refused that one). Another instance may have refreshed meanwhile: the row, read under its
   * lock, says so, and its token is used as it is.
   */
  async function refreshed(staleToken?: string): Promise<string | undefined> {
    return database.db.transaction(async (tx) => {
      const row = await connections.lock(tx);
      if (!row || row.status === 'error') {
        becameUsable(false);
        return undefined;
      }
      const expiresAt = Date.parse(row.expires_at);
      const current = cipher.decrypt(row.access_token);
      if (current !== staleToken && expiresAt - now() > margin) {
        cached = { token: current, expiresAt };
        becameUsable(true);
        return current;
      }
      if (!deps.oauth) throw oauthNotConfigured();
      let set: TokenSet;
      try {
        set = await deps.oauth.refresh(cipher.decrypt(row.refresh_token));
      } catch (error) {
        if (error instanceof OAuthGrantError && error.revoked) {
          await fail(tx, row, error);
          return undefined;
        }
        throw error;
      }
      await connections.saveTokens(tx, row.id, encrypted(set));
      cached = { token: set.accessToken, expiresAt: set.expiresAt.getTime() };
      becameUsable(true);
      logger.info({ expiresAt: set.expiresAt.toISOString() }, 'HubSpot access token refreshed');
      return set.accessToken;
    });
  }

  function refreshOnce(staleToken?: string): Promise<string | undefined> {
    refreshing ??= refreshed(staleToken).finally(() => {
      refreshing = undefined;
    });
    return refreshing;
  }

  return {
    /** Calls `listener` each time a portal is connected (sweeps and fetch-backs pick up where they waited). */
    onConnected(listener: () => void): void {
      connectedListeners.push(listener);
    },

    /** Whether calls to HubSpot can be made now (sweeps and fetch-backs wait while not). */
    get usable(): boolean {
      // Another instance may have connected or lost the portal: look at the row now and then, in the background.
      if (!deps.privateAppToken && now() - checkedAt > recheckMs) {
        checkedAt = now();
        readState().catch((error) => logger.warn({ err: error }, 'could not read the connection state'));
      }
      return usable && !privateAppRejected;
    },

    /** The token for the next HubSpot call; undefined when there is no usable connection. */
    async accessToken(): Promise<string | undefined> {
      if (deps.privateAppToken) return privateAppRejected ? undefined : deps.privateAppToken;
      if (cached && cached.expiresAt - now() > margin) return cached.token;
      return refreshOnce();
    },

    /**
     * HubSpot answered 401 to `token`. An OAuth token is refreshed (once, however many callers saw the 401)
     * and the new one returned; a private app's token is revoked, which puts the connection in `error`.
     */
    async rejected(token: string, reason: string): Promise<string | undefined> {
      if (deps.privateAppToken) {
        if (token !== deps.privateAppToken || privateAppRejected) return undefined;
        privateAppRejected = `HubSpot refused the private app's token (${reason}): set a valid HUBSPOT_ACCESS_TOKEN`;
        becameUsable(false);
        logger.error(privateAppRejected);
        await database.db
          .transaction((tx) => recordConnectionState(tx, stateOf(undefined)))
          .catch((error) => logger.warn({ err: error }, 'could not record the connection state'));
        await deps.errors
          .record({ errorType: 'connection.token_rejected', errorMessage: privateAppRejected })
          .catch((error) => logger.warn({ err: error }, 'could not record the rejected token'));
        return undefined;
      }
      if (cached?.token === token) cached = undefined;
      return refreshOnce(token);
    },

    async view(): Promise<ConnectionView> {
      const { row, state } = await readState();
      return {
        state: state.state,
        kind: state.kind,
        portalId: state.portalId,
        scopes: row?.scopes ?? [],
        expiresAt: row?.expires_at ?? null,
        lastRefreshAt: row?.refreshed_at ?? null,
        lastError: state.error ?? null,
        installable: Boolean(deps.oauth) && !deps.privateAppToken,
      };
    },

    /** The OAuth code exchange: the code HubSpot's consent screen sent back, for `redirectUri`. */
    async connectWithCode(code: string, redirectUri: string): Promise<ConnectionRow> {
      if (deps.privateAppToken) throw privateAppConfigured();
      if (!deps.oauth) throw oauthNotConfigured();
      if (!cipher.currentKeyId) throw encryptionKeyMissing();
      const set = await deps.oauth.exchangeCode(code, redirectUri).catch((error) => {
        throw error instanceof OAuthGrantError ? rejectedGrant(error) : error;
      });
      return store(set);
    },

    /**
     * A token set obtained elsewhere. It is checked by refreshing it at once: that proves the refresh token,
     * and HubSpot's answer names the portal and the scopes.
     */
    async connectWithTokens(refreshToken: string): Promise<ConnectionRow> {
      if (deps.privateAppToken) throw privateAppConfigured();
      if (!deps.oauth) throw oauthNotConfigured();
      if (!cipher.currentKeyId) throw encryptionKeyMissing();
      const set = await deps.oauth.refresh(refreshToken).catch((error) => {
        throw error instanceof OAuthGrantError ? rejectedGrant(error) : error;
      });
      return store(set);
    },

    /** Erases the stored tokens. */
    async disconnect(): Promise<boolean> {
      if (deps.privateAppToken) throw privateAppConfigured();
      const removed = await database.db.transaction(async (tx) => {
        const count = await connections.remove(tx);
        await recordConnectionState(tx, stateOf(undefined));
        return count > 0;
      });
      cached = undefined;
      becameUsable(false);
      return removed;
    },

    /** Tells dashboards the state at start-up, if it changed since the last instance recorded it. */
    async announce(): Promise<void> {
      const { state } = await readState();
      await database.db.transaction((tx) => recordConnectionState(tx, state));
    },

    /** Fails loudly when a stored token cannot be opened with TOKEN_ENCRYPTION_KEY (a wrong or missing key). */
    async checkKey(): Promise<void> {
      if (deps.privateAppToken) return;
      const row = await connections.current(database.db);
      if (row) cipher.decrypt(row.refresh_token);
    },
  };
}

export type Connection = ReturnType<typeof createConnection>;
