import { sql } from 'drizzle-orm';
import { expect, inject, test } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { createWorkers } from '../../src/workers.ts';
import { createScratchDatabase } from '../helpers/database.ts';
import { waitFor } from '../helpers/process.ts';
import { delivery, hubspotEvent, PORTAL_ID, WEBHOOK_SECRET } from '../helpers/webhooks.ts';

// Instances only share a database, and so NOTIFY, on a real PostgreSQL.
test.runIf(inject('testDatabase').kind === 'postgres')(
  'events taken by one instance are applied at once by another, woken by NOTIFY rather than its timer',
  async () => {
    const scratch = await createScratchDatabase();
    const [ingesting, applying] = await Promise.all([scratch.open(), scratch.open()]);
    const config = loadConfig({
      HUBSPOT_CLIENT_SECRET: WEBHOOK_SECRET,
      HUBSPOT_PORTAL_ID: String(PORTAL_ID),
      LOG_LEVEL: 'silent',
    });
    const logger = createLogger({ level: 'silent' });
    // The first instance takes webhooks but its apply loop never runs; the second only applies.
    const idle = createWorkers({ config, database: ingesting, logger, schedule: false });
    const app = await buildApp({
      config,
      logger,
      database: ingesting,
      adminToken: 'instances-admin-token-0123456789',
      onWebhookAccepted: idle.onWebhookAccepted,
    });
    const worker = createWorkers({ config, database: applying, logger, schedule: false });
    await worker.start();
    try {
      const sentAt = Date.now();
      const response = await app.inject(
        delivery([
          hubspotEvent({
            subscriptionType: 'contact.propertyChange',
            objectId: 9001,
            propertyName: 'email',
            propertyValue: 'x@y.io',
          }),
        ]),
      );
      expect(response.statusCode).toBe(200);
      await waitFor(async () => {
        const [row] = await applying.rows<{ email: string }>(
          sql`select data->>'email' as email from contacts where hubspot_id = '9001'`,
        );
        return row?.email === 'x@y.io' || undefined;
      }, 4_000);
      // The worker's safety timer fires every 5 s; applying well before that means the NOTIFY woke it.
      expect(Date.now() - sentAt).toBeLessThan(2_000);
    } finally {
      await worker.stop();
      await idle.stop();
      await app.close();
      await Promise.all([ingesting.close(), applying.close()]);
      await scratch.drop();
    }
  },
);
