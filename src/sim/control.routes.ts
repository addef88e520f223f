import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { createActivity } from './activity.ts';
import type { Associations } from './associations.ts';
import type { ContactRecord } from './contact.ts';
import { validationError } from './errors.ts';
import { type Faults, FaultsPatch } from './faults.ts';
import type { Importer } from './import.ts';
import { isoFromMs } from './iso.ts';
import type { OAuthStore } from './oauth.ts';
import type { Portal } from './portal.ts';
import { parseRateLimit, type RateLimiter, type RateLimitSpec } from './rate-limit.ts';
import type { Deliverer } from './webhooks/deliverer.ts';

export interface ControlDeps {
  portal: Portal;
  faults: Faults;
  limiter: RateLimiter;
  deliverer: Deliverer;
  oauth: OAuthStore;
  activity: ReturnType<typeof createActivity>;
  importer: Importer;
  associations: Associations;
  /** Whether HubSpot's 90-day purge removed the contact (see purge.ts). */
  isPurged?: (id: number) => boolean;
}

const ActivityRequest = z.object({
  changes: z.number().int().min(0).max(1_000_000),
  perSecond: z.number().min(0).optional(),
  /** Share of changes that are engagement (email opens, page views…): no webhook, lastmodifieddate moves. */
  engagementShare: z.number().min(0).max(1).optional(),
});

const ImportRequest = z.object({
  count: z.number().int().min(1).max(1_000_000),
  perSecond: z.number().positive().optional(),
});

const DrainRequest = z.object({ timeoutMs: z.number().int().min(0).optional() }).default({});

const TargetRequest = z.object({ url: z.url().nullable() });

const PrivateAppRevokeRequest = z.object({
  token: z.string().regex(/^pat-\S+$/, { message: 'a private-app token starts with pat-' }),
});

const describeLimit = (spec: RateLimitSpec | null) => (spec ? `${spec.max}/${spec.intervalMs}ms` : 'off');

/** undefined: not given, leave the limit alone. */
function limitFrom(text: string | undefined): RateLimitSpec | null | undefined {
  if (text === undefined) return undefined;
  try {
    return parseRateLimit(text);
  } catch (error) {
    throw validationError((error as Error).message);
  }
}

function parse<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input ?? undefined);
  if (!result.success) throw validationError(z.prettifyError(result.error));
  return result.data;
}

function truthOf(contact: ContactRecord, purged: boolean) {
  return {
    id: String(contact.id),
    properties: contact.properties,
    archived: contact.archived,
    mergedInto: contact.mergedInto === null ? null : String(contact.mergedInto),
    createdAt: isoFromMs(contact.createdAt),
    updatedAt: isoFromMs(contact.updatedAt),
    ...(purged ? { purged: true } : {}),
  };
}

/** Streams the JSON array in chunks: a million contacts never sit in memory as one string. */
function* truthChunks(portal: Portal, isPurged: (id: number) => boolean): Generator<string> {
  const CHUNK = 500;
  let parts: string[] = [];
  let first = true;
  yield '[';
  for (const contact of portal.scan()) {
    parts.push((first ? '' : ',') + JSON.stringify(truthOf(contact, isPurged(contact.id))));
    first = false;
    if (parts.length === CHUNK) {
      yield parts.join('');
      parts = [];
    }
  }
  yield `${parts.join('')}]`;
}

/** The simulator's own control API (CONTRACT.md, "The HubSpot simulator"). */
export function controlRoutes(app: FastifyInstance, deps: ControlDeps): void {
  const { portal, faults, limiter, deliverer } = deps;

  app.get('/__sim/contacts', async (_request, reply) => {
    reply.type('application/json');
    return reply.send(Readable.from(truthChunks(portal, deps.isPurged ?? (() => false))));
  });

  const currentFaults = () => ({
    ...faults,
    rateLimit: describeLimit(limiter.apiLimit),
    oauthRateLimit: describeLimit(limiter.oauthLimit),
    searchLagMs: portal.searchLagMs,
  });

  app.get('/__sim/faults', async () => currentFaults());

  // Not in CONTRACT.md: the truth about companies and contact ↔ company associations, for tests.
  app.get('/__sim/companies', async () =>
    deps.associations.companies().map((company) => ({ ...company, id: String(company.id) })),
  );

  app.get('/__sim/associations', async () =>
    deps.associations.all().map(({ contactId, companyId, types }) => ({
      contactId: String(contactId),
      toObjectType: 'company',
      toObjectId: String(companyId),
      types,
    })),
  );

  app.post('/__sim/faults', async (request) => {
    const patch = parse(FaultsPatch, request.body);
    // Both parsed before either is set, so a bad one changes nothing.
    const privateLimit = limitFrom(patch.rateLimit);
    const oauthLimit = limitFrom(patch.oauthRateLimit);
    if (privateLimit !== undefined) limiter.setApiLimit(privateLimit);
    if (oauthLimit !== undefined) limiter.setOAuthLimit(oauthLimit);
    if (patch.searchLagMs !== undefined) portal.setSearchLag(patch.searchLagMs);
    const numbers = [
      'latencyMs',
      'errorRate',
      'dropRate',
      'duplicateRate',
      'reorderWindowMs',
      'foreignPortalRate',
    ] as const;
    for (const key of numbers) {
      const value = patch[key];
      if (value !== undefined) faults[key] = value;
    }
    if (patch.gateway) Object.assign(faults.gateway, patch.gateway);
    return currentFaults();
  });

  app.post('/__sim/activity', async (request) => {
    const input = parse(ActivityRequest, request.body);
    return deps.activity.run(input);
  });

  app.post('/__sim/import', async (request) => {
    const input = parse(ImportRequest, request.body);
    return deps.importer.run(input);
  });

  app.post('/__sim/webhooks/drain', async (request) => {
    const input = parse(DrainRequest, request.body);
    return deliverer.drain(input.timeoutMs);
  });

  app.get('/__sim/webhooks', async () => ({ url: deliverer.url, ...deliverer.stats() }));

  // Not in CONTRACT.md: lets a test point webhooks at a receiver that started after the simulator.
  app.post('/__sim/webhooks/target', async (request) => {
    const input = parse(TargetRequest, request.body);
    deliverer.setUrl(input.url);
    return { url: deliverer.url };
  });

  app.get('/__sim/oauth/tokens', async () => deps.oauth.list());

  // Not in CONTRACT.md: what a portal admin does in HubSpot's settings.
  // Uninstalling the app: every access and refresh token it holds for the portal dies at once.
  app.post('/__sim/oauth/uninstall', async () => deps.oauth.uninstall());

  // Deleting (or rotating away) a private app's token: it answers 401 on every CRM call from then on.
  app.post('/__sim/private-apps/revoke', async (request) => {
    const { token } = parse(PrivateAppRevokeRequest, request.body);
    deps.oauth.revokePrivateApp(token);
    return { token, live: false };
  });
}
