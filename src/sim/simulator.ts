import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createActivity } from './activity.ts';
import { associationsRoutes } from './associations.routes.ts';
import { createAssociations } from './associations.ts';
import { type Access, type AuthenticatedCaller, createAuthenticator } from './auth.ts';
import type { PortalChange } from './changes.ts';
import { type Clock, systemClock } from './clock.ts';
import { contactsRoutes } from './contacts.routes.ts';
import { controlRoutes } from './control.routes.ts';
import { HubSpotError, injectedFailure, routeNotFound } from './errors.ts';
import { createFaults } from './faults.ts';
import { GatewayPatch, gatewayFaults } from './gateway-faults.ts';
import { createImporter } from './import.ts';
import { journalRoutes } from './journal.routes.ts';
import { createJournal } from './journal.ts';
import { oauthRoutes } from './oauth.routes.ts';
import { createOAuthStore, OAuthError } from './oauth.ts';
import { createPortal } from './portal.ts';
import { propertiesControlRoutes, propertiesRoutes } from './properties.routes.ts';
import { createPropertyCatalog } from './property-catalog.ts';
import { purgeRoutes } from './purge.routes.ts';
import { createPurger } from './purge.ts';
import { createRandom, hashSeed, mix } from './random.ts';
import { createRateLimiter, parseRateLimit } from './rate-limit.ts';
import { REALISTIC_SEARCH_LAG_MS } from './realistic.ts';
import { createSeedPlan } from './seed.ts';
import { refuseLongUrls } from './url-limit.ts';
import { createDeliverer } from './webhooks/deliverer.ts';
import { createEventFactory } from './webhooks/events.ts';
import { createForeignPortalEvents } from './webhooks/foreign-portals.ts';
import { createRetrySchedule, timeScaleForFirstRetry } from './webhooks/retry-schedule.ts';

const rateLimitText = z.string().refine(
  (text) => {
    try {
      parseRateLimit(text);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must look like 190/10s or off' },
);

export const SimulatorOptions = z.object({
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65_535).default(0),
  host: z.string().default('127.0.0.1'),
  contacts: z.number().int().min(0).max(10_000_000).default(1000),
  seed: z.union([z.string(), z.number()]).default(1),
  portalId: z.number().int().positive().default(62515),
  appId: z.number().int().positive().default(54321),
  clientId: z.string().min(1).default('sim-client-id'),
  clientSecret: z.string().min(1).default('sim-client-secret'),
  webhookUrl: z.url().nullable().default(null),
  /**
   * The URL webhook signatures name, when a proxy stands between: HubSpot signs the target URL it was given,
   * which the proxy forwards to `webhookUrl`. null: webhookUrl itself.
   */
  signedUrl: z.url().nullable().default(null),
  signature: z.enum(['both', 'v3', 'v2', 'v1']).default('both'),
  /**
   * Per private app, rolling (HubSpot: 190/10s on Pro and Enterprise, 100/10s below); `off` disables every API
   * limit (ten-secondly for both kinds of app, search, daily) unless `oauthRateLimit` is given.
   */
  rateLimit: rateLimitText.default('190/10s'),
  /** Per OAuth app and portal, rolling (HubSpot: 110/10s); unset: 110/10s, or off when `rateLimit` is off. */
  oauthRateLimit: rateLimitText.optional(),
  searchRateLimit: rateLimitText.default('5/1s'),
  /** Requests a day per private app (HubSpot: 250,000 to 1,000,000); null: no daily cap. */
  dailyLimit: z.number().int().positive().nullable().default(500_000),
  /** Events per webhook request; HubSpot sends up to 100. */
  batch: z.number().int().min(1).max(100).default(100),
  tokenTtl: z.number().int().positive().default(1800),
  /** Scales HubSpot's ~24-hour retry schedule so that the first retry comes after this; wins over retryTimeScale. */
  retryBaseMs: z.number().int().min(1).optional(),
  /** Multiplies HubSpot's ~24-hour retry schedule (0.001: about 86 s); unset: the real schedule. */
  retryTimeScale: z.number().positive().max(1000).optional(),
  webhookTimeoutMs: z.number().int().positive().default(5000),
  maxInFlight: z.number().int().positive().default(10),
  maxAttempts: z.number().int().min(1).default(10),
  /** How long a write stays invisible to search (HubSpot: "a few moments"; 0 turns the lag off). */
  searchLagMs: z.number().int().min(0).default(REALISTIC_SEARCH_LAG_MS),
  /** Gateway failures in front of the API (see gateway-faults.ts); off unless given, or set later by /__sim/faults. */
  gateway: GatewayPatch.optional(),
  mergeNewIdRate: z.number().min(0).max(1).default(0.25),
  /** The "now" of the seeded history (epoch ms); fixed by default so a seed always yields the same portal. */
  anchorMs: z.number().int().optional(),
  logErrors: z.boolean().default(true),
});

export type SimulatorOptions = z.input<typeof SimulatorOptions> & { clock?: Clock };
export type ResolvedSimulatorOptions = z.output<typeof SimulatorOptions>;

type Guard = (request: FastifyRequest, access: Access, kind?: 'search') => Promise<AuthenticatedCaller>;

/** Builds the Fastify app with every route; never listens. */
function buildApp(): FastifyInstance {
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    bodyLimit: 10 * 1024 * 1024,
    // Node refuses request lines over 16 KB with its own 431; HubSpot's 414 starts just above that.
    http: { maxHeaderSize: 64 * 1024 },
  });
  refuseLongUrls(app);
  // Tolerates an empty JSON body (control calls without one); HubSpot answers those with a 400 only where a
  // body is required, which the routes check.
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(
        new HubSpotError(400, 'VALIDATION_ERROR', 'Invalid input JSON on line 1: could not parse the body'),
      );
    }
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string' },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );
  return app;
}

