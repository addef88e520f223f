import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from './clock.ts';

/**
 * The OAuth side of the portal: codes, access tokens and refresh tokens
 * (https://developers.hubspot.com/docs/api/oauth/tokens), and the private apps' tokens it has revoked.
 * Refresh tokens do not rotate: a refresh answers with the same refresh token and a new access token; earlier
 * access tokens stay valid until they expire.
 *
 * Revoking a refresh token leaves the access tokens made from it working until they expire: HubSpot's docs for
 * `DELETE /oauth/v1/refresh-tokens/{token}` say "This will only delete the refresh token. Access tokens generated
 * with the refresh token will not be affected." An uninstall (`/__sim/oauth/uninstall`) kills every token of the
 * app at once.
 */
export interface OAuthOptions {
  clock: Clock;
  clientId: string;
  clientSecret: string;
  portalId: number;
  appId: number;
  userId: number;
  tokenTtlSeconds: number;
}

/** RFC 6749 error plus HubSpot's own `status` code, e.g. invalid_grant / BAD_REFRESH_TOKEN. */
export class OAuthError extends Error {
  readonly error: string;
  readonly hubspotStatus: string;
  readonly statusCode: number;

  constructor(error: string, hubspotStatus: string, message: string, statusCode = 400) {
    super(message);
    this.error = error;
    this.hubspotStatus = hubspotStatus;
    this.statusCode = statusCode;
  }

  toBody(): Record<string, unknown> {
    return {
      status: this.hubspotStatus,
      message: this.message,
      correlationId: randomUUID(),
      // The OAuth specs' `Error` schema requires a category next to the RFC 6749 fields.
      category: this.statusCode === 401 ? 'INVALID_AUTHENTICATION' : 'VALIDATION_ERROR',
      error: this.error,
      error_description: this.message,
    };
  }
}

interface AuthCode {
  code: string;
  redirectUri: string;
  scopes: string[];
  expiresAt: number;
}

export interface AccessToken {
  token: string;
  scopes: string[];
  issuedAt: number;
  expiresAt: number;
  refreshToken: string;
  /** Killed by an uninstall before it expired. */
  revoked: boolean;
}

export type AccessTokenState = 'live' | 'expired' | 'revoked';

interface RefreshToken {
  token: string;
  scopes: string[];
  issuedAt: number;
  revoked: boolean;
}

export interface TokenResponse {
  token_type: 'bearer';
  access_token: string;
  refresh_token: string;
  expires_in: number;
  token_use: 'access_token';
  hub_id: number;
  user_id: number;
  scopes: string[];
}

const CODE_TTL_MS = 5 * 60_000;

/**
 * Scopes an app may ask for with the client-credentials grant: the developer-level Webhooks Journal scopes
 * (https://developers.hubspot.com/docs/api-reference/latest/webhooks-journal/guide, "Authentication and scopes").
 */
export const CLIENT_CREDENTIALS_SCOPES = [
  'developer.webhooks_journal.read',
  'developer.webhooks_journal.subscriptions.read',
  'developer.webhooks_journal.subscriptions.write',
  'developer.webhooks_journal.snapshots.read',
  'developer.webhooks_journal.snapshots.write',
] as const;

/** A token of the app itself (client-credentials grant): no portal user, no refresh token. */
export interface AppToken {
  token: string;
  scopes: string[];
  expiresAt: number;
}

export interface ClientCredentialsResponse {
  token_type: 'bearer';
  access_token: string;
  expires_in: number;
  scopes: string[];
}

/** `/oauth/v3/token/introspect` answers (oauth-v3.json, `TokenInfoResponseBaseIF`). */
export type IntrospectionResponse = Record<string, unknown> & { active: boolean };

