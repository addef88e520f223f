import { AssociationSpecAssociationCategoryEnum as Category } from '@hubspot/api-client/lib/codegen/crm/associations/v4/index.js';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, test as plainTest } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { parseWebhookBatch } from '../../src/hubspot/webhook-events.ts';
import { dbTest as test } from '../helpers/database.ts';
import { webhookPipeline } from '../helpers/pipeline.ts';
import { STACK_ADMIN_TOKEN, type Stack, startStack } from '../helpers/stack.ts';
import { hubspotEvent } from '../helpers/webhooks.ts';

const asAdmin = { authorization: `Bearer ${STACK_ADMIN_TOKEN}` };

interface TruthAssociation {
  contactId: string;
  toObjectId: string;
  types: { typeId: number; label: string | null }[];
}

/**
 * HubSpot's associations, one line per association type. Labels only on request: webhooks carry none, only
 * a read of HubSpot brings them.
 */
async function truthLines(current: Stack, { labels = true } = {}): Promise<string[]> {
  const truth = (await (
    await fetch(`${current.simulator.url}/__sim/associations`)
  ).json()) as TruthAssociation[];
  return truth
    .flatMap(({ contactId, toObjectId, types }) =>
      types.map(
        (type) =>
          `${contactId} → company ${toObjectId} #${type.typeId}${labels ? ` ${type.label ?? '-'}` : ''}`,
      ),
    )
    .sort();
}

/** The mirror's live associations, in `truthLines`' form. */
async function mirrorLines(current: Stack, { labels = true } = {}): Promise<string[]> {
  const rows = await current.database.rows<{ line: string; label: string | null }>(sql`select
      contact_hubspot_id || ' → ' || to_object_type || ' ' || to_object_id || ' #' || association_type_id as line,
      label
    from contact_associations where not removed`);
  return rows.map((row) => (labels ? `${row.line} ${row.label ?? '-'}` : row.line)).sort();
}

