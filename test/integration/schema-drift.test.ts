import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createHubSpotClient } from '../../src/hubspot/client.ts';
import { createPacer } from '../../src/hubspot/pacer.ts';
import { createLogger } from '../../src/logger.ts';
import { MAX_URL_LENGTH } from '../../src/sim/url-limit.ts';
import { listQueryLength } from '../../src/sync/schema/contact-listing.ts';
import { createPropertyDefinitionsRepository } from '../../src/sync/schema/property-definitions.repository.ts';
import { createPropertySet } from '../../src/sync/schema/property-set.ts';
import { createSchemaWatcher } from '../../src/sync/schema/schema-watcher.ts';
import { createWorkers } from '../../src/workers.ts';
import { waitFor } from '../helpers/process.ts';
import { PRIVATE_APP_TOKEN, STACK_ADMIN_TOKEN, type Stack, startStack } from '../helpers/stack.ts';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function start(properties: string): Promise<Stack> {
  stack = await startStack({}, { env: { HUBSPOT_CONTACT_PROPERTIES: properties } });
  return stack;
}

async function fullSweep(current: Stack) {
  const result = await current.workers.sweeper.start({ mode: 'full', trigger: 'admin' });
  if (!('done' in result)) throw new Error('a sweep was already running');
  return result.done;
}

