import { randomBytes } from 'node:crypto';
import closeWithGrace from 'close-with-grace';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { connectionFromConfig } from './connections/from-config.ts';
import { TokenKeyError } from './connections/token-cipher.ts';
import { createDatabase, describeDatabaseError, embeddedDatabaseRefusal } from './db/client.ts';
import { migrateDatabase } from './db/migrate.ts';
import { createHubSpotClient } from './hubspot/client.ts';
import { createLogger, wantsPrettyLogs } from './logger.ts';
import { journalFromConfig } from './sync/journal/journal-config.ts';
import { createDeliveryGate } from './webhooks/delivery-gate.ts';
import { createWorkers } from './workers.ts';

// The process: configuration, logger, database, listen, graceful shutdown. Everything else is in app.ts.
let config: ReturnType<typeof loadConfig>;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(1);
}

const refusal = embeddedDatabaseRefusal({ ...config, nodeEnv: process.env.NODE_ENV });
if (refusal) {
  console.error(refusal);
  process.exit(1);
}

const logger = createLogger({ level: config.LOG_LEVEL, pretty: wantsPrettyLogs() });

let adminToken = config.ADMIN_TOKEN;
if (!adminToken) {
  adminToken = randomBytes(24).toString('base64url');
  // Logged once, on purpose: without ADMIN_TOKEN this is the only way to learn this run's token.
  logger.warn(`ADMIN_TOKEN is not set; this run's admin token is ${adminToken}`);
}

const where = config.DATABASE_URL ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite at ${config.PGLITE_DIR}`;
let database: Awaited<ReturnType<typeof createDatabase>>;
try {
  database = await createDatabase({
    url: config.DATABASE_URL,
    pgliteDir: config.PGLITE_DIR,
    onNotice: (message) => logger.debug({ notice: message }, 'postgres notice'),
  });
  const applied = await migrateDatabase(database);
  logger.info({ database: where, applied }, 'database ready');
} catch (error) {
  logger.fatal({ err: error }, `cannot open the database (${where}): ${describeDatabaseError(error)}`);
  process.exit(1);
}

const connection = connectionFromConfig(config, database, logger);
try {
  await connection.checkKey();
} catch (error) {
  if (!(error instanceof TokenKeyError)) throw error;
  // A wrong key must stop the service loudly: silently running disconnected would look like a HubSpot outage.
  logger.fatal(`TOKEN_ENCRYPTION_KEY cannot open the stored HubSpot tokens: ${error.message}`);
  process.exit(1);
}
const canConnect = Boolean(
  config.HUBSPOT_ACCESS_TOKEN || (config.HUBSPOT_CLIENT_ID && config.HUBSPOT_CLIENT_SECRET),
);
const hubspot = canConnect
  ? createHubSpotClient({
      basePath: config.HUBSPOT_API_BASE,
      accessToken: connection.accessToken,
      onUnauthorized: connection.rejected,
      logger: logger.child({ component: 'hubspot' }),
    })
  : undefined;
if (!hubspot)
  logger.warn(
    'no HubSpot connection configured (HUBSPOT_ACCESS_TOKEN, or HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET for OAuth): new contacts stay pending until one is',
  );
await connection
  .announce()
  .catch((error) => logger.warn({ err: error }, 'could not record the connection state'));
const deliveryGate = createDeliveryGate();
const journal = journalFromConfig(config);
if ('off' in journal) logger.warn(`webhooks journal gap fill is off: ${journal.off}`);
const workers = createWorkers({
  config,
  database,
  logger,
  hubspot,
  deliveryGate,
  connected: () => connection.usable,
  journal: 'off' in journal ? undefined : journal,
});
connection.onConnected(workers.onConnected);
const app = await buildApp({
  config,
  logger,
  database,
  adminToken,
  onWebhookAccepted: workers.onWebhookAccepted,
  deliveryGate,
  sweeper: workers.sweeper,
  properties: workers.properties,
  hubspot,
  connection,
});

closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) logger.error({ err }, 'shutting down after an unexpected error');
  else logger.info({ signal }, 'shutting down');
  // Stop taking requests first, then let the workers finish the batch in hand, then close the database.
  await app.close();
  await workers.stop();
  await database.close();
});

await workers.start();

await app.listen({ port: config.PORT, host: config.HOST });
