import type { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.ts';
import { api, assertMatchesSchema, type Json, sdkClient, startSimulator, truth } from './helpers.ts';

let simulator: Simulator;
let client: Client;

beforeAll(async () => {
  simulator = await startSimulator({ contacts: 260, seed: 'contract' });
  client = sdkClient(simulator);
});
afterAll(() => simulator.stop());

async function apiError(
  call: Promise<unknown>,
): Promise<{ code: number; body: Json; headers: Record<string, string> }> {
  try {
    await call;
  } catch (error) {
    const { code, body, headers } = error as { code: number; body: unknown; headers: Record<string, string> };
    return { code, body: typeof body === 'string' ? JSON.parse(body) : body, headers };
  }
  throw new Error('expected the call to fail');
}

describe('listing contacts through the official SDK', () => {
  test('getPage cursors walk every live contact once, in id order, and the last page has no next cursor', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await client.crm.contacts.basicApi.getPage(100, after, ['email', 'phone']);
      assertMatchesSchema(
        'crm-contacts-v3',
        'CollectionResponseSimplePublicObjectWithAssociationsForwardPaging',
        {
          ...page,
          results: page.results.map((contact) => ({
            ...contact,
            createdAt: contact.createdAt.toISOString(),
            updatedAt: contact.updatedAt.toISOString(),
          })),
        },
      );
      seen.push(...page.results.map((contact) => contact.id));
      after = page.paging?.next?.after;
      pages++;
    } while (after);
    const live = (await truth(simulator)).filter((contact) => !contact.archived).map((contact) => contact.id);
    expect(seen).toEqual(live);
    expect(pages).toBe(Math.ceil(live.length / 100));
  });

  test('getAll returns every live contact and no archived or merged-away one', async () => {
    const all = await client.crm.contacts.getAll(100);
    const everything = await truth(simulator);
    const live = everything.filter((contact) => !contact.archived);
    expect(everything.some((contact) => contact.mergedInto !== null)).toBe(true);
    expect(all.map((contact) => contact.id).sort()).toEqual(live.map((contact) => contact.id).sort());
  });

  test('a raw list answer validates against the OpenAPI schema, JSON content type and null for unset properties', async () => {
    const response = await api(
      simulator,
      'GET',
      '/crm/v3/objects/contacts?limit=100&properties=email,mobilephone',
    );
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    assertMatchesSchema(
      'crm-contacts-v3',
      'CollectionResponseSimplePublicObjectWithAssociationsForwardPaging',
      response.body,
    );
    const properties = response.body.results.map((contact: Json) => contact.properties);
    // Comma lists work like repeated keys; an unset requested property is null, never missing.
    expect(properties.every((p: Json) => 'email' in p && 'mobilephone' in p)).toBe(true);
    expect(properties.some((p: Json) => p.mobilephone === null)).toBe(true);
    expect(Object.keys(properties[0]).sort()).toEqual(
      ['createdate', 'email', 'hs_object_id', 'lastmodifieddate', 'mobilephone'].sort(),
    );
  });

  test('archived=true lists only archived contacts', async () => {
    const page = await client.crm.contacts.basicApi.getPage(
      100,
      undefined,
      undefined,
      undefined,
      undefined,
      true,
    );
    const deleted = (await truth(simulator)).filter((c) => c.archived && c.mergedInto === null);
    expect(page.results.length).toBeGreaterThan(0);
    expect(page.results.every((contact) => contact.archived)).toBe(true);
    expect(page.results.map((c) => c.id)).toEqual(deleted.map((c) => c.id).slice(0, page.results.length));
  });

  test('a limit above 100 is refused with a 400 in HubSpot error envelope', async () => {
    const response = await api(simulator, 'GET', '/crm/v3/objects/contacts?limit=101');
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    assertMatchesSchema('crm-contacts-v3', 'Error', response.body);
  });
});

