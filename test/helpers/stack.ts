import { Client } from '@hubspot/api-client';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { DEFAULT_CONTACT_PROPERTIES, loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { createErrorsRepository } from '../../src/errors/errors.repository.ts';
import { createHubSpotClient } from '../../src/hubspot/client.ts';
import { createPacer } from '../../src/hubspot/pacer.ts';
import { createLogger } from '../../src/logger.ts';
import { PORTAL_USER_HEADER } from '../../src/sim/gateway-faults.ts';
import { REALISTIC_GATEWAY, REALISTIC_SEARCH_LAG_MS } from '../../src/sim/realistic.ts';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/simulator.ts';
import { createApplyRepository } from '../../src/sync/apply/apply.repository.ts';
import { createJournalClient } from '../../src/sync/journal/journal-client.ts';
import type { JournalSettings } from '../../src/sync/journal/journal-worker.ts';
import { createSessionsRepository } from '../../src/sync/sessions/sessions.repository.ts';
import { createSweepRepository } from '../../src/sync/sweep/sweep.repository.ts';
import { createSweeper } from '../../src/sync/sweep/sweeper.ts';
import { createDeliveryGate } from '../../src/webhooks/delivery-gate.ts';
import { createWorkers, type Workers } from '../../src/workers.ts';
import { createScratchDatabase } from './database.ts';

export const PRIVATE_APP_TOKEN = 'pat-na1-00000000-1111-2222-3333-444444444444';
const SECRET = 'stack-client-secret-0123456789';
const PORTAL = 777001;
export const STACK_ADMIN_TOKEN = 'stack-admin-token-0123456789';

export interface Stack {
  simulator: Simulator;
  database: Database;
  /** `postgres://…` of the stack's database, for a second instance on it; undefined on PGlite. */
  databaseUrl: string | undefined;
  /** `http://127.0.0.1:PORT` of the service. */
  address: string;
  app: FastifyInstance;
  workers: Workers;
  /** The official SDK pointed at the simulator, to make changes as a HubSpot user would. */
  hubspot: Client;
  /** Waits until every webhook owed was delivered and the mirror has applied and fetched all of it. */
  settle(): Promise<void>;
  /** Waits until HubSpot's search shows every write made so far (it lags them, as HubSpot's does). */
  searchCaughtUp(): Promise<void>;
  stop(): Promise<void>;
}

export interface StackServiceOptions {
  /** Reads the simulator's Webhooks Journal with its app's client credentials; off unless given. */
  journal?: Omit<JournalSettings, 'client' | 'portalId'>;
  /** More of the service's environment (e.g. WEBHOOK_PUBLIC_URL), over the stack's own. */
  env?: Record<string, string>;
}

/** The simulator and the service wired over real HTTP, the service on its own real PostgreSQL database. */
export async function startStack(
  options: SimulatorOptions = {},
  service: StackServiceOptions = {},
): Promise<Stack> {
  const simulator = await createSimulator({
    contacts: 0,
    rateLimit: 'off',
    retryBaseMs: 50,
    logErrors: false,
    clientSecret: SECRET,
    portalId: PORTAL,
    // HubSpot as in production: search lags, deliveries arrive shuffled, engagement moves lastmodifieddate
    // without a webhook, and the API's gateway fails in short bursts (the simulator's defaults plus these).
    searchLagMs: REALISTIC_SEARCH_LAG_MS,
    gateway: REALISTIC_GATEWAY,
    ...options,
  });
  const scratch = await createScratchDatabase();
  const database = await scratch.open();
  const config = loadConfig({
    HUBSPOT_CLIENT_SECRET: SECRET,
    HUBSPOT_PORTAL_ID: String(PORTAL),
    HUBSPOT_API_BASE: simulator.url,
    HUBSPOT_ACCESS_TOKEN: PRIVATE_APP_TOKEN,
    LOG_LEVEL: 'silent',
    ...service.env,
  });
  const logger = createLogger({ level: 'silent' });
  const hubspotClient = createHubSpotClient({
    basePath: simulator.url,
    accessToken: async () => PRIVATE_APP_TOKEN,
    logger,
    // A gateway hang costs a test this long before the call is retried.
    timeoutMs: 3_000,
    // Search sends no rate-limit headers; the simulator's search limit is off unless a test sets one.
    searchPacer: createPacer({ logger, concurrency: 1, assumedMax: 50, assumedIntervalMs: 1000 }),
  });
  const deliveryGate = createDeliveryGate();
  const workers = createWorkers({
    config,
    database,
    logger,
    hubspot: hubspotClient,
    deliveryGate,
    schedule: false,
    journal: service.journal && {
      ...service.journal,
      client: createJournalClient({
        apiBase: simulator.url,
        clientId: simulator.options.clientId,
        clientSecret: SECRET,
        portalId: PORTAL,
      }),
      portalId: PORTAL,
    },
  });
  const app = await buildApp({
    config,
    logger,
    database,
    adminToken: STACK_ADMIN_TOKEN,
    onWebhookAccepted: workers.onWebhookAccepted,
    deliveryGate,
    sweeper: workers.sweeper,
    properties: workers.properties,
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  simulator.setWebhookUrl(`${address}/webhooks/hubspot`);
  await workers.start();

  async function busy(): Promise<boolean> {
    const [row] = await database.rows<{ busy: boolean }>(sql`select
      exists (select 1 from webhook_inbox where status = 'pending')
      or exists (select 1 from contacts where sync_status = 'pending' and not archived) as busy`);
    return row?.busy ?? false;
  }

  return {
    simulator,
    database,
    databaseUrl: scratch.url,
    address,
    app,
    workers,
    hubspot: new Client({
      accessToken: PRIVATE_APP_TOKEN,
      basePath: simulator.url,
      defaultHeaders: { [PORTAL_USER_HEADER]: 'stack' },
    }),
    searchCaughtUp: () => new Promise((resolve) => setTimeout(resolve, simulator.portal.searchLagMs + 50)),
    async settle() {
      await simulator.drainWebhooks();
      for (let i = 0; i < 200; i++) {
        await workers.settled();
        if (!(await busy())) return;
        workers.wakeApply();
        workers.fetch?.wake();
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      throw new Error('the mirror did not settle within 10 s');
    },
    async stop() {
      await app.close();
      await workers.stop();
      await simulator.stop();
      await database.close();
      await scratch.drop();
    },
  };
}

export interface TruthContact {
  id: string;
  properties: Record<string, string | null>;
  archived: boolean;
  mergedInto: string | null;
}

export async function simulatorTruth(simulator: Simulator): Promise<TruthContact[]> {
  return (await (await fetch(`${simulator.url}/__sim/contacts`)).json()) as TruthContact[];
}

/** The properties the service mirrors by default (HUBSPOT_CONTACT_PROPERTIES unset), HubSpot's own dates aside. */
export const COMPARED_PROPERTIES = DEFAULT_CONTACT_PROPERTIES.filter(
  (name) => !['createdate', 'lastmodifieddate', 'hs_merged_object_ids'].includes(name),
);

/** Every difference between HubSpot's truth and the mirror, as readable lines (empty: they agree). */
export async function mirrorDifferences(stack: Pick<Stack, 'simulator' | 'database'>): Promise<string[]> {
  const truth = await simulatorTruth(stack.simulator);
  const rows = await stack.database.rows<{
    hubspot_id: string;
    data: Record<string, string | null>;
    archived: boolean;
    merged_into: string | null;
  }>(sql`select hubspot_id, data, archived, merged_into from contacts`);
  const mirror = new Map(rows.map((row) => [row.hubspot_id, row]));
  // HubSpot records each merge's direct survivor; the mirror points at the final one. Compare final survivors.
  const truthById = new Map(truth.map((c) => [c.id, c]));
  const finalSurvivor = (id: string | null): string | null => {
    let current = id;
    for (let hop = 0; current && truthById.get(current)?.mergedInto && hop < 20; hop++)
      current = truthById.get(current)?.mergedInto ?? null;
    return current;
  };
  const differences: string[] = [];
  for (const contact of truth) {
    const row = mirror.get(contact.id);
    if (!row) {
      differences.push(`${contact.id}: missing from the mirror`);
      continue;
    }
    if (row.archived !== contact.archived)
      differences.push(`${contact.id}: archived ${row.archived}, HubSpot ${contact.archived}`);
    const survivor = contact.mergedInto ? finalSurvivor(contact.mergedInto) : null;
    if ((row.merged_into ?? null) !== survivor) {
      differences.push(`${contact.id}: merged into ${row.merged_into}, HubSpot ${survivor}`);
    }
    if (contact.mergedInto || contact.archived) continue;
    for (const name of COMPARED_PROPERTIES) {
      const held = row.data[name] ?? null;
      const real = contact.properties[name] === '' ? null : (contact.properties[name] ?? null);
      if (held !== real) differences.push(`${contact.id}.${name}: mirror ${held}, HubSpot ${real}`);
    }
  }
  return differences;
}

/** A sweeper of the service's own making, on `database`, reading HubSpot at `apiBase` (another instance, say). */
export function sweeperOn(
  database: Database,
  apiBase: string,
  properties: readonly string[] = DEFAULT_CONTACT_PROPERTIES,
) {
  const logger = createLogger({ level: 'silent' });
  return createSweeper({
    database,
    hubspot: createHubSpotClient({ basePath: apiBase, accessToken: async () => PRIVATE_APP_TOKEN, logger }),
    apply: createApplyRepository(),
    sweeps: createSweepRepository(),
    sessions: createSessionsRepository(),
    errors: createErrorsRepository({ db: database.db }),
    logger,
    properties,
  });
}