async function sweep(current: Stack, mode: 'full' | 'incremental') {
  const response = await current.app.inject({
    method: 'POST',
    url: '/api/contacts/sync',
    headers: asAdmin,
    payload: { mode },
  });
  expect(response.statusCode, response.body).toBe(202);
  const { id } = response.json();
  for (let i = 0; i < 400; i++) {
    const session = (
      await current.app.inject({ method: 'GET', url: `/api/sync/sessions/${id}`, headers: asAdmin })
    ).json();
    if (session.status === 'completed' || session.status === 'failed') return session;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('sweep did not finish within 20 s');
}

const setFaults = (current: Stack, faults: Record<string, unknown>) =>
  fetch(`${current.simulator.url}/__sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });

describe('contact ↔ company associations through the real stack', () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.stop();
    stack = undefined;
  });

  async function started(): Promise<{ current: Stack; contacts: string[]; companies: string[] }> {
    const current = await startStack({ contacts: 20 });
    stack = current;
    await sweep(current, 'full');
    const truth = (await (await fetch(`${current.simulator.url}/__sim/contacts`)).json()) as {
      id: string;
      archived: boolean;
    }[];
    const listed = (await (await fetch(`${current.simulator.url}/__sim/companies`)).json()) as {
      id: string;
    }[];
    return {
      current,
      contacts: truth.filter((contact) => !contact.archived).map((contact) => contact.id),
      companies: listed.map((company) => company.id),
    };
  }

  test('associations made through the SDK reach the mirror by webhook and show on the contact API', async () => {
    const { current, contacts, companies } = await started();
    const [contact, other] = contacts as [string, string];
    const [acme, globex] = companies as [string, string];
    const v4 = current.hubspot.crm.associations.v4.basicApi;
    await v4.createDefault('contacts', contact, 'companies', acme);
    await v4.createDefault('contacts', contact, 'companies', globex);
    await v4.createDefault('contacts', other, 'companies', acme);
    await current.settle();
    expect(await mirrorLines(current, { labels: false })).toEqual(
      await truthLines(current, { labels: false }),
    );

    const detail = await current.app.inject({
      method: 'GET',
      url: `/api/contacts/${contact}`,
      headers: asAdmin,
    });
    expect(detail.statusCode).toBe(200);
    expect(detail.json().associations).toEqual([
      { toObjectType: 'company', toObjectId: acme, associationTypeId: 1, label: null, isPrimary: true },
      { toObjectType: 'company', toObjectId: acme, associationTypeId: 279, label: null, isPrimary: false },
      { toObjectType: 'company', toObjectId: globex, associationTypeId: 279, label: null, isPrimary: false },
    ]);

    await v4.archive('contacts', contact, 'companies', acme);
    await current.settle();
    const listed = await current.app.inject({
      method: 'GET',
      url: `/api/contacts/${contact}/associations`,
      headers: asAdmin,
    });
    expect(listed.statusCode).toBe(200);
    expect(listed.json()).toEqual({
      data: [
        {
          toObjectType: 'company',
          toObjectId: globex,
          associationTypeId: 279,
          label: null,
          isPrimary: false,
        },
      ],
      nextCursor: null,
    });
    // Dashboards heard of each change, as a contact update naming the association.
    const [heard] = await current.database.rows<{
      n: number;
    }>(sql`select count(*)::int as n from outbox_events
      where type = 'contact:updated' and data->>'hubspotId' = ${contact}
        and data->'associations' @> ${JSON.stringify([{ toObjectId: acme, associationTypeId: 1 }])}::jsonb`);
    expect(heard?.n).toBe(2);

    // A merge moves the absorbed contact's companies to the survivor; the absorbed one keeps none.
    const survivor = await current.hubspot.crm.contacts.basicApi.merge({
      primaryObjectId: contact,
      objectIdToMerge: other,
    });
    await current.settle();
    expect(await mirrorLines(current, { labels: false })).toEqual(
      await truthLines(current, { labels: false }),
    );
    const absorbed = await current.app.inject({
      method: 'GET',
      url: `/api/contacts/${other}/associations`,
      headers: asAdmin,
    });
    expect(absorbed.json().data).toEqual([]);
    expect(await mirrorLines(current, { labels: false })).toContain(`${survivor.id} → company ${acme} #279`);
  });

  test('with every webhook lost, a full sweep repairs the associations and counts them as drift', async () => {
    const { current, contacts, companies } = await started();
    const [kept, dropped, added] = contacts as [string, string, string];
    const v4 = current.hubspot.crm.associations.v4.basicApi;
    await v4.createDefault('contacts', kept, 'companies', companies[0] as string);
    await v4.createDefault('contacts', dropped, 'companies', companies[1] as string);
    await current.settle();

    await setFaults(current, { dropRate: 1 });
    await v4.archive('contacts', dropped, 'companies', companies[1] as string);
    await v4.createDefault('contacts', added, 'companies', companies[2] as string);
    // A label travels in no webhook: only a read of HubSpot brings it.
    await v4.create('contacts', kept, 'companies', companies[0] as string, [
      { associationCategory: Category.UserDefined, associationTypeId: 101 },
    ]);
    await current.settle();
    expect(await mirrorLines(current)).not.toEqual(await truthLines(current));
    // A read holds from a second before it was sent (clocks differ): only changes older than that are its to
    // repair; a newer one is left to its webhook or the next sweep.
    await new Promise((resolve) => setTimeout(resolve, 1_100));

    const repair = await sweep(current, 'full');
    expect(repair.status).toBe('completed');
    expect(await mirrorLines(current)).toEqual(await truthLines(current));
    expect(await mirrorLines(current)).toContain(`${kept} → company ${companies[0]} #101 Decision maker`);
    expect(repair.progress).toMatchObject({ drift: 3, updated: 3 });

    const again = await sweep(current, 'full');
    expect(again.progress).toMatchObject({ drift: 0, updated: 0 });
  });

  test('an unknown contact has no associations to list: 404 in the service error shape', async () => {
    const { current } = await started();
    const response = await current.app.inject({
      method: 'GET',
      url: '/api/contacts/424242424242/associations',
      headers: asAdmin,
    });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({
      error: { code: expect.any(String), message: 'no contact 424242424242' },
    });
    const bad = await current.app.inject({
      method: 'GET',
      url: '/api/contacts/abc/associations',
      headers: asAdmin,
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toContain('hubspotId');
    const anonymous = await current.app.inject({ method: 'GET', url: '/api/contacts/1/associations' });
    expect(anonymous.statusCode).toBe(401);
  });
});

