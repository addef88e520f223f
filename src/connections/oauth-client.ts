/** A token set as HubSpot's token endpoint answers it, normalised. */
export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  expiresAt: Date;
  portalId: number | null;
  scopes: string[];
}

/** An RFC 6749 error from the token endpoint: `invalid_grant` / `BAD_REFRESH_TOKEN` means reconnect. */
export class OAuthGrantError extends Error {
  override name = 'OAuthGrantError';
  readonly error: string;
  readonly status: string | null;
  readonly httpStatus: number;

  constructor(init: { error: string; status: string | null; message: string; httpStatus: number }) {
    super(init.message);
    this.error = init.error;
    this.status = init.status;
    this.httpStatus = init.httpStatus;
  }

  /** The grant is dead (revoked, expired, the app uninstalled): only a new install brings it back. */
  get revoked(): boolean {
    return this.error === 'invalid_grant' || this.status === 'BAD_REFRESH_TOKEN';
  }
}

export interface OAuthClientOptions {
  apiBase: string;
  clientId: string;
  clientSecret: string;
  timeoutMs?: number;
  now?: () => number;
}

interface TokenAnswer {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  hub_id?: number;
  scopes?: string[];
  scope?: string;
}

/**
 * HubSpot's OAuth token endpoint, v3, called directly: SDK 14 still calls v1, which HubSpot retires on
 * 2027-02-16 (https://developers.hubspot.com/changelog). Form bodies, RFC 6749 errors.
 */
export function createOAuthClient(options: OAuthClientOptions) {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const now = options.now ?? Date.now;

  async function token(form: Record<string, string>): Promise<TokenSet> {
    const requestedAt = now();
    const response = await fetch(`${options.apiBase}/oauth/v3/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({
        ...form,
        client_id: options.clientId,
        client_secret: options.clientSecret,
      }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    let body:
      | (TokenAnswer & { error?: string; status?: string; message?: string; error_description?: string })
      | undefined;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!response.ok || !body?.access_token) {
      throw new OAuthGrantError({
        error: body?.error ?? (response.ok ? 'invalid_response' : `http_${response.status}`),
        status: body?.status ?? null,
        message: `HubSpot's token endpoint answered ${response.status}: ${
          body?.message ?? body?.error_description ?? body?.error ?? text.slice(0, 200)
        }`,
        httpStatus: response.status,
      });
    }
    return {
      accessToken: body.access_token,
      refreshToken: body.refresh_token ?? form.refresh_token ?? '',
      // Measured from when we asked, so network time never makes a token look fresher than it is.
      expiresAt: new Date(requestedAt + (body.expires_in ?? 1800) * 1000),
      portalId: body.hub_id ?? null,
      scopes: body.scopes ?? body.scope?.split(/\s+/).filter(Boolean) ?? [],
    };
  }

  return {
    exchangeCode: (code: string, redirectUri: string) =>
      token({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }),
    refresh: (refreshToken: string) => token({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  };
}

export type OAuthClient = ReturnType<typeof createOAuthClient>;
