import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { AuditRepository } from '../audit/audit.repository.ts';
import { actorOf } from '../audit/audit.routes.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { AppError, badRequest } from '../http/app-error.ts';
import type { AuthGuards } from '../http/auth.ts';
import { type Connection, oauthNotConfigured, REQUIRED_SCOPES } from './connection.ts';
import type { ConnectionsRepository } from './connections.repository.ts';

// Long enough to read a consent screen, short enough that a leaked link is soon useless.
const STATE_TTL_MS = 10 * 60_000;

const ConnectionView = z.object({
  state: z.enum(['connected', 'disconnected', 'error']),
  kind: z.enum(['private_app', 'oauth']).nullable(),
  portalId: z.number().nullable(),
  scopes: z.array(z.string()),
  expiresAt: z.string().nullable(),
  lastRefreshAt: z.string().nullable(),
  lastError: z.string().nullable(),
  installable: z.boolean().describe('whether GET /oauth/install can connect a portal (OAuth configured)'),
});

const ConnectBody = z.union([
  z.object({ code: z.string().min(1).max(2_000), redirectUri: z.url() }).strict(),
  z
    .object({
      accessToken: z.string().min(1).max(4_000).optional(),
      refreshToken: z.string().min(1).max(4_000),
      expiresAt: z.union([z.iso.datetime({ offset: true }), z.number()]).optional(),
    })
    .strict(),
]);

const invalidState = () =>
  new AppError({
    code: 'connections.invalid_state',
    status: 400,
    message: 'the OAuth state is invalid, expired or already used: start again from /oauth/install',
  });

export interface ConnectionsRoutesDeps {
  config: Pick<
    Config,
    'HUBSPOT_CLIENT_ID' | 'HUBSPOT_CLIENT_SECRET' | 'HUBSPOT_AUTHORIZE_URL' | 'WEBHOOK_PUBLIC_URL'
  >;
  database: Database;
  connection: Connection;
  connections: ConnectionsRepository;
  audit: AuditRepository;
  guards: AuthGuards;
}

