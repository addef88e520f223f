import type { FastifyInstance } from 'fastify';
import { type AppDeps, buildApp } from '../../src/app.ts';
import type { Clock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import type { Database } from '../../src/db/client.ts';
import { createLogger } from '../../src/logger.ts';
import type { DeliveryGate } from '../../src/webhooks/delivery-gate.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const READ_TOKEN = 'test-read-token-0123456789';

export const asAdmin = { authorization: `Bearer ${ADMIN_TOKEN}` };
export const asReader = { authorization: `Bearer ${READ_TOKEN}` };

export async function buildTestApp(
  database: Database,
  {
    env = {},
    clock,
    deliveryGate,
    realtime,
  }: {
    env?: Record<string, string>;
    clock?: Clock;
    deliveryGate?: DeliveryGate;
    realtime?: AppDeps['realtime'];
  } = {},
): Promise<FastifyInstance> {
  const config = loadConfig({ READ_TOKEN, LOG_LEVEL: 'silent', ...env });
  const app = await buildApp({
    config,
    logger: createLogger({ level: config.LOG_LEVEL }),
    database,
    adminToken: ADMIN_TOKEN,
    ...(clock ? { clock } : {}),
    ...(deliveryGate ? { deliveryGate } : {}),
    ...(realtime ? { realtime } : {}),
  });
  await app.ready();
  return app;
}
