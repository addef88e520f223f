import type { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { generateCustomProperties, seededCustomValues } from '../../src/sim/custom-properties.ts';
import type { Simulator } from '../../src/sim/simulator.ts';
import { MAX_URL_LENGTH } from '../../src/sim/url-limit.ts';
import { api, assertMatchesSchema, type Json, sdkClient, startSimulator } from './helpers.ts';

let simulator: Simulator;
let hubspot: Client;

beforeAll(async () => {
  simulator = await startSimulator({ contacts: 20, seed: 'properties' });
  hubspot = sdkClient(simulator);
});
afterAll(() => simulator.stop());

const control = (method: string, path: string, body?: unknown) => api(simulator, method, path, body, null);

async function liveNames(archived = false): Promise<string[]> {
  const answer = await hubspot.crm.properties.coreApi.getAll('contacts', archived);
  return answer.results.map((property) => property.name);
}

async function firstContactId(): Promise<string> {
  const page = await hubspot.crm.contacts.basicApi.getPage(1);
  return page.results[0]?.id as string;
}

describe('property definitions', () => {
  test('a portal has hundreds of definitions, HubSpot-defined and its own, in the spec shape', async () => {
    const answer = await api(simulator, 'GET', '/crm/v3/properties/contacts');
    expect(answer.status).toBe(200);
    assertMatchesSchema('crm-properties-v3', 'CollectionResponsePropertyNoPaging', answer.body);
    const results: Json[] = answer.body.results;
    expect(results.length).toBeGreaterThan(300);
    expect(results.find((p) => p.name === 'email')).toMatchObject({ hubspotDefined: true, archived: false });
    const custom = results.filter((p) => !p.hubspotDefined);
    expect(custom.length).toBeGreaterThanOrEqual(300);
    expect(new Set(custom.map((p) => p.groupName)).size).toBeGreaterThan(5);
    expect(new Set(custom.map((p) => p.type))).toEqual(
      new Set(['string', 'number', 'enumeration', 'bool', 'date', 'datetime']),
    );
    expect(new Set(results.map((p) => p.name)).size).toBe(results.length);
  });

  test('the generated definitions are the same for a seed and differ between seeds', () => {
    const names = (seed: number) => generateCustomProperties(seed, 50).map((p) => p.name);
    expect(names(7)).toEqual(names(7));
    expect(names(7)).not.toEqual(names(8));
  });

  test('a property created through the SDK is listed, takes values and is read back on contacts', async () => {
    const created = await hubspot.crm.properties.coreApi.createWithHttpInfo('contacts', {
      name: 'loyalty_level',
      label: 'Loyalty level',
      type: 'enumeration' as never,
      fieldType: 'select' as never,
      groupName: 'contactinformation',
      options: [
        { label: 'Gold', value: 'gold', hidden: false, displayOrder: 0 },
        { label: 'Silver', value: 'silver', hidden: false, displayOrder: 1 },
      ],
    });
    expect(created.httpStatusCode).toBe(201);
    const raw = await api(simulator, 'GET', '/crm/v3/properties/contacts/loyalty_level');
    assertMatchesSchema('crm-properties-v3', 'Property', raw.body);
    expect(raw.body).toMatchObject({ name: 'loyalty_level', archived: false });
    expect(raw.body).not.toHaveProperty('hubspotDefined');
    expect(await liveNames()).toContain('loyalty_level');

    const id = await firstContactId();
    await hubspot.crm.contacts.basicApi.update(id, { properties: { loyalty_level: 'gold' } });
    const read = await hubspot.crm.contacts.basicApi.getById(id, ['loyalty_level']);
    expect(read.properties.loyalty_level).toBe('gold');
  });

  test('an archived property leaves the list, shows only with archived=true, and refuses values', async () => {
    await control('POST', '/__sim/properties', { name: 'legacy_segment' });
    const id = await firstContactId();
    await hubspot.crm.contacts.basicApi.update(id, { properties: { legacy_segment: 'north' } });

    const archived = await hubspot.crm.properties.coreApi.archiveWithHttpInfo('contacts', 'legacy_segment');
    expect(archived.httpStatusCode).toBe(204);
    expect(await liveNames()).not.toContain('legacy_segment');
    const bin = await api(simulator, 'GET', '/crm/v3/properties/contacts?archived=true');
    assertMatchesSchema('crm-properties-v3', 'CollectionResponsePropertyNoPaging', bin.body);
    expect(bin.body.results.map((p: Json) => p.name)).toEqual(['legacy_segment']);
    expect(bin.body.results[0]).toMatchObject({ archived: true, archivedAt: expect.any(String) });
    expect((await api(simulator, 'GET', '/crm/v3/properties/contacts/legacy_segment')).status).toBe(404);

    // Its values are hidden from reads, and writing one is HubSpot's unknown-property error.
    const read = await hubspot.crm.contacts.basicApi.getById(id, ['legacy_segment', 'email']);
    expect(read.properties).not.toHaveProperty('legacy_segment');
    const write = await api(simulator, 'PATCH', `/crm/v3/objects/contacts/${id}`, {
      properties: { legacy_segment: 'south' },
    });
    expect(write.status).toBe(400);
    assertMatchesSchema('crm-contacts-v3', 'Error', write.body);
    expect(write.body.errors[0]).toMatchObject({ code: 'PROPERTY_DOESNT_EXIST' });
  });

  test("an enumeration's options change: a new option is accepted, a removed one refused", async () => {
    await control('POST', '/__sim/properties', {
      name: 'plan_choice',
      type: 'enumeration',
      options: [{ label: 'Free', value: 'free' }],
    });
    const changed = await control('PATCH', '/__sim/properties/plan_choice', {
      options: [{ label: 'Team', value: 'team' }],
    });
    expect(changed.status).toBe(200);
    assertMatchesSchema('crm-properties-v3', 'Property', changed.body);
    const id = await firstContactId();
    const accepted = await api(simulator, 'PATCH', `/crm/v3/objects/contacts/${id}`, {
      properties: { plan_choice: 'team' },
    });
    expect(accepted.status).toBe(200);
    const refused = await api(simulator, 'PATCH', `/crm/v3/objects/contacts/${id}`, {
      properties: { plan_choice: 'free' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors[0]).toMatchObject({ code: 'INVALID_OPTION' });
  });

  test('definition writes HubSpot refuses are refused in its error shape', async () => {
    const cases: [string, string, unknown, number, RegExp][] = [
      [
        'POST',
        '/crm/v3/properties/contacts',
        { name: 'email', label: 'E', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
        409,
        /already exists/,
      ],
      [
        'POST',
        '/crm/v3/properties/contacts',
        { name: 'Bad Name', label: 'B', type: 'string', fieldType: 'text', groupName: 'contactinformation' },
        400,
        /lowercase/,
      ],
      [
        'POST',
        '/crm/v3/properties/contacts',
        {
          name: 'no_options',
          label: 'N',
          type: 'enumeration',
          fieldType: 'select',
          groupName: 'contactinformation',
        },
        400,
        /option/,
      ],
      [
        'POST',
        '/crm/v3/properties/contacts',
        {
          name: 'odd_field',
          label: 'O',
          type: 'number',
          fieldType: 'radio',
          groupName: 'contactinformation',
        },
        400,
        /fieldType/,
      ],
      [
        'POST',
        '/crm/v3/properties/contacts',
        { name: 'lost_group', label: 'L', type: 'string', fieldType: 'text', groupName: 'nowhere' },
        400,
        /group nowhere/,
      ],
      ['POST', '/crm/v3/properties/contacts', { label: 'no name' }, 400, /name/],
      ['DELETE', '/crm/v3/properties/contacts/email', undefined, 400, /HubSpot defined/],
      ['DELETE', '/crm/v3/properties/contacts/never_was', undefined, 404, /never_was/],
      ['PATCH', '/crm/v3/properties/contacts/firstname', { label: 'Given name' }, 400, /HubSpot defined/],
    ];
    for (const [method, path, body, status, message] of cases) {
      const answer = await api(simulator, method, path, body);
      expect({ method, path, status: answer.status }).toEqual({ method, path, status });
      assertMatchesSchema('crm-properties-v3', 'Error', answer.body);
      expect(answer.body.message).toMatch(message);
    }
  });
});

describe('long property lists', () => {
  const names = generateCustomProperties(1, 600).map((p) => p.name);

  test('a list call naming 600 properties in its URL is refused with a 414, as HubSpot does', async () => {
    const query = names.map((name) => `properties=${name}`).join('&');
    expect(`/crm/v3/objects/contacts?${query}`.length).toBeGreaterThan(MAX_URL_LENGTH);
    const answer = await api(simulator, 'GET', `/crm/v3/objects/contacts?limit=10&${query}`);
    expect(answer.status).toBe(414);
    assertMatchesSchema('crm-contacts-v3', 'Error', answer.body);
    expect(answer.body.message).toMatch(/URL/);
  });

  test('batch read takes the same 600 properties in its body', async () => {
    const id = await firstContactId();
    const answer = await api(simulator, 'POST', '/crm/v3/objects/contacts/batch/read', {
      inputs: [{ id }],
      properties: names,
      propertiesWithHistory: [],
    });
    expect(answer.status).toBe(200);
    expect(answer.body.results[0].id).toBe(id);
  });
});

describe("seeded contacts' custom values", () => {
  test('are sparse, typed by their definitions and the same at every read', () => {
    const definitions = generateCustomProperties(3);
    const byName = new Map(definitions.map((definition) => [definition.name, definition]));
    const anchor = Date.UTC(2026, 0, 1);
    const all = Array.from({ length: 200 }, (_, index) => seededCustomValues(definitions, 3, index, anchor));
    expect(seededCustomValues(definitions, 3, 7, anchor)).toEqual(all[7]);
    const counts = all.map((values) => Object.keys(values).length);
    expect(Math.max(...counts)).toBeLessThanOrEqual(24);
    expect(counts.reduce((a, b) => a + b, 0) / all.length).toBeLessThan(definitions.length / 10);
    for (const values of all) {
      for (const [name, value] of Object.entries(values)) {
        const definition = byName.get(name);
        if (definition?.type === 'number') expect(Number.isNaN(Number(value))).toBe(false);
        if (definition?.options.length) expect(definition.options.map((o) => o.value)).toContain(value);
        if (definition?.type === 'date') expect(value).toMatch(/T00:00:00\.000Z$/);
      }
    }
  });
});
