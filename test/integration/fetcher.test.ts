import { sql } from 'drizzle-orm';
import { describe, expect } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { createErrorsRepository } from '../../src/errors/errors.repository.ts';
import { createHubSpotClient } from '../../src/hubspot/client.ts';
import { createLogger } from '../../src/logger.ts';
import { createSimulator } from '../../src/sim/simulator.ts';
import { createApplyRepository } from '../../src/sync/apply/apply.repository.ts';
import { createContactFetcher } from '../../src/sync/fetch/contact-fetcher.ts';
import { createFetchRepository } from '../../src/sync/fetch/fetch.repository.ts';
import { dbTest as test } from '../helpers/database.ts';
import { contactRow, webhookPipeline } from '../helpers/pipeline.ts';
import { hubspotEvent } from '../helpers/webhooks.ts';

const TOKEN = 'pat-na1-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const logger = createLogger({ level: 'silent' });

function fetcherOn(
  database: Database,
  apiBase: string,
  options: { properties: string[]; maxAttempts?: number },
) {
  return createContactFetcher({
    database,
    hubspot: createHubSpotClient({ basePath: apiBase, accessToken: async () => TOKEN, logger }),
    fetches: createFetchRepository(),
    apply: createApplyRepository(),
    errors: createErrorsRepository({ db: database.db }),
    logger,
    ...options,
  });
}

describe('reading incomplete contacts back from HubSpot', () => {
  test('a contact HubSpot does not return yet is retried with backoff, then filled in once it does', async ({
    database,
  }) => {
    const simulator = await createSimulator({ contacts: 5, rateLimit: 'off', logErrors: false });
    try {
      const fetcher = fetcherOn(database, simulator.url, { properties: ['email', 'firstname'] });
      // The creation webhook outran HubSpot: the id it names cannot be read yet.
      const nextId = simulator.portal.plan.idBase + simulator.portal.plan.count;
      const pipeline = webhookPipeline(database);
      await pipeline.receive([
        hubspotEvent({ subscriptionType: 'contact.creation', objectId: nextId, occurredAt: Date.now() }),
      ]);
      await pipeline.applyAll();

      expect(await fetcher.fetchNext()).toBe(1);
      const [waiting] = await database.rows<{ sync_status: string; fetch_attempts: number; due_in: number }>(
        sql`select sync_status, fetch_attempts, extract(epoch from next_fetch_at - now())::float as due_in
          from contacts where hubspot_id = ${String(nextId)}`,
      );
      expect(waiting).toMatchObject({ sync_status: 'pending', fetch_attempts: 1 });
      expect(waiting?.due_in).toBeGreaterThan(0);
      expect(await fetcher.fetchNext()).toBe(0);

      const created = simulator.portal.create({ email: 'late@example.com', firstname: 'Late' }, {
        changeSource: 'API',
      } as never);
      expect(created.id).toBe(nextId);
      await database.rows(sql`update contacts set next_fetch_at = now()`);
      expect(await fetcher.fetchNext()).toBe(1);
      expect(await contactRow(database, String(nextId))).toMatchObject({
        sync_status: 'synced',
        data: expect.objectContaining({ email: 'late@example.com', firstname: 'Late' }),
      });
    } finally {
      await simulator.stop();
    }
  });

  test('after the last attempt the contact is marked error and logged', async ({ database }) => {
    const simulator = await createSimulator({ contacts: 1, rateLimit: 'off', logErrors: false });
    try {
      const fetcher = fetcherOn(database, simulator.url, { properties: ['email'], maxAttempts: 2 });
      const pipeline = webhookPipeline(database);
      await pipeline.receive([
        hubspotEvent({ subscriptionType: 'contact.creation', objectId: 424242, occurredAt: Date.now() }),
      ]);
      await pipeline.applyAll();
      for (let i = 0; i < 2; i++) {
        await database.rows(sql`update contacts set next_fetch_at = now()`);
        await fetcher.fetchNext();
      }
      expect(await contactRow(database, '424242')).toMatchObject({ sync_status: 'error' });
      const [logged] = await database.rows<{ error_type: string }>(sql`select error_type from error_logs`);
      expect(logged?.error_type).toBe('hubspot.contact_not_found');
    } finally {
      await simulator.stop();
    }
  });
});
