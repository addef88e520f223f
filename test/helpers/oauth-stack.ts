import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { connectionFromConfig } from '../../src/connections/from-config.ts';
import type { Database } from '../../src/db/client.ts';
import { createHubSpotClient } from '../../src/hubspot/client.ts';
import { createLogger } from '../../src/logger.ts';
import { createSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/simulator.ts';
import { createWorkers, type Workers } from '../../src/workers.ts';
import { createScratchDatabase, type ScratchDatabase } from './database.ts';

export const OAUTH_CLIENT_ID = 'oauth-stack-client';
export const OAUTH_SECRET = 'oauth-stack-client-secret-0123456789';
export const OAUTH_PORTAL = 880_001;
export const OAUTH_ADMIN_TOKEN = 'oauth-stack-admin-token-0123456789';
export const newKey = () => randomBytes(32).toString('base64');

export interface OAuthInstance {
  app: FastifyInstance;
  address: string;
  database: Database;
  connection: ReturnType<typeof connectionFromConfig>;
  workers: Workers;
  stop(): Promise<void>;
}

const logger = createLogger({ level: 'silent' });

export interface InstanceOptions {
  refreshMarginMs?: number;
  /** Run the sweep schedule, as the server does (its start-up import waits for a connection). */
  schedule?: boolean;
}

/** One instance of the service on `database`, connecting to `simulator` by OAuth (no private-app token). */
export async function oauthInstance(
  simulator: Simulator,
  database: Database,
  env: Record<string, string> = {},
  options: InstanceOptions = {},
): Promise<OAuthInstance> {
  const config = loadConfig({
    HUBSPOT_CLIENT_ID: OAUTH_CLIENT_ID,
    HUBSPOT_CLIENT_SECRET: OAUTH_SECRET,
    HUBSPOT_PORTAL_ID: String(OAUTH_PORTAL),
    HUBSPOT_API_BASE: simulator.url,
    HUBSPOT_AUTHORIZE_URL: `${simulator.url}/oauth/authorize`,
    LOG_LEVEL: 'silent',
    ...env,
  });
  const connection = connectionFromConfig(config, database, logger, {
    ...(options.refreshMarginMs === undefined ? {} : { refreshMarginMs: options.refreshMarginMs }),
  });
  const hubspot = createHubSpotClient({
    basePath: simulator.url,
    accessToken: connection.accessToken,
    onUnauthorized: connection.rejected,
    logger,
  });
  const workers = createWorkers({
    config,
    database,
    logger,
    hubspot,
    schedule: options.schedule ?? false,
    connected: () => connection.usable,
  });
  connection.onConnected(workers.onConnected);
  const app = await buildApp({
    config,
    logger,
    database,
    adminToken: OAUTH_ADMIN_TOKEN,
    onWebhookAccepted: workers.onWebhookAccepted,
    sweeper: workers.sweeper,
    hubspot,
    connection,
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  await workers.start();
  return {
    app,
    address,
    database,
    connection,
    workers,
    async stop() {
      await app.close();
      await workers.stop();
    },
  };
}

export interface OAuthStack {
  simulator: Simulator;
  scratch: ScratchDatabase;
  database: Database;
  service: OAuthInstance;
  stop(): Promise<void>;
}

export async function startOAuthStack(
  simulatorOptions: SimulatorOptions = {},
  env: Record<string, string> = {},
  options: InstanceOptions = {},
): Promise<OAuthStack> {
  const simulator = await createSimulator({
    contacts: 0,
    rateLimit: 'off',
    retryBaseMs: 50,
    logErrors: false,
    clientId: OAUTH_CLIENT_ID,
    clientSecret: OAUTH_SECRET,
    portalId: OAUTH_PORTAL,
    ...simulatorOptions,
  });
  const scratch = await createScratchDatabase();
  const database = await scratch.open();
  const service = await oauthInstance(simulator, database, env, options);
  simulator.setWebhookUrl(`${service.address}/webhooks/hubspot`);
  return {
    simulator,
    scratch,
    database,
    service,
    async stop() {
      await service.stop();
      await simulator.stop();
      await database.close();
      await scratch.drop();
    },
  };
}

/** The browser's part of the install: /oauth/install, HubSpot's consent (the simulator's), back to /oauth/callback. */
export async function install(address: string, token = OAUTH_ADMIN_TOKEN) {
  const started = await fetch(`${address}/oauth/install?token=${token}`, { redirect: 'manual' });
  const consent = started.headers.get('location');
  if (started.status !== 302 || !consent)
    throw new Error(`install answered ${started.status}: ${await started.text()}`);
  const granted = await fetch(consent, { redirect: 'manual' });
  const callback = granted.headers.get('location');
  if (granted.status !== 302 || !callback) throw new Error(`consent answered ${granted.status}`);
  const landed = await fetch(callback, { redirect: 'manual' });
  return { consent, callback, landed };
}
