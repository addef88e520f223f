import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from './clock.ts';

/**
 * The OAuth side of the portal: codes, access tokens and refresh tokens
 * (https://developers.hubspot.com/docs/api/oauth/tokens). Refresh tokens do not rotate: a refresh answers with
 * the same refresh token and a new access token; earlier access tokens stay valid until they expire.
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
}

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

export function createOAuthStore(options: OAuthOptions) {
  const { clock } = options;
  let ttlSeconds = options.tokenTtlSeconds;
  const codes = new Map<string, AuthCode>();
  const accessTokens = new Map<string, AccessToken>();
  const refreshTokens = new Map<string, RefreshToken>();

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
      return token.expiresAt > clock.now();
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
          live: token.expiresAt > now,
        })),
        refreshTokens: [...refreshTokens.values()].map((token) => ({
          token: token.token,
          scopes: token.scopes,
          issuedAt: new Date(token.issuedAt).toISOString(),
          live: !token.revoked,
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