export function createOAuthStore(options: OAuthOptions) {
  const { clock } = options;
  let ttlSeconds = options.tokenTtlSeconds;
  const codes = new Map<string, AuthCode>();
  const accessTokens = new Map<string, AccessToken>();
  const refreshTokens = new Map<string, RefreshToken>();
  /** Private-app tokens revoked in the portal's settings; every other `pat-…` token is accepted. */
  const revokedPrivateApps = new Map<string, number>();
  const appTokens = new Map<string, AppToken>();
  const hubDomain = `sim-portal-${options.portalId}.hubspot.com`;
  const user = 'sim-user@example.com';

  const stateOf = (token: AccessToken): AccessTokenState =>
    token.revoked ? 'revoked' : token.expiresAt > clock.now() ? 'live' : 'expired';

  function accessTokenInfo(token: AccessToken): IntrospectionResponse {
    const expiresIn = Math.max(0, Math.floor((token.expiresAt - clock.now()) / 1000));
    const scopes = token.scopes.join(' ');
    const sign = (what: string) =>
      createHmac('sha256', options.clientSecret).update(`${what}:${token.token}`).digest('base64');
    return {
      active: stateOf(token) === 'live',
      token: token.token,
      token_use: 'access_token',
      token_type: 'access',
      client_id: options.clientId,
      app_id: options.appId,
      hub_id: options.portalId,
      hub_domain: hubDomain,
      user,
      user_id: options.userId,
      scopes: token.scopes,
      expires_in: expiresIn,
      is_private_distribution: false,
      signed_access_token: {
        appId: options.appId,
        appInstallId: `${options.appId}-${options.portalId}`,
        audience: 'api.hubapi.com',
        expiresAt: token.expiresAt,
        hubId: options.portalId,
        hublet: 'na1',
        installingUserId: options.userId,
        isPrivateDistribution: false,
        isServiceAccount: false,
        isUserLevel: false,
        newSignature: sign('new'),
        scopeToScopeGroupPks: '',
        scopes,
        signature: sign('old'),
        trialScopeToScopeGroupPks: '',
        trialScopes: '',
        userId: options.userId,
      },
    };
  }

  function refreshTokenInfo(refresh: RefreshToken): IntrospectionResponse {
    return {
      active: !refresh.revoked,
      token: refresh.token,
      token_use: 'refresh_token',
      token_type: 'refresh',
      client_id: options.clientId,
      app_id: options.appId,
      hub_id: options.portalId,
      hub_domain: hubDomain,
      user,
      user_id: options.userId,
      scopes: refresh.scopes,
    };
  }

  function checkClient(clientId: string | undefined, clientSecret?: string | undefined): void {
    if (!clientId) throw new OAuthError('invalid_request', 'BAD_CLIENT_ID', 'missing client id');
    if (clientId !== options.clientId) {
      throw new OAuthError('invalid_client', 'BAD_CLIENT_ID', 'missing or unknown client id');
    }
    if (clientSecret !== undefined && clientSecret !== options.clientSecret) {
      throw new OAuthError('invalid_client', 'BAD_CLIENT_SECRET', 'missing or invalid client secret');
    }
  }

  function issue(refresh: RefreshToken): TokenResponse {
    const now = clock.now();
    // HubSpot access tokens are opaque strings of about this length.
    const token = `CO${randomBytes(60).toString('base64url')}`;
    accessTokens.set(token, {
      token,
      scopes: refresh.scopes,
      issuedAt: now,
      expiresAt: now + ttlSeconds * 1000,
      refreshToken: refresh.token,
      revoked: false,
    });
    return {
      token_type: 'bearer',
      access_token: token,
      refresh_token: refresh.token,
      expires_in: ttlSeconds,
      token_use: 'access_token',
      hub_id: options.portalId,
      user_id: options.userId,
      scopes: refresh.scopes,
    };
  }

  return {
    /** What consent would grant: straight back with a code, no person needed. */
    authorize(input: { clientId?: string; redirectUri?: string; scopes: string[] }): string {
      checkClient(input.clientId);
      if (!input.redirectUri)
        throw new OAuthError('invalid_request', 'BAD_REDIRECT_URI', 'missing redirect_uri');
      const code = randomUUID();
      codes.set(code, {
        code,
        redirectUri: input.redirectUri,
        scopes: input.scopes,
        expiresAt: clock.now() + CODE_TTL_MS,
      });
      return code;
    },

    exchangeCode(input: {
      clientId?: string;
      clientSecret?: string;
      redirectUri?: string;
      code?: string;
    }): TokenResponse {
      checkClient(input.clientId, input.clientSecret ?? '');
      const code = input.code ? codes.get(input.code) : undefined;
      if (!code) throw new OAuthError('invalid_grant', 'BAD_AUTH_CODE', 'missing or unknown auth code');
      if (code.expiresAt <= clock.now()) {
        codes.delete(code.code);
        throw new OAuthError('invalid_grant', 'EXPIRED_AUTH_CODE', 'auth code is expired');
      }
      if (code.redirectUri !== input.redirectUri) {
        throw new OAuthError(
          'invalid_grant',
          'BAD_REDIRECT_URI',
          'redirect_uri does not match initial auth code URL',
        );
      }
      // A code works once.
      codes.delete(code.code);
      const refresh: RefreshToken = {
        token: `na1-${randomUUID()}`,
        scopes: code.scopes,
        issuedAt: clock.now(),
        revoked: false,
      };
      refreshTokens.set(refresh.token, refresh);
      return issue(refresh);
    },

    refresh(input: { clientId?: string; clientSecret?: string; refreshToken?: string }): TokenResponse {
      checkClient(input.clientId, input.clientSecret ?? '');
      const refresh = input.refreshToken ? refreshTokens.get(input.refreshToken) : undefined;
      if (!refresh || refresh.revoked) {
        throw new OAuthError('invalid_grant', 'BAD_REFRESH_TOKEN', 'missing or unknown refresh token');
      }
      return issue(refresh);
    },

    accessToken(token: string): AccessToken | undefined {
      return accessTokens.get(token);
    },

    /**
     * RFC 6749 section 4.4: the app's own token from its id and secret, for the developer APIs such as the
     * Webhooks Journal. It carries no refresh token (section 4.4.3) and does not open the CRM API.
     */
    clientCredentials(input: {
      clientId?: string;
      clientSecret?: string;
      scope?: string;
    }): ClientCredentialsResponse {
      checkClient(input.clientId, input.clientSecret ?? '');
      const scopes = (input.scope ?? '').split(/[\s+,]+/).filter((scope) => scope !== '');
      if (scopes.length === 0) throw new OAuthError('invalid_scope', 'BAD_SCOPES', 'missing scope');
      const unknown = scopes.filter(
        (scope) => !(CLIENT_CREDENTIALS_SCOPES as readonly string[]).includes(scope),
      );
      if (unknown.length > 0)
        throw new OAuthError(
          'invalid_scope',
          'BAD_SCOPES',
          `scopes not available to the client-credentials grant: ${unknown.join(' ')}`,
        );
      const token = `CC${randomBytes(60).toString('base64url')}`;
      appTokens.set(token, { token, scopes, expiresAt: clock.now() + ttlSeconds * 1000 });
      return { token_type: 'bearer', access_token: token, expires_in: ttlSeconds, scopes };
    },

    /** A client-credentials token, or undefined for any other string. */
    appToken(token: string): AppToken | undefined {
      return appTokens.get(token);
    },

    refreshToken(token: string): RefreshToken | undefined {
      return refreshTokens.get(token);
    },

    revokeRefreshToken(token: string): boolean {
      const refresh = refreshTokens.get(token);
      if (!refresh || refresh.revoked) return false;
      refresh.revoked = true;
      return true;
    },

    isLive(token: AccessToken): boolean {
      return stateOf(token) === 'live';
    },

    state: stateOf,

    /**
     * RFC 7662 introspection with the client's credentials. A token this portal issued is described in full,
     * `active: false` once expired or revoked (the spec's schemas require every field); a token it never issued
     * answers `{active: false}` alone, as RFC 7662 section 2.2 asks.
     */
    introspect(input: {
      clientId?: string;
      clientSecret?: string;
      token?: string;
      hint?: string;
    }): IntrospectionResponse {
      checkClient(input.clientId, input.clientSecret ?? '');
      if (!input.token) throw new OAuthError('invalid_request', 'BAD_TOKEN', 'missing token');
      const access = accessTokens.get(input.token);
      const refresh = refreshTokens.get(input.token);
      if (input.hint === 'refresh_token' && refresh) return refreshTokenInfo(refresh);
      if (access) return accessTokenInfo(access);
      if (refresh) return refreshTokenInfo(refresh);
      return { active: false };
    },

    /**
     * RFC 7009 revocation of a refresh token (oauth-v3.json: "Deletes/Revokes provided Refresh Token"). An
     * unknown or already revoked token is not an error (RFC 7009 section 2.2); an access token is refused with
     * `unsupported_token_type` (section 2.2.1) so that no caller believes it is dead when it is not.
     */
    revoke(input: { clientId?: string; clientSecret?: string; token?: string }): void {
      checkClient(input.clientId, input.clientSecret ?? '');
      if (!input.token) throw new OAuthError('invalid_request', 'BAD_TOKEN', 'missing token');
      if (accessTokens.has(input.token)) {
        throw new OAuthError(
          'unsupported_token_type',
          'BAD_TOKEN_TYPE',
          'only refresh tokens can be revoked; access tokens expire on their own',
        );
      }
      const refresh = refreshTokens.get(input.token);
      if (refresh) refresh.revoked = true;
    },

    /** What an uninstall does: every token of the app for this portal dies at once. */
    uninstall(): { accessTokens: number; refreshTokens: number } {
      let access = 0;
      let refresh = 0;
      for (const token of accessTokens.values()) {
        if (stateOf(token) !== 'live') continue;
        token.revoked = true;
        access++;
      }
      for (const token of refreshTokens.values()) {
        if (token.revoked) continue;
        token.revoked = true;
        refresh++;
      }
      codes.clear();
      return { accessTokens: access, refreshTokens: refresh };
    },

    /** A private app's token deleted or rotated in HubSpot's settings: it answers 401 from then on. */
    revokePrivateApp(token: string): void {
      if (!revokedPrivateApps.has(token)) revokedPrivateApps.set(token, clock.now());
    },

    isPrivateAppRevoked(token: string): boolean {
      return revokedPrivateApps.has(token);
    },

    /** Every token issued, for `/__sim/oauth/tokens`. */
    list() {
      const now = clock.now();
      return {
        accessTokens: [...accessTokens.values()].map((token) => ({
          token: token.token,
          refreshToken: token.refreshToken,
          scopes: token.scopes,
          issuedAt: new Date(token.issuedAt).toISOString(),
          expiresAt: new Date(token.expiresAt).toISOString(),
          live: !token.revoked && token.expiresAt > now,
          revoked: token.revoked,
        })),
        refreshTokens: [...refreshTokens.values()].map((token) => ({
          token: token.token,
          scopes: token.scopes,
          issuedAt: new Date(token.issuedAt).toISOString(),
          live: !token.revoked,
          revoked: token.revoked,
        })),
        // Only the revoked ones: any other `pat-…` token is accepted, so there is no list of live ones.
        privateAppTokens: [...revokedPrivateApps].map(([token, revokedAt]) => ({
          token,
          live: false,
          revoked: true,
          revokedAt: new Date(revokedAt).toISOString(),
        })),
      };
    },

    setTokenTtl(seconds: number): void {
      ttlSeconds = seconds;
    },

    options,
  };
}

export type OAuthStore = ReturnType<typeof createOAuthStore>;
