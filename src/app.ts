import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import websocket from '@fastify/websocket';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { createAuditRepository } from './audit/audit.repository.ts';
import { auditRoutes } from './audit/audit.routes.ts';
import { type Clock, systemClock } from './clock.ts';
import { type Config, DEFAULT_CONTACT_PROPERTIES } from './config.ts';
import type { Connection } from './connections/connection.ts';
import { createConnectionsRepository } from './connections/connections.repository.ts';
import { connectionsRoutes } from './connections/connections.routes.ts';
import { connectionFromConfig } from './connections/from-config.ts';
import { createContactsRepository } from './contacts/contacts.repository.ts';
import { contactsRoutes } from './contacts/contacts.routes.ts';
import { dashboardRoutes } from './dashboard/dashboard.routes.ts';
import type { Database } from './db/client.ts';
import { createErrorsRepository } from './errors/errors.repository.ts';
import { errorsRoutes } from './errors/errors.routes.ts';
import { healthRoutes } from './health/health.routes.ts';
import { createAuthGuards } from './http/auth.ts';
import { handleFrameworkError, shapeClientErrors } from './http/client-errors.ts';
import { handleError } from './http/error-handler.ts';
import { rateLimits } from './http/rate-limits.ts';
import { docsPolicy, securityHeaders } from './http/security-headers.ts';
import type { HubSpotClient } from './hubspot/client.ts';
import { createKeysRepository } from './keys/keys.repository.ts';
import { keysRoutes } from './keys/keys.routes.ts';
import type { Logger } from './logger.ts';
import { createRealtime, type Realtime, type RealtimeOptions } from './realtime/realtime.ts';
import { wsRoutes } from './realtime/ws.routes.ts';
import { createApplyRepository } from './sync/apply/apply.repository.ts';
import { createPropertySet, type PropertySet } from './sync/schema/property-set.ts';
import { createSessionsRepository } from './sync/sessions/sessions.repository.ts';
import { createSweepRepository } from './sync/sweep/sweep.repository.ts';
import { createSweeper, type Sweeper } from './sync/sweep/sweeper.ts';
import { syncRoutes } from './sync/sync.routes.ts';
import type { DeliveryGate } from './webhooks/delivery-gate.ts';
import { createInboxRepository } from './webhooks/inbox.repository.ts';
import { webhookRoutes } from './webhooks/webhooks.routes.ts';

export interface AppDeps {
  config: Config;
  logger: Logger;
  database: Database;
  /** The admin token in force: from ADMIN_TOKEN, or the one generated at start-up. */
  adminToken: string;
  clock?: Clock;
  migrationsFolder?: string;
  /** Called after a webhook delivery added events to the inbox (wakes the local apply loops). */
  onWebhookAccepted?: () => void;
  /** Counts webhook deliveries in flight, for the apply workers to give way to. */
  deliveryGate?: DeliveryGate;
  /** Starts reconciliation sweeps; without one (no HubSpot connection) sweep requests answer 503. */
  sweeper?: Sweeper;
  /** The mirrored contact properties (the workers keep them in step with HubSpot); the configured list when absent. */
  properties?: PropertySet;
  /** The HubSpot client, when a connection is configured (its budget is reported in the sync status). */
  hubspot?: HubSpotClient | undefined;
  /** The HubSpot connection (server.ts shares it with the workers); built from the config when absent. */
  connection?: Connection;
  /** Tuning of the outbox relay and the WebSocket clients (tests shorten heartbeats and buffers). */
  realtime?: Omit<RealtimeOptions, 'database' | 'logger'>;
}

// HubSpot never sends a batch anywhere near this; the API's own bodies are tiny.
const BODY_LIMIT_BYTES = 1024 * 1024;
const REQUEST_ID = /^[\w.:-]{1,128}$/;
// WebSocket clients only ever send a subscription; anything larger is not one.
const MAX_CLIENT_MESSAGE_BYTES = 4 * 1024;

declare module 'fastify' {
  interface FastifyInstance {
    realtime: Realtime;
  }
}