const control = (current: Stack, method: string, path: string, body?: unknown) =>
  fetch(`${current.simulator.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

async function mirrored(current: Stack, id: string): Promise<Record<string, string | null>> {
  const [row] = await current.database.rows<{ data: Record<string, string | null> }>(
    sql`select data from contacts where hubspot_id = ${id}`,
  );
  return row?.data ?? {};
}

async function syncStatus(current: Stack) {
  const response = await current.app.inject({
    method: 'GET',
    url: '/api/sync/status',
    headers: { authorization: `Bearer ${STACK_ADMIN_TOKEN}` },
  });
  expect(response.statusCode).toBe(200);
  return response.json();
}

describe('HUBSPOT_CONTACT_PROPERTIES=all follows HubSpot as definitions change', () => {
  test('a property created in HubSpot is mirrored after the next schema check and sweep', async () => {
    const current = await start('all');
    const { id } = await current.hubspot.crm.contacts.basicApi.create({
      properties: { email: 'drift@example.com' },
      associations: [],
    });
    expect((await control(current, 'POST', '/__sim/properties', { name: 'loyalty_level' })).status).toBe(201);
    await current.hubspot.crm.contacts.basicApi.update(id, { properties: { loyalty_level: 'gold' } });
    expect(current.workers.properties.names()).not.toContain('loyalty_level');

    await current.workers.checkSchema();
    expect(current.workers.properties.names()).toContain('loyalty_level');
    expect((await fullSweep(current)).status).toBe('completed');
    expect(await mirrored(current, id)).toMatchObject({ email: 'drift@example.com', loyalty_level: 'gold' });

    const [definition] = await current.database.rows<{ deleted_at: string | null; type: string }>(
      sql`select deleted_at, type from contact_property_definitions where name = 'loyalty_level'`,
    );
    expect(definition).toEqual({ deleted_at: null, type: 'string' });
    expect((await syncStatus(current)).properties).toMatchObject({
      mode: 'all',
      missing: [],
      source: 'hubspot',
    });
  });

  test('a deleted property stops being requested and is marked deleted', async () => {
    const current = await start('all');
    await control(current, 'POST', '/__sim/properties', { name: 'legacy_segment' });
    await current.workers.checkSchema();
    expect(current.workers.properties.names()).toContain('legacy_segment');

    expect((await control(current, 'DELETE', '/__sim/properties/legacy_segment')).status).toBe(200);
    await current.workers.checkSchema();
    expect(current.workers.properties.names()).not.toContain('legacy_segment');
    const [definition] = await current.database.rows<{ deleted: boolean }>(
      sql`select deleted_at is not null as deleted from contact_property_definitions where name = 'legacy_segment'`,
    );
    expect(definition?.deleted).toBe(true);
  });

  test('hundreds of long property names never reach HubSpot’s URL limit: the full sweep still mirrors them', async () => {
    const current = await start('all');
    const { id } = await current.hubspot.crm.contacts.basicApi.create({
      properties: { email: 'wide@example.com' },
      associations: [],
    });
    for (let i = 0; i < 150; i++) {
      await control(current, 'POST', '/__sim/properties', {
        name: `imported_marketing_attribution_detail_number_${i}`,
      });
    }
    await current.hubspot.crm.contacts.basicApi.update(id, {
      properties: { imported_marketing_attribution_detail_number_149: 'paid-search' },
    });
    await current.workers.checkSchema();
    // As one list call's query string, the names alone would be longer than any URL HubSpot takes.
    expect(listQueryLength(current.workers.properties.names())).toBeGreaterThan(MAX_URL_LENGTH);

    expect((await fullSweep(current)).status).toBe('completed');
    expect(await mirrored(current, id)).toMatchObject({
      email: 'wide@example.com',
      imported_marketing_attribution_detail_number_149: 'paid-search',
    });
  });
});

describe('a listed property HubSpot does not define', () => {
  test('is reported in the sync status and left out, and the sweep still completes', async () => {
    const current = await start('email,firstname,no_such_property');
    const { id } = await current.hubspot.crm.contacts.basicApi.create({
      properties: { email: 'listed@example.com', firstname: 'Ada' },
      associations: [],
    });
    expect((await syncStatus(current)).properties).toMatchObject({
      mode: 'list',
      count: 2,
      missing: ['no_such_property'],
      source: 'hubspot',
    });
    expect(current.workers.properties.names()).toEqual(['email', 'firstname']);
    expect((await fullSweep(current)).status).toBe('completed');
    expect(await mirrored(current, id)).toMatchObject({ email: 'listed@example.com', firstname: 'Ada' });

    // Once HubSpot defines it, it is requested and the warning clears.
    await control(current, 'POST', '/__sim/properties', { name: 'no_such_property' });
    await current.workers.checkSchema();
    expect((await syncStatus(current)).properties).toMatchObject({ count: 3, missing: [] });
  });
});

describe('the schema watcher', () => {
  test('reads the definitions again on its schedule, and warns about a missing listed property once per change', async () => {
    const current = await start('all');
    const lines: { level: number; msg: string; missing?: string[] }[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    const propertySet = createPropertySet({ mode: 'list', names: ['email', 'not_yet'] }, []);
    const watcher = createSchemaWatcher({
      hubspot: createHubSpotClient({
        basePath: current.simulator.url,
        accessToken: async () => PRIVATE_APP_TOKEN,
        logger,
      }),
      database: current.database,
      definitions: createPropertyDefinitionsRepository(),
      propertySet,
      logger,
      everyMs: 100,
    });
    await watcher.start();
    try {
      expect(propertySet.status()).toMatchObject({ count: 1, missing: ['not_yet'] });
      await new Promise((resolve) => setTimeout(resolve, 350));
      const warnings = () => lines.filter((line) => line.level === 40 && line.missing);
      expect(warnings()).toEqual([expect.objectContaining({ missing: ['not_yet'] })]);

      await control(current, 'POST', '/__sim/properties', { name: 'not_yet' });
      // The next scheduled read finds it.
      await waitFor(async () => (propertySet.status().missing.length === 0 ? true : undefined), 5_000);
      expect(propertySet.names()).toEqual(['email', 'not_yet']);
      expect(warnings()).toHaveLength(1);
    } finally {
      watcher.stop();
    }
  });
});

describe('HubSpot unreachable at start-up', () => {
  test('the last stored definitions stand in, and the service still starts', async () => {
    const current = await start('all');
    await control(current, 'POST', '/__sim/properties', { name: 'stored_only' });
    await current.workers.checkSchema();
    const known = current.workers.properties.names();

    const logger = createLogger({ level: 'silent' });
    const unreachable = createWorkers({
      config: loadConfig({ HUBSPOT_CONTACT_PROPERTIES: 'all' }),
      database: current.database,
      logger,
      // Nothing listens on port 9 of this machine: every call is refused at once.
      hubspot: createHubSpotClient({
        basePath: 'http://127.0.0.1:9',
        accessToken: async () => 'pat-x',
        logger,
        pacer: createPacer({ logger, maxAttempts: 1 }),
      }),
      schedule: false,
    });
    await unreachable.start();
    try {
      expect(unreachable.properties.status()).toMatchObject({ mode: 'all', source: 'stored' });
      expect(unreachable.properties.names()).toEqual([...known].sort());
      expect(unreachable.properties.names()).toContain('stored_only');
    } finally {
      await unreachable.stop();
    }
  });
});