export async function createSimulator(input: SimulatorOptions = {}) {
  const { clock = systemClock, ...rest } = input;
  const options = SimulatorOptions.parse(rest);
  const seed = hashSeed(options.seed);
  const randomFor = (purpose: number) => createRandom(mix(seed, purpose));

  const plan = createSeedPlan({ seed: options.seed, count: options.contacts, anchorMs: options.anchorMs });
  const portal = createPortal({
    plan,
    clock,
    random: randomFor(1),
    mergeNewIdRate: options.mergeNewIdRate,
    searchLagMs: options.searchLagMs,
  });
  const faults = createFaults();
  if (options.gateway) Object.assign(faults.gateway, options.gateway);
  const faultRandom = randomFor(2);
  const apiLimit = parseRateLimit(options.rateLimit);
  const limiter = createRateLimiter({
    clock,
    api: apiLimit,
    oauth: parseRateLimit(options.oauthRateLimit ?? (apiLimit ? '110/10s' : 'off')),
    search: apiLimit ? parseRateLimit(options.searchRateLimit) : null,
    daily: options.dailyLimit,
  });
  const oauth = createOAuthStore({
    clock,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    portalId: options.portalId,
    appId: options.appId,
    userId: 1_000_001,
    tokenTtlSeconds: options.tokenTtl,
  });
  const authenticate = createAuthenticator({ oauth, clock, appId: options.appId });
  const deliverer = createDeliverer({
    url: options.webhookUrl,
    signedUrl: options.signedUrl,
    clientSecret: options.clientSecret,
    signature: options.signature,
    batchSize: options.batch,
    maxInFlight: options.maxInFlight,
    timeoutMs: options.webhookTimeoutMs,
    retry: createRetrySchedule({
      maxAttempts: options.maxAttempts,
      timeScale:
        options.retryBaseMs === undefined
          ? (options.retryTimeScale ?? 1)
          : timeScaleForFirstRetry(options.retryBaseMs, options.maxAttempts),
      random: randomFor(6),
    }),
    random: randomFor(3),
    faults: () => faults,
    foreignEvent: createForeignPortalEvents({ portalId: options.portalId, random: randomFor(7) }),
  });
  const toEvents = createEventFactory({
    portalId: options.portalId,
    appId: options.appId,
    random: randomFor(4),
  });
  const journal = createJournal({ clock });
  // Journaled before delivery, so events that webhook faults drop are still in the journal.
  const publish = (change: PortalChange) => {
    const events = toEvents(change);
    journal.record(options.portalId, events);
    deliverer.enqueue(events);
  };
  portal.onChange(publish);
  const associations = createAssociations({ portal, clock });
  associations.onChange(publish);
  const activity = createActivity({ portal, associations, random: randomFor(5), clock });
  const importer = createImporter({ portal, random: randomFor(21) });
  const properties = createPropertyCatalog({ seed, clock });
  const purger = createPurger({ portal, clock });
  purger.start();

  const rateHeaders = new WeakMap<FastifyRequest, Record<string, string>>();
  const guard: Guard = async (request, access, kind) => {
    const caller = authenticate(request.headers.authorization, access);
    if (kind === 'search') limiter.checkSearch(caller);
    else rateHeaders.set(request, limiter.checkApi(caller));
    if (faults.latencyMs > 0) await sleep(faults.latencyMs);
    if (faults.errorRate > 0 && faultRandom.chance(faults.errorRate)) {
      throw injectedFailure(faultRandom.pick([500, 502, 503, 504]));
    }
    return caller;
  };

  const app = buildApp();
  gatewayFaults(app, { settings: () => faults.gateway, random: randomFor(8) });
  app.addHook('onSend', async (request, reply: FastifyReply, payload) => {
    const headers = rateHeaders.get(request);
    if (headers) reply.headers(headers);
    return payload;
  });
  app.setErrorHandler((error, request, reply) => {
    if (error instanceof OAuthError) return reply.code(error.statusCode).send(error.toBody());
    if (error instanceof HubSpotError) {
      return reply.code(error.statusCode).headers(error.headers).send(error.toBody());
    }
    const status = (error as { statusCode?: number }).statusCode ?? 500;
    if (status >= 400 && status < 500) {
      return reply
        .code(status)
        .send(new HubSpotError(status, 'VALIDATION_ERROR', (error as Error).message).toBody());
    }
    if (options.logErrors) console.error(`hubspot-sim: ${request.method} ${request.url} failed`, error);
    return reply.code(500).send(new HubSpotError(500, 'INTERNAL_ERROR', 'internal error').toBody());
  });
  app.setNotFoundHandler((request, reply) => {
    const error = routeNotFound(request.method, request.url);
    reply.code(404).send(error.toBody());
  });

  contactsRoutes(app, { portal, catalog: properties, appId: options.appId, guard });
  associationsRoutes(app, { associations, appId: options.appId, guard });
  propertiesRoutes(app, { catalog: properties, guard });
  propertiesControlRoutes(app, { catalog: properties });
  oauthRoutes(app, { oauth });
  journalRoutes(app, { journal, oauth, clock, portalId: options.portalId });
  controlRoutes(app, {
    portal,
    faults,
    limiter,
    deliverer,
    oauth,
    activity,
    associations,
    importer,
    isPurged: purger.isPurged,
  });
  purgeRoutes(app, { purger, clock });

  await app.listen({ port: options.port, host: options.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const url = `http://${options.host}:${port}`;

  let stopping: Promise<void> | null = null;
  return {
    /** Base URL, no trailing slash: pass it as the SDK's `basePath`. */
    url,
    port,
    options,
    portal,
    associations,
    oauth,
    faults,
    limiter,
    deliverer,
    journal,
    drainWebhooks: (timeoutMs?: number) => deliverer.drain(timeoutMs),
    setWebhookUrl: (next: string | null) => deliverer.setUrl(next),
    runActivity: (changes: number, perSecond?: number) => activity.run({ changes, perSecond }),
    properties,
    purger,
    async stop(): Promise<void> {
      stopping ??= (async () => {
        purger.stop();
        deliverer.stop();
        await app.close();
      })();
      return stopping;
    },
  };
}

export type Simulator = Awaited<ReturnType<typeof createSimulator>>;