/** The whole HTTP application, wired from its dependencies. It never listens: server.ts does. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const { config, database } = deps;
  const clock = deps.clock ?? systemClock;
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT_BYTES,
    trustProxy: config.TRUST_PROXY,
    requestIdHeader: false,
    // Keep a caller's request id when it looks like one, so logs can be followed across services.
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true },
    // Fastify's own refusals (an over-long path parameter, bad percent-encoding) in the API's error shape.
    frameworkErrors: handleFrameworkError,
    // Up to 1 MiB is buffered before a webhook's signature can be checked: a sender that stalls mid-upload
    // must not hold it for ever. 10 s for the whole request (HubSpot gives up on our answer after 5 s anyway),
    // 5 s for the headers; Node enforces both on a sweep every `connectionsCheckingInterval`.
    requestTimeout: 10_000,
    http: { headersTimeout: 5_000, connectionsCheckingInterval: 1_000 },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(handleError);
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send({
      error: { code: 'not_found', message: `no route ${request.method} ${request.url.split('?')[0]}` },
    }),
  );
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  // Node answers 431 (an over-long URL or headers) and 408 before Fastify sees the request: in our shape too.
  shapeClientErrors(app.server, app.log);
  // A body the route does not take is 415 (README, Bad input): Fastify's built-in text/plain parser would
  // otherwise hand the JSON schema a string and answer 400.
  app.removeContentTypeParser('text/plain');
  // Before any route, so that every route gets the headers and the limits.
  await app.register(securityHeaders);
  await app.register(rateLimits);

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'hubspot-sync',
        description: 'A real-time PostgreSQL mirror of HubSpot contacts',
        version: '0.1.0',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    // swagger-ui's own policy (it allows its scripts), adjusted: see docsPolicy.
    staticCSP: true,
    transformStaticCSP: docsPolicy,
  });

  const realtime = createRealtime({ database, logger: deps.logger, ...deps.realtime });
  app.decorate('realtime', realtime);
  // Before the WebSocket plugin's own hook: dashboards are told the instance is going away (1001) and
  // reconnect, to another instance if need be.
  app.addHook('preClose', async () => realtime.hub.close());
  await app.register(websocket, { options: { maxPayload: MAX_CLIENT_MESSAGE_BYTES } });
  app.addHook('onReady', () => realtime.start());
  app.addHook('onClose', () => realtime.stop());

  const keys = createKeysRepository({ db: database.db });
  const guards = createAuthGuards({ adminToken: deps.adminToken, readToken: config.READ_TOKEN, keys, clock });
  const audit = createAuditRepository({ db: database.db });
  const errors = createErrorsRepository({ db: database.db });
  const contacts = createContactsRepository({ db: database.db });

  const connection = deps.connection ?? connectionFromConfig(config, database, deps.logger);
  await app.register(healthRoutes({ database, migrationsFolder: deps.migrationsFolder }));
  await app.register(
    connectionsRoutes({
      config,
      database,
      connection,
      connections: createConnectionsRepository(),
      audit,
      guards,
    }),
  );
  await app.register(auditRoutes({ audit, guards }));
  await app.register(keysRoutes({ keys, audit, guards, clock }));
  const inbox = createInboxRepository();
  const replayParked = (errorId: string) => inbox.replay(database.db, errorId);
  await app.register(errorsRoutes({ errors, replayParked, audit, guards, clock }));
  await app.register(
    webhookRoutes({
      config,
      db: database.db,
      inbox,
      errors,
      clock,
      ...(deps.onWebhookAccepted ? { onAccepted: deps.onWebhookAccepted } : {}),
      ...(deps.deliveryGate ? { gate: deps.deliveryGate } : {}),
    }),
  );
  await app.register(contactsRoutes({ contacts, audit, guards }));
  const sessions = createSessionsRepository();
  const properties =
    deps.properties ?? createPropertySet(config.HUBSPOT_CONTACT_PROPERTIES, DEFAULT_CONTACT_PROPERTIES);
  const sweeper =
    deps.sweeper ??
    createSweeper({
      database,
      hubspot: undefined,
      apply: createApplyRepository(),
      sweeps: createSweepRepository(),
      sessions,
      errors,
      logger: deps.logger,
      properties: properties.names,
    });
  await app.register(
    syncRoutes({
      config,
      database,
      sweeper,
      sessions,
      inbox,
      audit,
      guards,
      hubspot: deps.hubspot,
      connection,
      properties,
    }),
  );
  await app.register(wsRoutes({ hub: realtime.hub, guards }));
  await app.register(dashboardRoutes());
  return app;
}