/** The connection's API and the OAuth install flow (https://developers.hubspot.com/docs/api/oauth-quickstart-guide). */
export function connectionsRoutes({
  config,
  database,
  connection,
  connections,
  audit,
  guards,
}: ConnectionsRoutesDeps): FastifyPluginAsyncZod {
  const secret = config.HUBSPOT_CLIENT_SECRET;
  const sign = (nonce: string) =>
    createHmac('sha256', secret ?? '')
      .update(`oauth-state:${nonce}`)
      .digest('base64url');

  function verifiedNonce(state: string): string {
    const [nonce, signature] = state.split('.');
    if (!nonce || !signature) throw invalidState();
    const expected = Buffer.from(sign(nonce));
    const given = Buffer.from(signature);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalidState();
    return nonce;
  }

  /** Where HubSpot sends the browser back: this service's public origin, behind a proxy too. */
  function callbackUrl(request: FastifyRequest): string {
    const origin = config.WEBHOOK_PUBLIC_URL
      ? new URL(config.WEBHOOK_PUBLIC_URL).origin
      : `${request.protocol}://${request.host}`;
    return `${origin}/oauth/callback`;
  }

  return async (app) => {
    app.get(
      '/api/connections/hubspot',
      {
        onRequest: guards.requireRead,
        schema: {
          tags: ['connections'],
          summary: 'The HubSpot connection: state, kind, portal, scopes, expiry, last refresh and last error',
          security: [{ bearer: [] }],
          response: { 200: ConnectionView },
        },
      },
      async (_request, reply) => {
        reply.header('cache-control', 'no-store');
        return connection.view();
      },
    );

    app.post(
      '/api/connections/hubspot',
      {
        onRequest: guards.requireAdmin,
        schema: {
          tags: ['connections'],
          summary:
            'Connects a portal: an OAuth code with its redirect URI, or a token set (checked by a refresh)',
          security: [{ bearer: [] }],
          body: ConnectBody,
          response: { 201: ConnectionView },
        },
      },
      async (request, reply) => {
        const body = request.body;
        const row =
          'code' in body
            ? await connection.connectWithCode(body.code, body.redirectUri)
            : await connection.connectWithTokens(body.refreshToken);
        await audit.record({
          entityType: 'hubspot_connection',
          entityId: row.id,
          operation: 'create',
          newData: {
            kind: row.kind,
            portalId: row.portal_id,
            scopes: row.scopes,
            via: 'code' in body ? 'code' : 'tokens',
          },
          ...actorOf(request),
        });
        return reply.status(201).send(await connection.view());
      },
    );

    app.delete(
      '/api/connections/hubspot',
      {
        onRequest: guards.requireAdmin,
        schema: {
          tags: ['connections'],
          summary: 'Disconnects the portal and erases its tokens',
          security: [{ bearer: [] }],
          response: { 200: ConnectionView },
        },
      },
      async (request) => {
        const before = await connection.view();
        await connection.disconnect();
        await audit.record({
          entityType: 'hubspot_connection',
          entityId: before.portalId === null ? 'hubspot' : String(before.portalId),
          operation: 'delete',
          oldData: { kind: before.kind, portalId: before.portalId, state: before.state },
          ...actorOf(request),
        });
        return connection.view();
      },
    );

    app.get(
      '/oauth/install',
      {
        // Whoever installs chooses the portal that is mirrored: only an admin may start it.
        onRequest: guards.requireAdminFromQueryOrHeader,
        schema: {
          tags: ['connections'],
          summary:
            "Starts the OAuth install: redirects to HubSpot's consent screen with a signed, single-use state",
          description:
            'Needs the admin token (?token= from a browser). HubSpot returns the browser to /oauth/callback.',
          security: [{ bearer: [] }],
          querystring: z.object({ token: z.string().optional() }),
        },
      },
      async (request, reply) => {
        if (!config.HUBSPOT_CLIENT_ID || !secret) throw oauthNotConfigured();
        const nonce = randomBytes(18).toString('base64url');
        const redirectUri = callbackUrl(request);
        await connections.createState(database.db, nonce, redirectUri, STATE_TTL_MS);
        const target = new URL(config.HUBSPOT_AUTHORIZE_URL);
        target.searchParams.set('client_id', config.HUBSPOT_CLIENT_ID);
        target.searchParams.set('redirect_uri', redirectUri);
        target.searchParams.set('scope', REQUIRED_SCOPES.join(' '));
        target.searchParams.set('state', `${nonce}.${sign(nonce)}`);
        // The address this came from may carry ?token=: never pass it on to HubSpot as a referrer.
        reply.header('referrer-policy', 'no-referrer');
        return reply.redirect(target.toString(), 302);
      },
    );

    app.get(
      '/oauth/callback',
      {
        schema: {
          tags: ['connections'],
          summary:
            'Where HubSpot returns after consent: checks the state, exchanges the code, opens the dashboard',
          querystring: z.object({
            code: z.string().min(1).max(2_000).optional(),
            state: z.string().min(1).max(500),
            error: z.string().max(200).optional(),
            error_description: z.string().max(1_000).optional(),
          }),
        },
      },
      async (request, reply) => {
        const { code, state, error, error_description } = request.query;
        const nonce = verifiedNonce(state);
        const redirectUri = await connections.consumeState(database.db, nonce);
        if (!redirectUri) throw invalidState();
        if (error || !code)
          throw badRequest(
            `HubSpot did not grant access: ${error_description ?? error ?? 'no code was returned'}`,
          );
        const row = await connection.connectWithCode(code, redirectUri);
        await audit.record({
          entityType: 'hubspot_connection',
          entityId: row.id,
          operation: 'create',
          newData: { kind: row.kind, portalId: row.portal_id, scopes: row.scopes, via: 'install' },
          userId: 'oauth-install',
          ipAddress: request.ip,
          userAgent: request.headers['user-agent'] ?? null,
        });
        return reply.redirect('/?connected=hubspot', 302);
      },
    );
  };
}
