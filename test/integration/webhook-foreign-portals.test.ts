import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, test } from 'vitest';
import { mirrorDifferences, type Stack, startStack } from '../helpers/stack.ts';

let stack: Stack | undefined;

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe('batches that mix portals, as a public app installed in several portals receives them', () => {
  test("the service applies its own portal's events, refuses and logs the others, and acknowledges every batch", async () => {
    stack = await startStack();
    const { simulator, hubspot, database, settle } = stack;
    const faults = await fetch(`${simulator.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      // Every event gets another portal's twin in the same batch; its values name that portal.
      body: JSON.stringify({ foreignPortalRate: 1, reorderWindowMs: 0 }),
    });
    expect(faults.status).toBe(200);

    const created = await hubspot.crm.contacts.basicApi.create({
      properties: { email: 'mixed@example.com', firstname: 'Mixed', lifecyclestage: 'lead' },
      associations: [],
    });
    await hubspot.crm.contacts.basicApi.update(created.id, { properties: { lifecyclestage: 'customer' } });
    await settle();

    // Acknowledged: nothing was retried to exhaustion, nothing is owed.
    expect(simulator.deliverer.stats()).toMatchObject({ failed: 0, pending: 0 });
    // Our events applied, none of the twins' values leaked in.
    expect(await mirrorDifferences(stack)).toEqual([]);
    const [row] = await database.rows<{ data: Record<string, string | null> }>(
      sql`select data from contacts where hubspot_id = ${created.id}`,
    );
    expect(row?.data).toMatchObject({
      email: 'mixed@example.com',
      firstname: 'Mixed',
      lifecyclestage: 'customer',
    });

    const logged = await database.rows<{ context: { count: number; samples: { portalId: number }[] } }>(
      sql`select context from error_logs where error_type = 'webhook.foreign_portal'`,
    );
    const refused = logged.reduce((sum, entry) => sum + entry.context.count, 0);
    const [ours] = await database.rows<{ n: number }>(
      sql`select count(*)::int as n from webhook_inbox where portal_id = ${simulator.options.portalId}`,
    );
    // One twin per event of ours.
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBe(ours?.n);
    for (const entry of logged)
      for (const sample of entry.context.samples)
        expect(sample.portalId).not.toBe(simulator.options.portalId);
  });
});
