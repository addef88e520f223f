import { createHash, createHmac } from 'node:crypto';
import { afterEach, describe, expect, test } from 'vitest';
import { SEEDED_ID_BASE } from '../../src/sim/seed.ts';
import type { Simulator, SimulatorOptions } from '../../src/sim/simulator.ts';
import { type Delivery, type Receiver, sdkClient, sleep, startReceiver, startSimulator } from './helpers.ts';

const SECRET = 'webhook-test-secret';
/** The n-th seeded contact's id, as a number (in events) and as the string the API takes. */
const seeded = (n: number) => SEEDED_ID_BASE + n;
const id = (n: number) => String(seeded(n));
let simulator: Simulator | undefined;
let receiver: Receiver | undefined;

afterEach(async () => {
  await simulator?.stop();
  await receiver?.close();
  simulator = undefined;
  receiver = undefined;
});

async function setUp(options: SimulatorOptions = {}): Promise<{ sim: Simulator; hooks: Receiver }> {
  receiver = await startReceiver();
  simulator = await startSimulator({
    contacts: 50,
    clientSecret: SECRET,
    webhookUrl: receiver.url,
    ...options,
  });
  return { sim: simulator, hooks: receiver };
}

async function drain(
  sim: Simulator,
): Promise<{ delivered: number; failed: number; pending: number; dropped: number }> {
  const response = await fetch(`${sim.url}/__sim/webhooks/drain`, { method: 'POST' });
  return (await response.json()) as { delivered: number; failed: number; pending: number; dropped: number };
}

/** Verifies a delivery the way a receiver must: over the raw bytes, against the URL HubSpot called. */
function verify(delivery: Delivery, url: string): { v1: boolean; v3: boolean } {
  const v1 = createHash('sha256')
    .update(SECRET + delivery.rawBody)
    .digest('hex');
  const timestamp = delivery.headers['x-hubspot-request-timestamp'] as string;
  const v3 = createHmac('sha256', SECRET)
    .update(`POST${url}${delivery.rawBody}${timestamp}`)
    .digest('base64');
  return {
    v1:
      delivery.headers['x-hubspot-signature'] === v1 &&
      delivery.headers['x-hubspot-signature-version'] === 'v1',
    v3:
      delivery.headers['x-hubspot-signature-v3'] === v3 && Math.abs(Date.now() - Number(timestamp)) < 300_000,
  };
}

