import type { Client } from '@hubspot/api-client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { WebhookEvent } from '../../src/hubspot/webhook-events.ts';
import { MAX_VERSIONS_PER_PROPERTY } from '../../src/sim/history.ts';
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

const USER = { changeSource: 'CRM_UI', sourceId: 'userId:1000007' };

let simulator: Simulator;
let receiver: Receiver;
let client: Client;

beforeAll(async () => {
  receiver = await startReceiver();
  simulator = await startSimulator({ contacts: 300, seed: 'realism', webhookUrl: receiver.url });
  client = sdkClient(simulator);
});
afterAll(async () => {
  await simulator.stop();
  await receiver.close();
});

async function drain(): Promise<void> {
  await fetch(`${simulator.url}/__sim/webhooks/drain`, { method: 'POST' });
}

async function control(path: string, body: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${simulator.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

async function createContact(properties: Record<string, string>) {
  return client.crm.contacts.basicApi.create({ properties, associations: [] });
}

describe('property history', () => {
  test('every value a property takes is kept, newest first, with its own timestamp and source', async () => {
    const contact = await createContact({ email: 'ada@history.test', jobtitle: 'Analyst' });
    simulator.portal.update(Number(contact.id), { jobtitle: 'Engineer' }, USER);
    await client.crm.contacts.basicApi.update(contact.id, { properties: { jobtitle: 'Architect' } });

    const raw = await api(
      simulator,
      'GET',
      `/crm/v3/objects/contacts/${contact.id}?propertiesWithHistory=jobtitle`,
    );
    expect(raw.status).toBe(200);
    assertMatchesSchema('crm-contacts-v3', 'SimplePublicObjectWithAssociations', raw.body);
    const history = raw.body.propertiesWithHistory.jobtitle;
    expect(history.map((version: Json) => version.value)).toEqual(['Architect', 'Engineer', 'Analyst']);
    expect(history.map((version: Json) => version.sourceType)).toEqual([
      'INTEGRATION',
      'CRM_UI',
      'INTEGRATION',
    ]);
    expect(history[1]).toMatchObject({ sourceId: 'userId:1000007', updatedByUserId: 1000007 });
    const times = history.map((version: Json) => Date.parse(version.timestamp));
    expect(times[0]).toBeGreaterThan(times[1]);
    expect(times[1]).toBeGreaterThanOrEqual(times[2]);
    expect(history[2].timestamp).toBe(contact.createdAt.toISOString());
  });

  test('the SDK reads history by id, in batches and in lists', async () => {
    const contact = await createContact({ email: 'grace@history.test', lifecyclestage: 'lead' });
    simulator.portal.update(Number(contact.id), { lifecyclestage: 'customer' }, USER);

    const one = await client.crm.contacts.basicApi.getById(contact.id, undefined, ['lifecyclestage']);
    expect(one.propertiesWithHistory?.lifecyclestage?.map((version) => version.value)).toEqual([
      'customer',
      'lead',
    ]);

    const batch = await api(simulator, 'POST', '/crm/v3/objects/contacts/batch/read', {
      inputs: [{ id: contact.id }],
      properties: [],
      propertiesWithHistory: ['lifecyclestage'],
    });
    assertMatchesSchema('crm-contacts-v3', 'BatchResponseSimplePublicObject', batch.body);
    expect(batch.body.results[0].propertiesWithHistory.lifecyclestage).toHaveLength(2);

    const page = await client.crm.contacts.basicApi.getPage(50, undefined, undefined, ['lifecyclestage']);
    expect(page.results).toHaveLength(50);
    for (const listed of page.results) {
      const versions = listed.propertiesWithHistory?.lifecyclestage ?? [];
      // The newest version is the current value.
      expect(versions[0]?.value ?? null).toBe(
        simulator.portal.get(Number(listed.id))?.properties.lifecyclestage ?? null,
      );
    }
  });

  test('reads with history are capped at 50 records, as HubSpot caps them, with a 400 beyond', async () => {
    const ids = Array.from({ length: 51 }, (_, n) => ({ id: String(simulator.portal.plan.idBase + n) }));
    const batch = await api(simulator, 'POST', '/crm/v3/objects/contacts/batch/read', {
      inputs: ids,
      properties: [],
      propertiesWithHistory: ['email'],
    });
    expect(batch.status).toBe(400);
    expect(batch.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    expect(batch.body.message).toContain('property histories is 50');
    const withoutHistory = await api(simulator, 'POST', '/crm/v3/objects/contacts/batch/read', {
      inputs: ids,
      properties: [],
      propertiesWithHistory: [],
    });
    expect([200, 207]).toContain(withoutHistory.status);

    const list = await api(simulator, 'GET', '/crm/v3/objects/contacts?limit=51&propertiesWithHistory=email');
    expect(list.status).toBe(400);
    expect(list.body.message).toContain('at most 50 when propertiesWithHistory');
    expect((await api(simulator, 'GET', '/crm/v3/objects/contacts?limit=51')).status).toBe(200);
  });

  test('reading history stores none: untouched seeded and imported contacts derive theirs', async () => {
    const stored = simulator.portal.contactsWithStoredHistory;
    const page = await client.crm.contacts.basicApi.getPage(50, undefined, undefined, [
      'email',
      'lifecyclestage',
    ]);
    expect(page.results.every((contact) => (contact.propertiesWithHistory?.email?.length ?? 0) > 0)).toBe(
      true,
    );
    expect((await control('/__sim/import', { count: 50 })).status).toBe(200);
    expect(simulator.portal.contactsWithStoredHistory).toBe(stored);
  });

  test('history is bounded per property: only the newest versions are kept', async () => {
    const contact = await createContact({ email: 'busy@history.test' });
    for (let n = 1; n <= MAX_VERSIONS_PER_PROPERTY + 10; n++) {
      simulator.portal.update(Number(contact.id), { jobtitle: `Title ${n}` }, USER);
    }
    const read = await client.crm.contacts.basicApi.getById(contact.id, undefined, ['jobtitle']);
    const versions = read.propertiesWithHistory?.jobtitle ?? [];
    expect(versions).toHaveLength(MAX_VERSIONS_PER_PROPERTY);
    expect(versions[0]?.value).toBe(`Title ${MAX_VERSIONS_PER_PROPERTY + 10}`);
  });

  test('a seeded contact has a short history derived from the seed: the same seed gives the same history', async () => {
    const other = await startSimulator({ contacts: 300, seed: 'realism' });
    try {
      const untouched = (await truth(simulator)).filter(
        (row) =>
          !row.archived &&
          row.properties.lifecyclestage === 'customer' &&
          Number(row.id) < simulator.portal.plan.idBase + 300,
      );
      const id = untouched[0]?.id as string;
      const mine = await client.crm.contacts.basicApi.getById(id, undefined, ['lifecyclestage', 'firstname']);
      const theirs = await sdkClient(other).crm.contacts.basicApi.getById(id, undefined, [
        'lifecyclestage',
        'firstname',
      ]);
      expect(mine.propertiesWithHistory).toEqual(theirs.propertiesWithHistory);
      const stages = mine.propertiesWithHistory?.lifecyclestage ?? [];
      expect(stages.length).toBeGreaterThan(1);
      expect(stages[0]?.value).toBe('customer');
      const times = stages.map((version) => version.timestamp.getTime());
      expect([...times].sort((a, b) => b - a)).toEqual(times);
      expect(mine.propertiesWithHistory?.firstname).toHaveLength(1);

      // Its first write keeps the seeded versions under the new one.
      simulator.portal.update(Number(id), { lifecyclestage: 'evangelist' }, USER);
      const after = await client.crm.contacts.basicApi.getById(id, undefined, ['lifecyclestage']);
      expect(after.propertiesWithHistory?.lifecyclestage?.map((version) => version.value)).toEqual([
        'evangelist',
        ...stages.map((version) => version.value),
      ]);
    } finally {
      await other.stop();
    }
  });
});

describe('merges', () => {
  test("the secondary's email becomes an additional email that finds the survivor everywhere", async () => {
    const primary = await createContact({ email: 'primary@merge.test', lifecyclestage: 'lead' });
    const secondary = await createContact({ email: 'Secondary@merge.test', lifecyclestage: 'opportunity' });
    const survivor = await client.crm.contacts.basicApi.merge({
      primaryObjectId: primary.id,
      objectIdToMerge: secondary.id,
    });
    const read = await client.crm.contacts.basicApi.getById(survivor.id, [
      'email',
      'hs_additional_emails',
      'lifecyclestage',
    ]);
    expect(read.properties.email).toBe('primary@merge.test');
    expect(read.properties.hs_additional_emails).toBe('secondary@merge.test');
    expect(read.properties.lifecyclestage).toBe('opportunity');

    const byEmail = await client.crm.contacts.basicApi.getById(
      'secondary@merge.test',
      undefined,
      undefined,
      undefined,
      false,
      'email',
    );
    expect(byEmail.id).toBe(survivor.id);
    const batch = await client.crm.contacts.batchApi.read({
      inputs: [{ id: 'secondary@merge.test' }],
      idProperty: 'email',
      properties: ['email'],
      propertiesWithHistory: [],
    });
    expect(batch.results.map((contact) => contact.id)).toEqual([survivor.id]);
    const found = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [
        { filters: [{ propertyName: 'email', operator: 'EQ' as never, value: 'secondary@merge.test' }] },
      ],
      properties: ['email'],
      limit: 10,
      after: '0',
      sorts: [],
    });
    expect(found.results.map((contact) => contact.id)).toEqual([survivor.id]);
    // The secondary email is taken: a new contact cannot claim it.
    expect(
      (
        await api(simulator, 'POST', '/crm/v3/objects/contacts', {
          properties: { email: 'secondary@merge.test' },
        })
      ).status,
    ).toBe(409);
  });

  test('the furthest lifecycle stage and the oldest create date win; other never outranks the funnel', async () => {
    const older = await createContact({ email: 'older@merge.test', lifecyclestage: 'customer' });
    const newer = await createContact({ email: 'newer@merge.test', lifecyclestage: 'other' });
    const survivor = await client.crm.contacts.basicApi.merge({
      primaryObjectId: newer.id,
      objectIdToMerge: older.id,
    });
    const read = await client.crm.contacts.basicApi.getById(survivor.id, [
      'lifecyclestage',
      'createdate',
      'email',
    ]);
    expect(read.properties.lifecyclestage).toBe('customer');
    expect(read.properties.createdate).toBe(older.createdAt.toISOString());
    expect(read.createdAt.toISOString()).toBe(older.createdAt.toISOString());
    expect(read.properties.email).toBe('newer@merge.test');

    const qualified = await createContact({
      email: 'qualified@merge.test',
      lifecyclestage: 'salesqualifiedlead',
    });
    const outside = await createContact({ email: 'outside@merge.test', lifecyclestage: 'other' });
    const kept = await client.crm.contacts.basicApi.merge({
      primaryObjectId: qualified.id,
      objectIdToMerge: outside.id,
    });
    expect(kept.properties.lifecyclestage).toBe('salesqualifiedlead');
  });

  test('chained merges carry every absorbed email to the last survivor', async () => {
    const a = await createContact({ email: 'a@chain.test' });
    const b = await createContact({ email: 'b@chain.test' });
    const c = await createContact({ email: 'c@chain.test' });
    const first = await client.crm.contacts.basicApi.merge({ primaryObjectId: a.id, objectIdToMerge: b.id });
    const last = await client.crm.contacts.basicApi.merge({
      primaryObjectId: c.id,
      objectIdToMerge: first.id,
    });
    const read = await client.crm.contacts.basicApi.getById(last.id, [
      'hs_additional_emails',
      'hs_merged_object_ids',
    ]);
    expect(read.properties.hs_additional_emails?.split(';').sort()).toEqual(['a@chain.test', 'b@chain.test']);
    expect(read.properties.hs_merged_object_ids?.split(';')).toEqual(expect.arrayContaining([a.id, b.id]));
    const viaB = await client.crm.contacts.basicApi.getById(
      'b@chain.test',
      undefined,
      undefined,
      undefined,
      false,
      'email',
    );
    expect(viaB.id).toBe(last.id);
  });

  test('seeded merge survivors hold the merged-away email, and it finds them', async () => {
    const rows = await truth(simulator);
    const merged = rows.find(
      (row) => row.mergedInto !== null && Number(row.id) < simulator.portal.plan.idBase + 300,
    );
    expect(merged).toBeDefined();
    const survivor = rows.find((row) => row.id === merged?.mergedInto);
    expect(survivor?.properties.hs_additional_emails).toBe(merged?.properties.email);
    const found = await api(
      simulator,
      'GET',
      `/crm/v3/objects/contacts/${encodeURIComponent(merged?.properties.email ?? '')}?idProperty=email`,
    );
    expect(found.body.id).toBe(survivor?.id);
  });
});

describe('ids above 2^31', () => {
  test('seeded and created ids are far above 2^31 and below 2^53, and paging, sorting and webhooks carry them', async () => {
    expect(simulator.portal.plan.idBase).toBeGreaterThan(10 * 2 ** 31);
    const created = await createContact({ email: 'big.id@ids.test' });
    expect(Number(created.id)).toBeGreaterThan(2 ** 31);
    expect(Number.isSafeInteger(Number(created.id))).toBe(true);

    const seen: string[] = [];
    let after: string | undefined;
    do {
      const page = await client.crm.contacts.basicApi.getPage(100, after);
      seen.push(...page.results.map((contact) => contact.id));
      after = page.paging?.next?.after;
    } while (after);
    expect(seen).toContain(created.id);
    expect([...seen].sort((x, y) => Number(x) - Number(y))).toEqual(seen);

    const sorted = await client.crm.contacts.searchApi.doSearch({
      filterGroups: [],
      sorts: ['-hs_object_id'],
      properties: ['hs_object_id'],
      limit: 5,
      after: '0',
    });
    expect(sorted.results[0]?.id).toBe(created.id);

    await drain();
    const creation = receiver
      .events()
      .find(
        (event) => event.subscriptionType === 'contact.creation' && String(event.objectId) === created.id,
      );
    expect(creation?.objectId).toBe(Number(created.id));
    expect(WebhookEvent.safeParse(creation).success).toBe(true);
  });
});

describe('engagement', () => {
  test('engagement moves lastmodifieddate and calculated properties with no webhook at all', async () => {
    await drain();
    const before = new Map((await truth(simulator)).map((row) => [row.id, row]));
    const eventsBefore = receiver.events().length;
    const report = await control('/__sim/activity', { changes: 40, engagementShare: 1 });
    expect(report.status).toBe(200);
    expect(report.body.byKind.engagement).toBe(40);
    await drain();
    expect(receiver.events().length).toBe(eventsBefore);

    const engaged = (await truth(simulator)).filter(
      (row) =>
        before.has(row.id) &&
        row.properties.lastmodifieddate !== before.get(row.id)?.properties.lastmodifieddate,
    );
    expect(engaged.length).toBeGreaterThan(0);
    for (const row of engaged) {
      const calculated = ['hs_email_open', 'hs_analytics_num_page_views', 'num_notes'].some(
        (name) => row.properties[name] !== before.get(row.id)?.properties[name],
      );
      expect(calculated).toBe(true);
    }
  });

  test('engagement is about a third of the default mix, adjustable, and a bad share is a 400', async () => {
    const mixed = await control('/__sim/activity', { changes: 300 });
    expect(mixed.body.byKind.engagement).toBeGreaterThan(60);
    expect(mixed.body.byKind.engagement).toBeLessThan(150);
    const none = await control('/__sim/activity', { changes: 30, engagementShare: 0 });
    expect(none.body.byKind.engagement).toBe(0);
    const bad = await control('/__sim/activity', { changes: 1, engagementShare: 2 });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    expect(bad.body.message).toContain('engagementShare');
  });
});

describe('bulk imports', () => {
  test('an import creates every row as IMPORT with its import id, and queues all their webhooks', async () => {
    await drain();
    const eventsBefore = receiver.events().length;
    const before = (await truth(simulator)).length;
    const report = await control('/__sim/import', { count: 2000 });
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({ created: 2000, failed: 0, importId: expect.any(String) });
    expect((await truth(simulator)).length).toBe(before + 2000);

    await drain();
    const events = receiver.events().slice(eventsBefore);
    const creations = events.filter((event) => event.subscriptionType === 'contact.creation');
    expect(creations).toHaveLength(2000);
    for (const event of creations) {
      expect(event).toMatchObject({ changeSource: 'IMPORT', sourceId: report.body.importId });
    }
    expect(
      events.filter((event) => event.subscriptionType === 'contact.propertyChange').length,
    ).toBeGreaterThanOrEqual(2000 * 5);

    const one = await client.crm.contacts.basicApi.getById(String(creations[0]?.objectId), undefined, [
      'email',
    ]);
    expect(one.propertiesWithHistory?.email?.[0]).toMatchObject({
      sourceType: 'IMPORT',
      sourceId: report.body.importId,
    });
  });

  test('perSecond paces the rows', async () => {
    const started = Date.now();
    const report = await control('/__sim/import', { count: 20, perSecond: 100 });
    expect(report.body.created).toBe(20);
    expect(Date.now() - started).toBeGreaterThanOrEqual(180);
  });

  test('a bad import request is a 400 naming the field', async () => {
    const bad = await control('/__sim/import', { count: 0 });
    expect(bad.status).toBe(400);
    expect(bad.body.message).toContain('count');
    expect((await control('/__sim/import', { count: 5, perSecond: -1 })).status).toBe(400);
  });
});
