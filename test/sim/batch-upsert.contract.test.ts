import type { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.ts';
import {
  api,
  assertMatchesSchema,
  type Receiver,
  sdkClient,
  startReceiver,
  startSimulator,
} from './helpers.ts';

let simulator: Simulator;
let receiver: Receiver;
let client: Client;

beforeAll(async () => {
  receiver = await startReceiver();
  simulator = await startSimulator({ contacts: 20, seed: 'upsert', webhookUrl: receiver.url });
  client = sdkClient(simulator);
});
afterAll(async () => {
  await simulator.stop();
  await receiver.close();
});

async function drain(): Promise<void> {
  await fetch(`${simulator.url}/__sim/webhooks/drain`, { method: 'POST' });
}

async function createContact(properties: Record<string, string>) {
  return client.crm.contacts.basicApi.create({ properties, associations: [] });
}

describe('batch upsert', () => {
  test('the SDK upsert creates what is missing and updates what exists, with webhooks for both', async () => {
    const existing = await createContact({ email: 'exists@upsert.test', jobtitle: 'Before' });
    await drain();
    const eventsBefore = receiver.events().length;
    const answer = await client.crm.contacts.batchApi.upsertWithHttpInfo({
      inputs: [
        { id: 'exists@upsert.test', idProperty: 'email', properties: { jobtitle: 'After' } },
        { id: 'new@upsert.test', idProperty: 'email', properties: { firstname: 'Newton' } },
      ],
    });
    expect(answer.httpStatusCode).toBe(200);
    const results = answer.data.results;
    const updated = results.find((result) => result.id === existing.id);
    const created = results.find((result) => result.id !== existing.id);
    expect(updated).toMatchObject({
      _new: false,
      properties: expect.objectContaining({ jobtitle: 'After' }),
    });
    expect(created).toMatchObject({
      _new: true,
      properties: expect.objectContaining({ email: 'new@upsert.test', firstname: 'Newton' }),
    });

    const raw = await api(simulator, 'POST', '/crm/v3/objects/contacts/batch/upsert', {
      inputs: [{ id: 'new@upsert.test', idProperty: 'email', properties: { lastname: 'Raw' } }],
    });
    assertMatchesSchema('crm-contacts-v3', 'BatchResponseSimplePublicUpsertObject', raw.body);
    expect(raw.body.results[0]).toMatchObject({ id: created?.id, new: false });

    await drain();
    const events = receiver.events().slice(eventsBefore);
    const about = (id: string | undefined) => events.filter((event) => String(event.objectId) === id);
    expect(about(created?.id).map((event) => event.subscriptionType)).toContain('contact.creation');
    expect(about(existing.id)).toContainEqual(
      expect.objectContaining({
        subscriptionType: 'contact.propertyChange',
        propertyName: 'jobtitle',
        propertyValue: 'After',
      }),
    );
  });

  test('bad upserts are refused whole with a 400 that says what is wrong', async () => {
    const cases: [unknown, string][] = [
      [{ inputs: [] }, 'non-empty array'],
      [
        { inputs: [{ id: 'x@upsert.test', idProperty: 'firstname', properties: {} }] },
        'not a unique contact property',
      ],
      [{ inputs: [{ idProperty: 'email', properties: {} }] }, 'inputs[0].id'],
      [
        {
          inputs: [
            { id: 'dup@upsert.test', idProperty: 'email', properties: {} },
            { id: 'DUP@upsert.test', idProperty: 'email', properties: {} },
          ],
        },
        'Duplicate IDs',
      ],
      [
        { inputs: [{ id: 'ro@upsert.test', idProperty: 'email', properties: { hs_object_id: '1' } }] },
        'read only',
      ],
    ];
    for (const [body, message] of cases) {
      const answer = await api(simulator, 'POST', '/crm/v3/objects/contacts/batch/upsert', body);
      expect(answer.status, message).toBe(400);
      expect(answer.body.message).toContain(message);
    }
    const none = await api(simulator, 'GET', '/crm/v3/objects/contacts/dup@upsert.test?idProperty=email');
    expect(none.status).toBe(404);
  });
});
