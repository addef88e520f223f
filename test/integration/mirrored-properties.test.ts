import { sql } from 'drizzle-orm';
import { afterEach, expect, test } from 'vitest';
import { dbTest } from '../helpers/database.ts';
import { webhookPipeline } from '../helpers/pipeline.ts';
import { type Stack, startStack } from '../helpers/stack.ts';
import { propertyChange } from '../helpers/webhooks.ts';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

dbTest('webhooks apply only the mirrored properties, as sweeps read only those', async ({ database }) => {
  const pipeline = webhookPipeline(database, { properties: ['email', 'firstname'] });
  const at = Date.now();
  await pipeline.receive([
    propertyChange(31, at, 'email', 'kept@example.com'),
    propertyChange(31, at, 'newsletter_opt_in', 'true'),
  ]);
  await pipeline.applyAll();
  const [row] = await database.rows<{ data: Record<string, string> }>(
    sql`select data from contacts where hubspot_id = '31'`,
  );
  expect(row?.data).toEqual({ email: 'kept@example.com' });
  const [pending] = await database.rows<{ n: number }>(
    sql`select count(*)::int as n from webhook_inbox where status <> 'done'`,
  );
  expect(pending?.n).toBe(0);
});

test("a sweep that finds only HubSpot's own bookkeeping changed reports no drift and writes no history", async () => {
  stack = await startStack({ contacts: 40 });
  const first = await stack.workers.sweeper.start({ mode: 'full', trigger: 'admin' });
  if (!('started' in first)) throw new Error('the import did not start');
  await first.done;
  // As if HubSpot had moved lastmodifieddate (an email opened, a workflow ran): no webhook says so.
  await stack.database.rows(sql`update contacts set data = data || '{"lastmodifieddate":"1"}'::jsonb,
    property_versions = property_versions || '{"lastmodifieddate":1}'::jsonb where not archived`);
  const before = await stack.database.rows<{ n: number }>(sql`select count(*)::int as n from audit_logs`);
  const second = await stack.workers.sweeper.start({ mode: 'full', trigger: 'admin' });
  if (!('started' in second)) throw new Error(`the sweep did not start: ${JSON.stringify(second)}`);
  const done = await second.done;
  expect(done.status).toBe('completed');
  expect([done.drift_count, done.updated_count]).toEqual([0, 0]);
  const [history] = await stack.database.rows<{ n: number }>(
    sql`select count(*)::int as n from contact_property_history where property_name = 'lastmodifieddate'`,
  );
  expect(history?.n).toBe(0);
  const after = await stack.database.rows<{ n: number }>(sql`select count(*)::int as n from audit_logs`);
  expect(after[0]?.n).toBe(before[0]?.n);
  // The value itself is still mirrored.
  const [stale] = await stack.database.rows<{ n: number }>(
    sql`select count(*)::int as n from contacts where not archived and data->>'lastmodifieddate' = '1'`,
  );
  expect(stale?.n).toBe(0);
});