describe('reading contacts by id', () => {
  test('a merged-away id answers with the survivor, whose id differs', async () => {
    const merged = (await truth(simulator)).find((contact) => contact.mergedInto !== null);
    expect(merged).toBeDefined();
    const contact = await client.crm.contacts.basicApi.getById(merged?.id as string, [
      'hs_merged_object_ids',
    ]);
    expect(contact.id).toBe(merged?.mergedInto);
    expect(contact.properties.hs_merged_object_ids?.split(';')).toContain(merged?.id);
  });

  test('an unknown id is a 404 ApiException with HubSpot error body', async () => {
    const error = await apiError(client.crm.contacts.basicApi.getById('999999999'));
    expect(error.code).toBe(404);
    expect(error.body).toMatchObject({ status: 'error', category: 'OBJECT_NOT_FOUND' });
    expect(error.body.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('batch read with a missing id answers 207 with the found contacts and an error naming the missing id', async () => {
    const live = (await truth(simulator)).filter((contact) => !contact.archived).slice(0, 3);
    const response = await client.crm.contacts.batchApi.readWithHttpInfo({
      inputs: [...live.map((contact) => ({ id: contact.id })), { id: '424242424' }],
      properties: ['email'],
      propertiesWithHistory: [],
    });
    expect(response.httpStatusCode).toBe(207);
    expect(response.data.results.map((contact) => contact.id).sort()).toEqual(live.map((c) => c.id).sort());
    const raw = await api(simulator, 'POST', '/crm/v3/objects/contacts/batch/read', {
      inputs: [{ id: live[0]?.id }, { id: '424242424' }],
      properties: ['email'],
      propertiesWithHistory: [],
    });
    expect(raw.status).toBe(207);
    assertMatchesSchema('crm-contacts-v3', 'BatchResponseSimplePublicObjectWithErrors', raw.body);
    expect(raw.body.errors[0]).toMatchObject({
      category: 'OBJECT_NOT_FOUND',
      context: { ids: ['424242424'] },
    });
  });

  test('batch read answers 200 when every id is found and refuses more than 100 inputs', async () => {
    const live = (await truth(simulator)).filter((contact) => !contact.archived);
    const ok = await api(simulator, 'POST', '/crm/v3/objects/contacts/batch/read', {
      inputs: live.slice(0, 2).map((contact) => ({ id: contact.id })),
      properties: [],
      propertiesWithHistory: [],
    });
    expect(ok.status).toBe(200);
    assertMatchesSchema('crm-contacts-v3', 'BatchResponseSimplePublicObject', ok.body);
    const tooMany = await api(simulator, 'POST', '/crm/v3/objects/contacts/batch/read', {
      inputs: live.slice(0, 101).map((contact) => ({ id: contact.id })),
      properties: [],
      propertiesWithHistory: [],
    });
    expect(tooMany.status).toBe(400);
  });
});

describe('writing contacts through the official SDK', () => {
  test('create, update and archive change the portal and the lastmodifieddate', async () => {
    const created = await client.crm.contacts.basicApi.create({
      properties: { email: 'ada.lovelace@analytical.engine', firstname: 'Ada', lifecyclestage: 'lead' },
      associations: [],
    });
    expect(created.properties.email).toBe('ada.lovelace@analytical.engine');
    const createdRaw = await api(simulator, 'GET', `/crm/v3/objects/contacts/${created.id}`);
    assertMatchesSchema('crm-contacts-v3', 'SimplePublicObjectWithAssociations', createdRaw.body);

    await new Promise((resolve) => setTimeout(resolve, 5));
    const updated = await client.crm.contacts.basicApi.update(created.id, {
      properties: { lifecyclestage: 'customer', phone: '+1 555 0100' },
    });
    expect(updated.properties.lifecyclestage).toBe('customer');
    expect(Date.parse(updated.properties.lastmodifieddate as string)).toBeGreaterThan(
      Date.parse(created.properties.lastmodifieddate as string),
    );

    await client.crm.contacts.basicApi.archive(created.id);
    const error = await apiError(client.crm.contacts.basicApi.getById(created.id));
    expect(error.code).toBe(404);
    const archived = await client.crm.contacts.basicApi.getById(
      created.id,
      ['email'],
      undefined,
      undefined,
      true,
    );
    expect(archived.archived).toBe(true);
    expect(archived.archivedAt).toBeInstanceOf(Date);
  });

  test('creating a contact with an email that exists is a 409 naming the existing id', async () => {
    const existing = (await truth(simulator)).find((contact) => !contact.archived) as {
      id: string;
      properties: Json;
    };
    const error = await apiError(
      client.crm.contacts.basicApi.create({
        properties: { email: existing.properties.email },
        associations: [],
      }),
    );
    expect(error.code).toBe(409);
    expect(error.body.message).toContain(`Existing ID: ${existing.id}`);
  });

  test('unknown and read-only properties are refused together in one 400', async () => {
    const error = await apiError(
      client.crm.contacts.basicApi.create({
        properties: { email: 'x@y.zz', no_such_property: '1', hs_object_id: '5', lifecyclestage: 'royalty' },
        associations: [],
      }),
    );
    expect(error.code).toBe(400);
    expect(error.body.category).toBe('VALIDATION_ERROR');
    expect(error.body.errors.map((e: Json) => e.code).sort()).toEqual(
      ['INVALID_OPTION', 'PROPERTY_DOESNT_EXIST', 'READ_ONLY_VALUE'].sort(),
    );
  });

  test('merge keeps the primary, absorbs the other and lists it in hs_merged_object_ids', async () => {
    const [a, b] = await Promise.all(
      ['grace.hopper@navy.mil', 'alan.turing@bletchley.uk'].map((email, index) =>
        client.crm.contacts.basicApi.create({
          properties: { email, ...(index === 1 ? { jobtitle: 'Mathematician' } : {}) },
          associations: [],
        }),
      ),
    );
    const survivor = await client.crm.contacts.basicApi.merge({
      primaryObjectId: a?.id as string,
      objectIdToMerge: b?.id as string,
    });
    expect(survivor.properties.email).toBe('grace.hopper@navy.mil');
    expect(survivor.properties.jobtitle).toBe('Mathematician');
    expect(survivor.properties.hs_merged_object_ids?.split(';')).toContain(b?.id);
    const viaOldId = await client.crm.contacts.basicApi.getById(b?.id as string);
    expect(viaOldId.id).toBe(survivor.id);
    const rows = await truth(simulator);
    expect(rows.find((row) => row.id === b?.id)).toMatchObject({ archived: true, mergedInto: survivor.id });
  });

  test('a merge can produce a brand-new record that both old ids then resolve to', async () => {
    const alwaysNew = await startSimulator({ contacts: 10, mergeNewIdRate: 1 });
    try {
      const sdk = sdkClient(alwaysNew);
      const first = String(alwaysNew.portal.plan.idBase);
      const second = String(alwaysNew.portal.plan.idBase + 1);
      const survivor = await sdk.crm.contacts.basicApi.merge({
        primaryObjectId: first,
        objectIdToMerge: second,
      });
      expect([first, second]).not.toContain(survivor.id);
      expect(survivor.properties.hs_merged_object_ids).toBe(`${first};${second}`);
      expect((await sdk.crm.contacts.basicApi.getById(first)).id).toBe(survivor.id);
      expect((await sdk.crm.contacts.basicApi.getById(second)).id).toBe(survivor.id);
    } finally {
      await alwaysNew.stop();
    }
  });

  test('a GDPR delete erases the contact for good', async () => {
    const contact = await client.crm.contacts.basicApi.create({
      properties: { email: 'forget.me@privacy.eu', firstname: 'Forget' },
      associations: [],
    });
    await client.crm.contacts.basicApi.purge({ objectId: contact.id });
    expect((await apiError(client.crm.contacts.basicApi.getById(contact.id))).code).toBe(404);
    const archived = await api(simulator, 'GET', `/crm/v3/objects/contacts/${contact.id}?archived=true`);
    expect(archived.status).toBe(404);
    const row = (await truth(simulator)).find((c) => c.id === contact.id);
    expect(row?.archived).toBe(true);
    expect(row?.properties.email).toBeUndefined();
  });
});

describe('property definitions', () => {
  test('GET /crm/v3/properties/contacts lists definitions in HubSpot shape', async () => {
    const response = await api(simulator, 'GET', '/crm/v3/properties/contacts');
    assertMatchesSchema('crm-properties-v3', 'CollectionResponsePropertyNoPaging', response.body);
    const names = response.body.results.map((property: Json) => property.name);
    expect(names).toEqual(
      expect.arrayContaining(['email', 'lifecyclestage', 'lastmodifieddate', 'customer_tier']),
    );
    const viaSdk = await client.crm.properties.coreApi.getAll('contacts');
    expect(viaSdk.results.find((p) => p.name === 'lifecyclestage')?.options.length).toBeGreaterThan(3);
  });
});

describe('answers outside the API', () => {
  test('unknown routes and missing credentials answer in HubSpot envelopes', async () => {
    const missing = await api(simulator, 'GET', '/crm/v3/objects/widgets');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/^application\/json/);
    const unauthenticated = await api(simulator, 'GET', '/crm/v3/objects/contacts', undefined, null);
    expect(unauthenticated.status).toBe(401);
    expect(unauthenticated.body.category).toBe('INVALID_AUTHENTICATION');
    const badToken = await api(simulator, 'GET', '/crm/v3/objects/contacts', undefined, 'not-a-token');
    expect(badToken.status).toBe(401);
  });
});