describe('applying association events', () => {
  const T = 1_795_000_000_000;
  const event = (occurredAt: number, removed: boolean, primary = false) =>
    hubspotEvent({
      subscriptionType: 'contact.associationChange',
      objectId: 71,
      occurredAt,
      associationType: 'CONTACT_TO_COMPANY',
      fromObjectId: 71,
      toObjectId: 2_147_500_000,
      associationRemoved: removed,
      isPrimaryAssociation: primary,
    });

  async function held(database: Database) {
    return database.rows<{ association_type_id: number; removed: boolean; version: string }>(
      sql`select association_type_id, removed, version::text from contact_associations
        where contact_hubspot_id = '71' order by association_type_id`,
    );
  }

  test('an older "added" arriving after a newer "removed" never revives it; duplicates change nothing', async ({
    database,
  }) => {
    const pipeline = webhookPipeline(database);
    await pipeline.receive([event(T + 20, true)]);
    await pipeline.applyAll();
    const added = event(T + 10, false);
    await pipeline.receive([added, { ...added, attemptNumber: 1 }]);
    await pipeline.applyAll();
    expect(await held(database)).toEqual([
      { association_type_id: 279, removed: true, version: String(T + 20) },
    ]);

    await pipeline.receive([event(T + 30, false), event(T + 30, false, true)]);
    await pipeline.applyAll();
    expect(await held(database)).toEqual([
      { association_type_id: 1, removed: false, version: String(T + 30) },
      { association_type_id: 279, removed: false, version: String(T + 30) },
    ]);
  });

  test('an add and a remove in one batch, in either order, end removed; at the same instant removal wins', async ({
    database,
  }) => {
    const pipeline = webhookPipeline(database);
    await pipeline.receive([
      event(T + 2, true),
      event(T + 1, false),
      event(T + 5, false, true),
      event(T + 5, true, true),
    ]);
    await pipeline.applyAll();
    expect(await held(database)).toEqual([
      { association_type_id: 1, removed: true, version: String(T + 5) },
      { association_type_id: 279, removed: true, version: String(T + 2) },
    ]);
    // No association was ever visible: no dashboard event for one.
    const [heard] = await database.rows<{ n: number }>(
      sql`select count(*)::int as n from outbox_events where data ? 'associations'`,
    );
    expect(heard?.n).toBe(0);
  });
});

plainTest(
  'an associationChange event without the associated record is refused by name, the rest of its batch kept',
  () => {
    const T = Date.now();
    const complete = hubspotEvent({
      subscriptionType: 'contact.associationChange',
      objectId: 5,
      occurredAt: T,
      associationType: 'CONTACT_TO_COMPANY',
      fromObjectId: 5,
      toObjectId: 2_147_500_000,
      associationRemoved: false,
      isPrimaryAssociation: false,
    });
    const { toObjectId: _, ...incomplete } = complete as typeof complete & { toObjectId: number };
    const parsed = parseWebhookBatch([complete, incomplete], { now: T });
    expect(parsed?.valid).toHaveLength(1);
    expect(parsed?.invalid).toEqual([
      expect.objectContaining({
        index: 1,
        message: 'toObjectId: an associationChange event needs associationType and toObjectId',
      }),
    ]);
  },
);
