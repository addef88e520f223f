import type { Client } from '@hubspot/api-client';
import { AssociationSpecAssociationCategoryEnum as Category } from '@hubspot/api-client/lib/codegen/crm/associations/v4/index.js';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.ts';
import {
  api,
  assertMatchesSchema,
  type Json,
  type Receiver,
  sdkClient,
  startReceiver,
  startSimulator,
  truth,
} from './helpers.ts';

let simulator: Simulator;
let client: Client;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver();
  simulator = await startSimulator({ contacts: 60, seed: 'associations', webhookUrl: receiver.url });
  client = sdkClient(simulator);
});
afterAll(async () => {
  await simulator.stop();
  await receiver.close();
});

async function apiError(call: Promise<unknown>): Promise<{ code: number; body: Json }> {
  try {
    await call;
  } catch (error) {
    const { code, body } = error as { code: number; body: unknown };
    return { code, body: typeof body === 'string' ? JSON.parse(body) : body };
  }
  throw new Error('expected the call to fail');
}

interface TruthAssociation {
  contactId: string;
  toObjectType: string;
  toObjectId: string;
  types: { typeId: number; category: string; label: string | null }[];
}

async function associationTruth(): Promise<TruthAssociation[]> {
  return (await (await fetch(`${simulator.url}/__sim/associations`)).json()) as TruthAssociation[];
}

let companies: string[] = [];
let contacts: string[] = [];
beforeAll(async () => {
  const listed = (await (await fetch(`${simulator.url}/__sim/companies`)).json()) as { id: string }[];
  companies = listed.map((company) => company.id);
  contacts = (await truth(simulator)).filter((contact) => !contact.archived).map((contact) => contact.id);
});

const contactAt = (index: number) => contacts[index] as string;
const companyAt = (index: number) => companies[index] as string;

async function associationEvents(): Promise<Json[]> {
  await simulator.drainWebhooks();
  return receiver.events().filter((event) => event.subscriptionType === 'contact.associationChange');
}
beforeEach(async () => {
  await simulator.drainWebhooks();
  receiver.deliveries.length = 0;
});

describe('companies', () => {
  test('company ids do not fit in an int32, as in real portals', () => {
    expect(companies.length).toBeGreaterThan(5);
    expect(companies.every((id) => Number(id) > 2 ** 31)).toBe(true);
  });
});

describe('creating associations through the official SDK', () => {
  test('a default association is unlabeled, and primary for a contact without a primary company', async () => {
    const contact = contactAt(0);
    const first = await client.crm.associations.v4.basicApi.createDefault(
      'contacts',
      contact,
      'companies',
      companyAt(0),
    );
    expect(first.status).toBe('COMPLETE');
    expect(first.results.map((r) => r.associationSpec.associationTypeId).sort((a, b) => a - b)).toEqual([
      1, 279,
    ]);
    expect(first.results[0]?._from.id).toBe(contact);
    const second = await client.crm.associations.v4.basicApi.createDefault(
      'contacts',
      contact,
      'companies',
      companyAt(1),
    );
    expect(second.results.map((r) => r.associationSpec.associationTypeId)).toEqual([279]);

    const page = await client.crm.associations.v4.basicApi.getPage('contacts', contact, 'companies');
    expect(page.results.map((r) => String(r.toObjectId))).toEqual([companyAt(0), companyAt(1)]);
    expect(page.results[0]?.associationTypes).toEqual([
      { category: 'HUBSPOT_DEFINED', typeId: 1, label: 'Contact with Primary Company' },
      { category: 'HUBSPOT_DEFINED', typeId: 279, label: null },
    ]);

    // One contact.associationChange per association type, from the contact's side, with HubSpot's fields.
    const events = await associationEvents();
    expect(events).toHaveLength(3);
    for (const event of events) {
      expect(event).toMatchObject({
        subscriptionType: 'contact.associationChange',
        objectId: Number(contact),
        fromObjectId: Number(contact),
        associationType: 'CONTACT_TO_COMPANY',
        associationRemoved: false,
        changeSource: 'INTEGRATION',
        portalId: simulator.options.portalId,
      });
      expect(event.attemptNumber).toBe(0);
    }
    expect(events.filter((e) => e.isPrimaryAssociation).map((e) => String(e.toObjectId))).toEqual([
      companyAt(0),
    ]);
    const times = events.map((event) => event.occurredAt);
    expect(new Set(times).size).toBe(times.length);
  });

  test('a labelled association answers the labels between the pair and keeps the unlabeled one', async () => {
    const contact = contactAt(1);
    const answer = await client.crm.associations.v4.basicApi.createWithHttpInfo(
      'contacts',
      contact,
      'companies',
      companyAt(2),
      [{ associationCategory: Category.UserDefined, associationTypeId: 101 }],
    );
    expect(answer.httpStatusCode).toBe(201);
    expect(answer.data).toMatchObject({
      fromObjectTypeId: '0-1',
      toObjectTypeId: '0-2',
      labels: ['Decision maker'],
    });
    expect(String(answer.data.toObjectId)).toBe(companyAt(2));
    const [held] = (await associationTruth()).filter((a) => a.contactId === contact);
    expect(held?.types.map((type) => type.typeId)).toEqual([101, 279]);
  });

  test('making another company primary takes the flag from the old one, with a removal event for it', async () => {
    const contact = contactAt(2);
    await client.crm.associations.v4.basicApi.createDefault('contacts', contact, 'companies', companyAt(3));
    await client.crm.associations.v4.basicApi.create('contacts', contact, 'companies', companyAt(4), [
      { associationCategory: Category.HubspotDefined, associationTypeId: 1 },
    ]);
    const held = (await associationTruth()).filter((a) => a.contactId === contact);
    const primaries = held.filter((a) => a.types.some((type) => type.typeId === 1));
    expect(primaries.map((a) => a.toObjectId)).toEqual([companyAt(4)]);
    const removed = (await associationEvents()).filter((e) => e.associationRemoved);
    expect(removed).toEqual([
      expect.objectContaining({ toObjectId: Number(companyAt(3)), isPrimaryAssociation: true }),
    ]);
  });

  test('batch create, default and archive work through the SDK batch API', async () => {
    const [a, b] = [contactAt(3), contactAt(4)];
    const created = await client.crm.associations.v4.batchApi.create('contacts', 'companies', {
      inputs: [
        {
          _from: { id: a },
          to: { id: companyAt(5) },
          types: [{ associationCategory: Category.UserDefined, associationTypeId: 102 }],
        },
      ],
    });
    expect(created.results[0]?.labels).toEqual(['Billing contact']);
    const defaulted = await client.crm.associations.v4.batchApi.createDefault('contacts', 'companies', {
      inputs: [{ _from: { id: b }, to: { id: companyAt(5) } }],
    });
    expect(defaulted.results.map((r) => r.associationSpec.associationTypeId).sort()).toEqual([1, 279]);
    await client.crm.associations.v4.batchApi.archive('contacts', 'companies', {
      inputs: [{ _from: { id: a }, to: [{ id: companyAt(5) }] }],
    });
    const held = await associationTruth();
    expect(held.filter((x) => x.contactId === a)).toEqual([]);
    expect(held.filter((x) => x.contactId === b).map((x) => x.toObjectId)).toEqual([companyAt(5)]);
  });
});

