import type { FastifyInstance } from 'fastify';
import { HubSpotError } from './errors.ts';
import { OAuthError, type OAuthStore } from './oauth.ts';

type Form = Record<string, string | undefined>;

function scopesFrom(...lists: unknown[]): string[] {
  return lists
    .flatMap((list) => (typeof list === 'string' ? list.split(/[\s+,]+/) : []))
    .filter((scope) => scope !== '');
}

/**
 * OAuth at HubSpot's paths (https://developers.hubspot.com/docs/api/oauth-quickstart-guide). The SDK calls v1;
 * v3 (`/oauth/v3/token`) is what HubSpot asks new code to use. Both take form bodies.
 */
export function oauthRoutes(app: FastifyInstance, deps: { oauth: OAuthStore }): void {
  const { oauth } = deps;

  // Consent without a person: straight back to the app with a code.
  app.get('/oauth/authorize', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    const redirectUri = typeof query.redirect_uri === 'string' ? query.redirect_uri : undefined;
    const code = oauth.authorize({
      clientId: typeof query.client_id === 'string' ? query.client_id : undefined,
      redirectUri,
      scopes: scopesFrom(query.scope, query.optional_scope),
    });
    let target: URL;
    try {
      target = new URL(redirectUri as string);
    } catch {
      throw new OAuthError(
        'invalid_request',
        'BAD_REDIRECT_URI',
        `redirect_uri is not a URL: ${redirectUri}`,
      );
    }
    target.searchParams.set('code', code);
    if (typeof query.state === 'string') target.searchParams.set('state', query.state);
    return reply.redirect(target.toString(), 302);
  });

  const token = async (request: { body: unknown }) => {
    const form = (request.body ?? {}) as Form;
    switch (form.grant_type) {
      case 'authorization_code':
        return oauth.exchangeCode({
          clientId: form.client_id,
          clientSecret: form.client_secret,
          redirectUri: form.redirect_uri,
          code: form.code,
        });
      case 'refresh_token':
        return oauth.refresh({
          clientId: form.client_id,
          clientSecret: form.client_secret,
          refreshToken: form.refresh_token,
        });
      case 'client_credentials':
        return oauth.clientCredentials({
          clientId: form.client_id,
          clientSecret: form.client_secret,
          scope: form.scope,
        });
      case undefined:
        throw new OAuthError('invalid_request', 'BAD_GRANT_TYPE', 'missing grant_type');
      default:
        throw new OAuthError(
          'unsupported_grant_type',
          'BAD_GRANT_TYPE',
          `unsupported grant_type ${form.grant_type}`,
        );
    }
  };
  app.post('/oauth/v1/token', token);
  app.post('/oauth/v3/token', token);

  // RFC 7662 / RFC 7009 with the client's credentials in the form body, as oauth-v3.json gives them.
  app.post('/oauth/v3/token/introspect', async (request) => {
    const form = (request.body ?? {}) as Form;
    return oauth.introspect({
      clientId: form.client_id,
      clientSecret: form.client_secret,
      token: form.token,
      hint: form.token_type_hint,
    });
  });

  app.post('/oauth/v3/token/revoke', async (request, reply) => {
    const form = (request.body ?? {}) as Form;
    oauth.revoke({ clientId: form.client_id, clientSecret: form.client_secret, token: form.token });
    // RFC 7009 section 2.2: 200, no content to speak of (the spec lists only the error answer).
    return reply.code(200).send();
  });

  app.get<{ Params: { token: string } }>('/oauth/v1/access-tokens/:token', async (request) => {
    const issued = oauth.accessToken(request.params.token);
    // Expired, or killed by an uninstall.
    if (!issued || !oauth.isLive(issued)) {
      throw new HubSpotError(404, 'OBJECT_NOT_FOUND', 'access token not found or expired');
    }
    const { portalId, appId, userId } = oauth.options;
    return {
      token: issued.token,
      user: 'sim-user@example.com',
      hub_domain: `sim-portal-${portalId}.hubspot.com`,
      scopes: issued.scopes,
      hub_id: portalId,
      app_id: appId,
      expires_in: Math.max(0, Math.floor((issued.expiresAt - oauth.options.clock.now()) / 1000)),
      user_id: userId,
      token_type: 'access',
      is_private_distribution: false,
    };
  });

  app.get<{ Params: { token: string } }>('/oauth/v1/refresh-tokens/:token', async (request) => {
    const refresh = oauth.refreshToken(request.params.token);
    if (!refresh || refresh.revoked)
      throw new HubSpotError(404, 'OBJECT_NOT_FOUND', 'refresh token not found');
    const { portalId, clientId, userId } = oauth.options;
    return {
      token: refresh.token,
      user: 'sim-user@example.com',
      hub_domain: `sim-portal-${portalId}.hubspot.com`,
      scopes: refresh.scopes,
      hub_id: portalId,
      client_id: clientId,
      user_id: userId,
      token_type: 'refresh',
    };
  });

  // oauth-v1.json: 204 with no content. Only the refresh token dies; the access tokens made from it work until
  // they expire (see oauth.ts).
  app.delete<{ Params: { token: string } }>('/oauth/v1/refresh-tokens/:token', async (request, reply) => {
    if (!oauth.revokeRefreshToken(request.params.token)) {
      throw new HubSpotError(404, 'OBJECT_NOT_FOUND', 'refresh token not found');
    }
    reply.code(204).send();
  });
}
