import type { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.ts';
import {
  api,
  assertMatchesSchema,
  type Json,
  sdkClient,
  sleep,
  startSimulator,
  type TruthContact,
  truth,
} from './helpers.ts';

let simulator: Simulator;
let client: Client;
let live: TruthContact[];

beforeAll(async () => {
  // Just over 10,000 live contacts, so the 10,000-result cap is reachable.
  simulator = await startSimulator({ contacts: 10_400, seed: 'search' });
  client = sdkClient(simulator);
  live = (await truth(simulator)).filter((contact) => !contact.archived);
});
afterAll(() => simulator.stop());

type Filter = { propertyName: string; operator: Json; value?: string; highValue?: string; values?: string[] };

async function searchAll(filterGroups: { filters: Filter[] }[], sorts: string[] = []): Promise<string[]> {
  const ids: string[] = [];
  let after: string | undefined;
  do {
    const page = await client.crm.contacts.searchApi.doSearch({
      filterGroups,
      sorts,
      properties: ['email'],
      limit: 200,
      after: after as string,
    });
    ids.push(...page.results.map((contact) => contact.id));
    after = page.paging?.next?.after;
  } while (after);
  return ids;
}

const ms = (iso: string | undefined) => Date.parse(iso ?? '');

describe('search through the official SDK', () => {
  test('EQ on email is case-insensitive and finds exactly that contact', async () => {
    const target = live[42] as TruthContact;
    const ids = await searchAll([
      { filters: [{ propertyName: 'email', operator: 'EQ', value: target.properties.email?.toUpperCase() }] },
    ]);
    expect(ids).toEqual([target.id]);
  });

  test('a lastmodifieddate window with epoch-ms values, sorted ascending, matches the truth in order', async () => {
    const sorted = [...live].sort(
      (a, b) => ms(a.properties.lastmodifieddate) - ms(b.properties.lastmodifieddate),
    );
    const low = ms(sorted[100]?.properties.lastmodifieddate);
    const high = ms(sorted[400]?.properties.lastmodifieddate);
    const expected = live
      .filter((c) => ms(c.properties.lastmodifieddate) >= low && ms(c.properties.lastmodifieddate) < high)
      .sort(
        (a, b) =>
          ms(a.properties.lastmodifieddate) - ms(b.properties.lastmodifieddate) ||
          Number(a.id) - Number(b.id),
      )
      .map((c) => c.id);
    const ids = await searchAll(
      [
        {
          filters: [
            { propertyName: 'lastmodifieddate', operator: 'GTE', value: String(low) },
            { propertyName: 'lastmodifieddate', operator: 'LT', value: String(high) },
          ],
        },
      ],
      ['lastmodifieddate'],
    );
    expect(ids).toEqual(expected);
  });

  test('seeded bulk imports give many contacts one shared lastmodifieddate', () => {
    const counts = new Map<string, number>();
    for (const c of live)
      counts.set(
        c.properties.lastmodifieddate ?? '',
        (counts.get(c.properties.lastmodifieddate ?? '') ?? 0) + 1,
      );
    expect(Math.max(...counts.values())).toBeGreaterThan(100);
  });

  test('IN, BETWEEN, HAS_PROPERTY, NOT_HAS_PROPERTY, NEQ and CONTAINS_TOKEN filter like HubSpot', async () => {
    const check = async (filter: Filter, predicate: (c: TruthContact) => boolean) => {
      const ids = await searchAll([
        { filters: [filter, { propertyName: 'company', operator: 'EQ', value: 'acme corporation' }] },
      ]);
      const expected = live
        .filter((c) => c.properties.company === 'Acme Corporation' && predicate(c))
        .map((c) => c.id);
      expect(ids.length).toBeGreaterThan(0);
      expect(ids).toEqual(expected);
    };
    await check({ propertyName: 'lifecyclestage', operator: 'IN', values: ['lead', 'customer'] }, (c) =>
      ['lead', 'customer'].includes(c.properties.lifecyclestage ?? ''),
    );
    await check({ propertyName: 'nps_score', operator: 'BETWEEN', value: '3', highValue: '7' }, (c) => {
      const score = Number(c.properties.nps_score ?? Number.NaN);
      return score >= 3 && score <= 7;
    });
    await check({ propertyName: 'phone', operator: 'HAS_PROPERTY' }, (c) => c.properties.phone !== undefined);
    await check(
      { propertyName: 'jobtitle', operator: 'NOT_HAS_PROPERTY' },
      (c) => c.properties.jobtitle === undefined,
    );
    await check(
      { propertyName: 'country', operator: 'NEQ', value: 'United States' },
      (c) => c.properties.country !== 'United States',
    );
    await check({ propertyName: 'email', operator: 'CONTAINS_TOKEN', value: '*@gmail.com' }, (c) =>
      (c.properties.email ?? '').endsWith('@gmail.com'),
    );
  });

  test('a free-text query matches name, email and company words by prefix', async () => {
    const target = live[99] as TruthContact;
    const first = target.properties.firstname as string;
    const last = target.properties.lastname as string;
    const page = await client.crm.contacts.searchApi.doSearch({
      query: `${first.slice(0, 3)} ${last}`,
      limit: 200,
      filterGroups: [],
      sorts: [],
      properties: ['firstname', 'lastname'],
      after: '0',
    });
    const expected = live.filter(
      (c) =>
        c.properties.lastname === last &&
        [c.properties.firstname, c.properties.lastname, c.properties.company, c.properties.email].some((v) =>
          (v ?? '')
            .toLowerCase()
            .split(/[^a-z0-9]+/)
            .some((word) => word.startsWith(first.slice(0, 3).toLowerCase())),
        ),
    );
    expect(page.results.map((c) => c.id)).toContain(target.id);
    expect(page.total).toBe(expected.length);
  });

  test('filter groups are ORed together', async () => {
    const [a, b] = [live[1] as TruthContact, live[2] as TruthContact];
    const ids = await searchAll([
      { filters: [{ propertyName: 'email', operator: 'EQ', value: a.properties.email }] },
      { filters: [{ propertyName: 'hs_object_id', operator: 'EQ', value: b.id }] },
    ]);
    expect(ids).toEqual([a.id, b.id]);
  });

  test('the answer validates against the OpenAPI schema and carries the total', async () => {
    const response = await api(simulator, 'POST', '/crm/v3/objects/contacts/search', {
      filterGroups: [{ filters: [{ propertyName: 'lifecyclestage', operator: 'EQ', value: 'customer' }] }],
      properties: ['email', 'lifecyclestage'],
      limit: 200,
    });
    expect(response.status).toBe(200);
    assertMatchesSchema('crm-contacts-v3', 'CollectionResponseWithTotalSimplePublicObject', response.body);
    expect(response.body.total).toBe(live.filter((c) => c.properties.lifecyclestage === 'customer').length);
    expect(response.body.results).toHaveLength(200);
    expect(response.body.paging.next.after).toBe('200');
  });

  test('paging stops at 10,000 results: the cursor past it is refused with a 400', async () => {
    expect(live.length).toBeGreaterThan(10_000);
    const last = await client.crm.contacts.searchApi.doSearch({
      limit: 200,
      after: '9800',
      filterGroups: [],
      sorts: [],
      properties: [],
    });
    expect(last.total).toBe(live.length);
    expect(last.results).toHaveLength(200);
    expect(last.paging?.next?.after).toBe('10000');
    const beyond = await api(simulator, 'POST', '/crm/v3/objects/contacts/search', {
      limit: 200,
      after: '10000',
    });
    expect(beyond.status).toBe(400);
    expect(beyond.body.category).toBe('VALIDATION_ERROR');
  });

  test('a lastmodifieddate search sees writes made after seeding: updates, creations and archivals', async () => {
    const since = Date.now() - 1000;
    const [edited, removed] = [live[300] as TruthContact, live[301] as TruthContact];
    await client.crm.contacts.basicApi.update(edited.id, { properties: { jobtitle: 'Fresh' } });
    const created = await client.crm.contacts.basicApi.create({
      properties: { email: 'new@fresh.io' },
      associations: [],
    });
    await client.crm.contacts.basicApi.update(removed.id, { properties: { jobtitle: 'Gone soon' } });
    await client.crm.contacts.basicApi.archive(removed.id);
    const ids = await searchAll(
      [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE', value: String(since) }] }],
      ['lastmodifieddate'],
    );
    expect(ids).toEqual([edited.id, created.id]);
  });

  test('archived contacts are never returned', async () => {
    const victim = live[7] as TruthContact;
    await client.crm.contacts.basicApi.archive(victim.id);
    const ids = await searchAll([
      { filters: [{ propertyName: 'email', operator: 'EQ', value: victim.properties.email }] },
    ]);
    expect(ids).toEqual([]);
    const archivedIds = new Set((await truth(simulator)).filter((c) => c.archived).map((c) => c.id));
    const page = await client.crm.contacts.searchApi.doSearch({
      limit: 200,
      filterGroups: [],
      sorts: [],
      properties: [],
      after: '0',
    });
    expect(page.results.some((c) => archivedIds.has(c.id))).toBe(false);
  });

  test('requests beyond the documented limits are 400s', async () => {
    const filter = { propertyName: 'email', operator: 'HAS_PROPERTY' };
    const search = (body: unknown) => api(simulator, 'POST', '/crm/v3/objects/contacts/search', body);
    expect((await search({ filterGroups: Array(6).fill({ filters: [filter] }) })).status).toBe(400);
    expect((await search({ filterGroups: [{ filters: Array(7).fill(filter) }] })).status).toBe(400);
    expect((await search({ filterGroups: Array(4).fill({ filters: Array(5).fill(filter) }) })).status).toBe(
      400,
    );
    expect((await search({ filterGroups: Array(3).fill({ filters: Array(6).fill(filter) }) })).status).toBe(
      200,
    );
    expect((await search({ limit: 201 })).status).toBe(400);
    expect((await search({ sorts: ['email', 'firstname'] })).status).toBe(400);
    expect(
      (await search({ filterGroups: [{ filters: [{ propertyName: 'nope', operator: 'EQ', value: '1' }] }] }))
        .status,
    ).toBe(400);
  });
});

describe('search lag and search rate limit', () => {
  test('with indexing lag a new contact shows up in search only after the lag', async () => {
    const lagging = await startSimulator({ contacts: 20, searchLagMs: 300 });
    try {
      const sdk = sdkClient(lagging);
      await sdk.crm.contacts.basicApi.create({ properties: { email: 'late@index.io' }, associations: [] });
      const body = {
        filterGroups: [{ filters: [{ propertyName: 'email', operator: 'EQ', value: 'late@index.io' }] }],
      };
      const early = await api(lagging, 'POST', '/crm/v3/objects/contacts/search', body);
      expect(early.body.total).toBe(0);
      await sleep(350);
      const later = await api(lagging, 'POST', '/crm/v3/objects/contacts/search', body);
      expect(later.body.total).toBe(1);
    } finally {
      await lagging.stop();
    }
  });

  test('a sixth search within a second is a 429 with policy SECONDLY and no rate-limit headers', async () => {
    const limited = await startSimulator({ contacts: 20, rateLimit: '190/10s' });
    try {
      const answers = [];
      for (let i = 0; i < 6; i++)
        answers.push(await api(limited, 'POST', '/crm/v3/objects/contacts/search', {}));
      expect(answers.slice(0, 5).map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
      const refused = answers[5];
      expect(refused?.status).toBe(429);
      expect(refused?.body).toMatchObject({
        status: 'error',
        policyName: 'SECONDLY',
        errorType: 'RATE_LIMIT',
      });
      expect(refused?.headers.get('x-hubspot-ratelimit-max')).toBeNull();
      expect(answers[0]?.headers.get('x-hubspot-ratelimit-max')).toBeNull();
      // Search has its own budget: ordinary calls still go through.
      expect((await api(limited, 'GET', '/crm/v3/objects/contacts')).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });
});