describe('webhook deliveries', () => {
  test('every change through the API arrives as HubSpot events, each delivery signed with v1 and v3', async () => {
    const { sim, hooks } = await setUp();
    const client = sdkClient(sim);
    const created = await client.crm.contacts.basicApi.create({
      properties: { email: 'events@example.com', firstname: 'Eve' },
      associations: [],
    });
    await client.crm.contacts.basicApi.update(created.id, {
      properties: { lifecyclestage: 'customer', nps_score: '9' },
    });
    await client.crm.contacts.basicApi.archive(id(2));
    await client.crm.contacts.basicApi.purge({ objectId: id(3) });
    const survivor = await client.crm.contacts.basicApi.merge({
      primaryObjectId: id(4),
      objectIdToMerge: id(5),
    });
    const stats = await drain(sim);

    expect(stats).toMatchObject({ failed: 0, pending: 0 });
    expect(hooks.deliveries.length).toBeGreaterThan(0);
    for (const delivery of hooks.deliveries) {
      expect(verify(delivery, hooks.url)).toEqual({ v1: true, v3: true });
      expect(delivery.headers['content-type']).toBe('application/json');
      expect(delivery.events.length).toBeLessThanOrEqual(100);
    }
    const events = hooks.events();
    expect(stats.delivered).toBe(events.length);
    const of = (type: string) => events.filter((event) => event.subscriptionType === type);

    const creation = of('contact.creation');
    expect(creation).toHaveLength(1);
    expect(creation[0]).toMatchObject({
      objectId: Number(created.id),
      portalId: 62515,
      appId: 54321,
      attemptNumber: 0,
      changeFlag: 'CREATED',
      changeSource: 'INTEGRATION',
    });
    expect(creation[0]?.propertyName).toBeUndefined();
    for (const field of ['eventId', 'subscriptionId', 'occurredAt', 'sourceId'])
      expect(creation[0]).toHaveProperty(field);
    // A private app is an app of its own: its changes name its app id, the same one every time.
    expect(creation[0]?.sourceId).toMatch(/^\d{7}$/);
    expect(new Set(events.filter((e) => e.changeSource === 'INTEGRATION').map((e) => e.sourceId)).size).toBe(
      1,
    );

    const changes = of('contact.propertyChange').filter((event) => event.objectId === Number(created.id));
    expect(changes.map((event) => [event.propertyName, event.propertyValue]).sort()).toEqual(
      [
        ['email', 'events@example.com'],
        ['firstname', 'Eve'],
        ['lifecyclestage', 'customer'],
        ['nps_score', '9'],
      ].sort(),
    );
    // One subscription per property.
    expect(new Set(changes.map((event) => event.subscriptionId)).size).toBe(4);

    expect(
      of('contact.deletion')
        .map((event) => event.objectId)
        .sort(),
    ).toEqual([seeded(2), seeded(3)]);
    expect(of('contact.privacyDeletion').map((event) => event.objectId)).toEqual([seeded(3)]);
    const merge = of('contact.merge')[0];
    expect(merge).toMatchObject({
      primaryObjectId: seeded(4),
      mergedObjectIds: [seeded(5)],
      objectId: Number(survivor.id),
    });
    expect(typeof merge?.numberOfPropertiesMoved).toBe('number');

    // As real deliveries: only creations and deletions carry a changeFlag.
    expect(new Set(of('contact.deletion').map((event) => event.changeFlag))).toEqual(new Set(['DELETED']));
    for (const type of ['contact.propertyChange', 'contact.privacyDeletion', 'contact.merge'])
      for (const event of of(type)) expect(event).not.toHaveProperty('changeFlag');
  });

  test('a merge that makes a new record carries newObjectId', async () => {
    const { sim, hooks } = await setUp({ mergeNewIdRate: 1 });
    const survivor = await sdkClient(sim).crm.contacts.basicApi.merge({
      primaryObjectId: id(0),
      objectIdToMerge: id(1),
    });
    await drain(sim);
    const merge = hooks.events().find((event) => event.subscriptionType === 'contact.merge');
    expect(merge).toMatchObject({
      primaryObjectId: seeded(0),
      mergedObjectIds: [seeded(1)],
      newObjectId: Number(survivor.id),
    });
  });

  test('after a 500 the same events come back with a rising attemptNumber', async () => {
    const { sim, hooks } = await setUp();
    hooks.respondWith((_delivery, index) => (index < 2 ? 500 : 200));
    await sdkClient(sim).crm.contacts.basicApi.update(id(0), { properties: { jobtitle: 'Retry Tester' } });
    const stats = await drain(sim);
    expect(stats).toMatchObject({ delivered: 1, failed: 0, pending: 0 });
    const attempts = hooks.deliveries.map((delivery) => delivery.events[0]?.attemptNumber);
    expect(attempts).toEqual([0, 1, 2]);
    const ids = new Set(hooks.deliveries.map((delivery) => delivery.events[0]?.eventId));
    expect(ids.size).toBe(1);
    for (const delivery of hooks.deliveries)
      expect(verify(delivery, hooks.url)).toEqual({ v1: true, v3: true });
    // Delays grow: the second retry waits longer than the first.
    const [a, b, c] = hooks.deliveries.map((delivery) => delivery.receivedAt) as [number, number, number];
    expect(b - a).toBeGreaterThanOrEqual(20);
    expect(c - b).toBeGreaterThan(b - a);
  });

  test('a receiver that always fails gets 10 attempts, then the events count as failed', async () => {
    const { sim, hooks } = await setUp({ retryBaseMs: 1 });
    hooks.respondWith(() => 503);
    await sdkClient(sim).crm.contacts.basicApi.update(id(0), { properties: { jobtitle: 'Doomed' } });
    const stats = await drain(sim);
    expect(stats).toMatchObject({ delivered: 0, failed: 1, pending: 0 });
    expect(hooks.deliveries.map((delivery) => delivery.events[0]?.attemptNumber)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
  });

  test('an answer slower than the timeout counts as a failure and is retried', async () => {
    const { sim, hooks } = await setUp({ webhookTimeoutMs: 100 });
    hooks.respondWith(async (_delivery, index) => {
      if (index === 0) await sleep(400);
      return 204;
    });
    await sdkClient(sim).crm.contacts.basicApi.update(id(0), { properties: { jobtitle: 'Slowpoke' } });
    const stats = await drain(sim);
    expect(stats).toMatchObject({ delivered: 1, failed: 0 });
    expect(hooks.deliveries.map((delivery) => delivery.events[0]?.attemptNumber)).toEqual([0, 1]);
  });

  test('busy portals send batches of at most 100 events, at most 10 requests in flight', async () => {
    const { sim, hooks } = await setUp({ contacts: 2000 });
    hooks.respondWith(async () => {
      await sleep(30);
      return 200;
    });
    const report = await fetch(`${sim.url}/__sim/activity`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ changes: 1500 }),
    });
    expect(report.status).toBe(200);
    const stats = await drain(sim);
    expect(stats.pending).toBe(0);
    expect(stats.delivered).toBeGreaterThan(1500);
    expect(Math.max(...hooks.deliveries.map((delivery) => delivery.events.length))).toBe(100);
    expect(hooks.maxConcurrent()).toBe(10);
  });

  test('duplicateRate sends events twice and dropRate loses them for good', async () => {
    const { sim, hooks } = await setUp();
    const control = (body: unknown) =>
      fetch(`${sim.url}/__sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    await control({ duplicateRate: 1 });
    await sdkClient(sim).crm.contacts.basicApi.update(id(0), { properties: { jobtitle: 'Twice' } });
    await drain(sim);
    const twice = hooks.events().filter((event) => event.propertyValue === 'Twice');
    expect(twice).toHaveLength(2);
    expect(twice[0]).toEqual(twice[1]);

    await control({ duplicateRate: 0, dropRate: 1 });
    await sdkClient(sim).crm.contacts.basicApi.update(id(0), { properties: { jobtitle: 'Never' } });
    const stats = await drain(sim);
    expect(hooks.events().some((event) => event.propertyValue === 'Never')).toBe(false);
    expect(stats.dropped).toBe(1);
  });

  test('reorderWindowMs delivers events out of the order they happened', async () => {
    const { sim, hooks } = await setUp();
    await fetch(`${sim.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reorderWindowMs: 150 }),
    });
    const client = sdkClient(sim);
    for (let i = 0; i < 20; i++) {
      await client.crm.contacts.basicApi.update(id(0), {
        properties: { nps_score: String(i % 11), jobtitle: `Step ${i}` },
      });
    }
    await drain(sim);
    const steps = hooks
      .events()
      .filter((event) => event.propertyName === 'jobtitle')
      .map((event) => Number(String(event.propertyValue).replace('Step ', '')));
    expect(steps.sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    const arrival = hooks
      .events()
      .filter((event) => event.propertyName === 'jobtitle')
      .map((event) => Number(String(event.propertyValue).replace('Step ', '')));
    expect(arrival).not.toEqual([...Array(20).keys()]);
  });

  test('--signature v3 sends only v3 headers and --signature v2 signs method and uri', async () => {
    const { sim, hooks } = await setUp({ signature: 'v3' });
    await sdkClient(sim).crm.contacts.basicApi.update(id(0), { properties: { jobtitle: 'V3 only' } });
    await drain(sim);
    expect(hooks.deliveries[0]?.headers['x-hubspot-signature']).toBeUndefined();
    expect(verify(hooks.deliveries[0] as Delivery, hooks.url).v3).toBe(true);
    await sim.stop();
    await hooks.close();

    const v2 = await setUp({ signature: 'v2' });
    await sdkClient(v2.sim).crm.contacts.basicApi.update(id(0), { properties: { jobtitle: 'V2' } });
    await drain(v2.sim);
    const delivery = v2.hooks.deliveries[0] as Delivery;
    const expected = createHash('sha256')
      .update(`${SECRET}POST${v2.hooks.url}${delivery.rawBody}`)
      .digest('hex');
    expect(delivery.headers['x-hubspot-signature-version']).toBe('v2');
    expect(delivery.headers['x-hubspot-signature']).toBe(expected);
  });
});
