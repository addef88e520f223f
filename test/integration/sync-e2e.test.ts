import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, test } from 'vitest';
import { mirrorDifferences, type Stack, simulatorTruth, startStack } from '../helpers/stack.ts';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('HubSpot webhooks end to end, from the simulator to PostgreSQL', () => {
  test('creations, updates, deletions and merges made through the SDK land in the mirror', async () => {
    stack = await startStack();
    const contacts = stack.hubspot.crm.contacts;
    const create = (name: string) =>
      contacts.basicApi.create({
        properties: { email: `${name}@example.com`, firstname: name },
        associations: [],
      });
    const ada = await create('ada');
    const alan = await create('alan');
    const grace = await create('grace');
    await contacts.basicApi.update(ada.id, {
      properties: { lastname: 'Lovelace', company: 'Analytical Engines' },
    });
    await contacts.basicApi.archive(alan.id);
    await stack.settle();

    expect(await mirrorDifferences(stack)).toEqual([]);
    const [row] = await stack.database.rows<{ data: Record<string, string>; sync_status: string }>(
      sql`select data, sync_status from contacts where hubspot_id = ${ada.id}`,
    );
    expect(row).toMatchObject({
      sync_status: 'synced',
      data: { lastname: 'Lovelace', company: 'Analytical Engines' },
    });

    // A chain of merges: grace absorbs ada, then a new contact absorbs grace.
    const survivor = await contacts.basicApi.create({
      properties: { email: 'survivor@example.com' },
      associations: [],
    });
    await contacts.basicApi.merge({ primaryObjectId: grace.id, objectIdToMerge: ada.id });
    await stack.settle();
    const afterFirst = await simulatorTruth(stack.simulator);
    const graceNow = afterFirst.find((c) => c.id === ada.id)?.mergedInto ?? grace.id;
    await contacts.basicApi.merge({ primaryObjectId: survivor.id, objectIdToMerge: graceNow });
    await stack.settle();

    expect(await mirrorDifferences(stack)).toEqual([]);
    const merged = await stack.database.rows<{ hubspot_id: string; merged_into: string }>(
      sql`select hubspot_id, merged_into from contacts where merged_into is not null order by hubspot_id`,
    );
    expect(merged.length).toBeGreaterThanOrEqual(2);
  });

  test('a privacy deletion through the SDK erases the person from every table', async () => {
    stack = await startStack();
    const email = 'forget.me.please@example.com';
    const created = await stack.hubspot.crm.contacts.basicApi.create({
      properties: { email, firstname: 'Forgettable' },
      associations: [],
    });
    await stack.settle();
    await stack.hubspot.crm.contacts.basicApi.purge({ objectId: created.id });
    await stack.settle();

    const tables = await stack.database.rows<{ table_name: string }>(
      sql`select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
    );
    for (const { table_name } of tables) {
      const [found] = await stack.database.rows<{ n: number }>(
        sql`select count(*)::int as n from ${sql.identifier(table_name)} t where t::text ilike ${`%${email}%`} or t::text ilike '%Forgettable%'`,
      );
      expect(`${table_name}: ${found?.n}`).toBe(`${table_name}: 0`);
    }
    const [row] = await stack.database.rows<{ archived: boolean; erased: boolean }>(
      sql`select archived, erased_at is not null as erased from contacts where hubspot_id = ${created.id}`,
    );
    expect(row).toEqual({ archived: true, erased: true });
  });

  test.each([1, 7, 42])(
    'a realistic stream of portal activity (seed %i), duplicated and reordered in delivery, converges to HubSpot',
    async (seed) => {
      stack = await startStack({ contacts: 0, seed });
      await stack.simulator.runActivity(60);
      await stack.settle();
      await fetch(`${stack.simulator.url}/__sim/faults`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ duplicateRate: 0.3, reorderWindowMs: 150 }),
      });
      await stack.simulator.runActivity(300);
      await stack.settle();

      const truth = await simulatorTruth(stack.simulator);
      expect(truth.length).toBeGreaterThan(20);
      expect(await mirrorDifferences(stack)).toEqual([]);
    },
  );
});