describe('reading associations', () => {
  test('getPage pages with an after cursor; the last page has no next', async () => {
    const contact = contactAt(5);
    for (const index of [6, 7, 8]) {
      await client.crm.associations.v4.basicApi.createDefault(
        'contacts',
        contact,
        'companies',
        companyAt(index),
      );
    }
    const first = await client.crm.associations.v4.basicApi.getPage(
      'contacts',
      contact,
      'companies',
      undefined,
      2,
    );
    expect(first.results).toHaveLength(2);
    const after = first.paging?.next?.after;
    expect(after).toBeTruthy();
    const second = await client.crm.associations.v4.basicApi.getPage(
      'contacts',
      contact,
      'companies',
      after,
      2,
    );
    expect(second.results.map((r) => String(r.toObjectId))).toEqual([companyAt(8)]);
    expect(second.paging).toBeUndefined();
  });

  test('batch read answers associated ids, and reports the ones without any as errors in a 207', async () => {
    const lonely = contactAt(20);
    const answer = await client.crm.associations.v4.batchApi.getPageWithHttpInfo('contacts', 'companies', {
      inputs: [{ id: contactAt(0) }, { id: lonely }],
    });
    expect(answer.httpStatusCode).toBe(207);
    const data = answer.data as Json;
    expect(data.results.map((r: Json) => r._from.id)).toEqual([contactAt(0)]);
    expect(data.results[0].to.map((t: Json) => String(t.toObjectId))).toEqual([companyAt(0), companyAt(1)]);
    expect(data.errors).toHaveLength(1);
    expect(data.errors[0]).toMatchObject({
      category: 'OBJECT_NOT_FOUND',
      subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND',
      context: { fromObjectId: [lonely] },
    });
    expect(data.numErrors).toBe(1);
  });

  test('a raw batch read is plain JSON with HubSpot field names', async () => {
    const response = await api(simulator, 'POST', '/crm/v4/associations/contacts/companies/batch/read', {
      inputs: [{ id: contactAt(0) }],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body.results[0].from).toEqual({ id: contactAt(0) });
    expect(typeof response.body.results[0].to[0].toObjectId).toBe('number');
  });
});

describe('deleting associations', () => {
  test('archive removes every type between the pair, with a removal event for each HubSpot-defined one', async () => {
    const contact = contactAt(6);
    await client.crm.associations.v4.basicApi.createDefault('contacts', contact, 'companies', companyAt(9));
    await simulator.drainWebhooks();
    receiver.deliveries.length = 0;
    const response = await client.crm.associations.v4.basicApi.archiveWithHttpInfo(
      'contacts',
      contact,
      'companies',
      companyAt(9),
    );
    expect(response.httpStatusCode).toBe(204);
    expect((await associationTruth()).filter((a) => a.contactId === contact)).toEqual([]);
    const events = await associationEvents();
    expect(events.map((e) => [e.associationRemoved, e.isPrimaryAssociation]).sort()).toEqual([
      [true, false],
      [true, true],
    ]);
  });
});

describe('merges', () => {
  test("a merge moves the secondary's companies to the survivor, which keeps its own primary", async () => {
    const [primary, secondary] = [contactAt(10), contactAt(11)];
    await client.crm.associations.v4.basicApi.createDefault('contacts', primary, 'companies', companyAt(0));
    await client.crm.associations.v4.basicApi.createDefault('contacts', secondary, 'companies', companyAt(1));
    const survivor = await client.crm.contacts.basicApi.merge({
      primaryObjectId: primary,
      objectIdToMerge: secondary,
    });
    const held = (await associationTruth()).filter((a) => a.contactId === survivor.id);
    expect(held.map((a) => [a.toObjectId, a.types.map((t) => t.typeId)])).toEqual([
      [companyAt(0), [1, 279]],
      [companyAt(1), [279]],
    ]);
    expect((await associationTruth()).some((a) => a.contactId === secondary)).toBe(false);
    const added = (await associationEvents()).filter(
      (e) => e.objectId === Number(survivor.id) && String(e.toObjectId) === companyAt(1),
    );
    expect(added.length).toBeGreaterThan(0);
  });
});

describe('refusals in HubSpot error shape', () => {
  test('an unknown contact is a 404', async () => {
    const error = await apiError(
      client.crm.associations.v4.basicApi.createDefault('contacts', '999999999', 'companies', companyAt(0)),
    );
    expect(error.code).toBe(404);
    expect(error.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND' });
    assertMatchesSchema('crm-contacts-v3', 'Error', error.body);
  });

  test('an unknown company is a 404 naming it', async () => {
    const response = await api(
      simulator,
      'PUT',
      `/crm/v4/objects/contacts/${contactAt(0)}/associations/default/companies/12345`,
    );
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ category: 'OBJECT_NOT_FOUND', context: { id: ['12345'] } });
    assertMatchesSchema('crm-contacts-v3', 'Error', response.body);
  });

  test('an undefined association type is a 400 and changes nothing', async () => {
    const before = await associationTruth();
    const error = await apiError(
      client.crm.associations.v4.basicApi.create('contacts', contactAt(30), 'companies', companyAt(0), [
        { associationCategory: Category.HubspotDefined, associationTypeId: 279 },
        { associationCategory: Category.HubspotDefined, associationTypeId: 101 },
      ]),
    );
    expect(error.code).toBe(400);
    expect(error.body.message).toContain('101');
    assertMatchesSchema('crm-contacts-v3', 'Error', error.body);
    expect(await associationTruth()).toEqual(before);
  });

  test('an object type HubSpot cannot name is a 400', async () => {
    const response = await api(
      simulator,
      'GET',
      `/crm/v4/objects/contacts/${contactAt(0)}/associations/widgets`,
    );
    expect(response.status).toBe(400);
    expect(response.body.message).toBe('Unable to infer object type from: widgets');
  });

  test('a batch read without inputs, or with too many, is a 400', async () => {
    const missing = await api(simulator, 'POST', '/crm/v4/associations/contacts/companies/batch/read', {});
    expect(missing.status).toBe(400);
    expect(missing.body.message).toContain('inputs');
    const tooMany = await api(simulator, 'POST', '/crm/v4/associations/contacts/companies/batch/read', {
      inputs: Array.from({ length: 1001 }, (_, i) => ({ id: String(i) })),
    });
    expect(tooMany.status).toBe(400);
  });

  test('associations need a token', async () => {
    const response = await api(
      simulator,
      'GET',
      `/crm/v4/objects/contacts/${contactAt(0)}/associations/companies`,
      undefined,
      null,
    );
    expect(response.status).toBe(401);
  });
});

describe('activity', () => {
  test('portal activity links and unlinks companies, and fires association webhooks for it', async () => {
    const report = await simulator.runActivity(300);
    expect(report.byKind.associate).toBeGreaterThan(0);
    expect(report.byKind.dissociate).toBeGreaterThan(0);
    const events = await associationEvents();
    expect(events.some((e) => e.changeSource === 'CRM_UI' && !e.associationRemoved)).toBe(true);
    expect(events.some((e) => e.changeSource === 'CRM_UI' && e.associationRemoved)).toBe(true);
  });
});
