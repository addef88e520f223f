import type { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.ts';
import {
  api,
  assertMatchesSchema,
  manualClock,
  type Receiver,
  sdkClient,
  sleep,
  startReceiver,
  startSimulator,
  truth,
} from './helpers.ts';

const DAY_MS = 86_400_000;
const clock = manualClock();
let simulator: Simulator;
let hubspot: Client;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  simulator = await startSimulator({ contacts: 600, seed: 'purge', clock, webhookUrl: receiver.url });
  hubspot = sdkClient(simulator);
});
afterAll(async () => {
  await simulator.stop();
  await receiver.close();
});

const purge = (body?: unknown) => api(simulator, 'POST', '/__sim/purge', body, null);

async function deleteNewContact(email: string): Promise<string> {
  const { id } = await hubspot.crm.contacts.basicApi.create({ properties: { email }, associations: [] });
  await hubspot.crm.contacts.basicApi.archive(id);
  return id;
}

async function expectGone(id: string): Promise<void> {
  expect((await api(simulator, 'GET', `/crm/v3/objects/contacts/${id}`)).status).toBe(404);
  expect((await api(simulator, 'GET', `/crm/v3/objects/contacts/${id}?archived=true`)).status).toBe(404);
  for (const archived of [false, true]) {
    const read = await api(simulator, 'POST', `/crm/v3/objects/contacts/batch/read?archived=${archived}`, {
      inputs: [{ id }],
      properties: ['email'],
      propertiesWithHistory: [],
    });
    expect(read.status).toBe(207);
    expect(read.body.errors[0].context.ids).toEqual([id]);
  }
  const listed = await hubspot.crm.contacts.getAll(100, undefined, undefined, undefined, undefined, true);
  expect(listed.map((contact) => contact.id)).not.toContain(id);
  const row = (await truth(simulator)).find((contact) => contact.id === id);
  expect(row).toMatchObject({ archived: true, purged: true });
}

describe("HubSpot's 90-day purge of deleted contacts", () => {
  test('POST /__sim/purge removes contacts deleted before 90 days ago, seeded ones included, and no newer one', async () => {
    const recent = await deleteNewContact('recent@example.com');
    const seededDeleted = (await truth(simulator)).filter(
      (contact) => contact.archived && contact.mergedInto === null,
    );
    const merged = (await truth(simulator)).find((contact) => contact.mergedInto !== null);
    expect(seededDeleted.length).toBeGreaterThan(1);
    await simulator.drainWebhooks();
    const deliveriesBefore = receiver.events().length;

    const answer = await purge();
    expect(answer.status).toBe(200);
    expect(answer.body.archivedBefore).toBe(new Date(clock.now() - 90 * DAY_MS).toISOString());
    expect(answer.body.purged).toEqual(
      expect.arrayContaining(seededDeleted.filter((c) => c.id !== recent).map((c) => c.id)),
    );
    expect(answer.body.purged).not.toContain(recent);
    await expectGone(seededDeleted.find((c) => c.id !== recent)?.id as string);

    // A merged-away id still answers with its survivor; the recent deletion is still in the recycling bin.
    expect((await api(simulator, 'GET', `/crm/v3/objects/contacts/${merged?.id}`)).status).toBe(200);
    expect((await api(simulator, 'GET', `/crm/v3/objects/contacts/${recent}?archived=true`)).status).toBe(
      200,
    );
    // HubSpot sends no webhook for a purge.
    await simulator.drainWebhooks();
    expect(receiver.events().slice(deliveriesBefore)).toEqual([]);
  });

  test('a deletion is purged on its own once the simulator clock passes 90 days', async () => {
    const id = await deleteNewContact('aging@example.com');
    clock.advance(89 * DAY_MS);
    await sleep(1_200);
    expect((await api(simulator, 'GET', `/crm/v3/objects/contacts/${id}?archived=true`)).status).toBe(200);

    clock.advance(2 * DAY_MS);
    await sleep(1_200);
    await expectGone(id);
  });

  test('a restored contact is not purged', async () => {
    const id = await deleteNewContact('restored@example.com');
    simulator.portal.restore(Number(id), { changeSource: 'CRM_UI', sourceId: 'userId:1' });
    clock.advance(91 * DAY_MS);
    expect(simulator.purger.purgeDue()).toBe(0);
    expect((await api(simulator, 'GET', `/crm/v3/objects/contacts/${id}`)).status).toBe(200);
  });

  test('a purge request HubSpot could not mean is refused in its error shape', async () => {
    for (const body of [{ archivedBefore: 'last spring' }, { olderThan: '90d' }, []]) {
      const answer = await purge(body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      assertMatchesSchema('crm-contacts-v3', 'Error', answer.body);
    }
  });
});
