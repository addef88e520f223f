import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, test } from 'vitest';
import { STACK_ADMIN_TOKEN, type Stack, startStack } from '../helpers/stack.ts';

const asAdmin = { authorization: `Bearer ${STACK_ADMIN_TOKEN}` };
let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function fullSweep(current: Stack) {
  const result = await current.workers.sweeper.start({ mode: 'full', trigger: 'admin' });
  if (!('done' in result)) throw new Error('a sweep was already running');
  const done = await result.done;
  expect(done.status).toBe('completed');
  return done;
}

const simulatorControl = (current: Stack, path: string, body: unknown) =>
  fetch(`${current.simulator.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

/** HubSpot's purge of everything deleted so far, as if 90 days had passed. */
async function purgeDeleted(current: Stack): Promise<string[]> {
  const response = await simulatorControl(current, '/__sim/purge', {
    archivedBefore: new Date(Date.now() + 60_000).toISOString(),
  });
  return ((await response.json()) as { purged: string[] }).purged;
}

async function createContact(current: Stack, email: string): Promise<string> {
  const { id } = await current.hubspot.crm.contacts.basicApi.create({
    properties: { email },
    associations: [],
  });
  return id;
}

async function contactView(current: Stack, id: string) {
  const response = await current.app.inject({ method: 'GET', url: `/api/contacts/${id}`, headers: asAdmin });
  expect(response.statusCode).toBe(200);
  return response.json();
}

async function listed(current: Stack, archived: boolean): Promise<string[]> {
  const response = await current.app.inject({
    method: 'GET',
    url: `/api/contacts?archived=${archived}&limit=100`,
    headers: asAdmin,
  });
  return response.json().data.map((contact: { hubspotId: string }) => contact.hubspotId);
}

async function purgeRecords(current: Stack, id: string) {
  const audit = await current.database.rows<{ operation: string; user_id: string }>(
    sql`select operation, user_id from audit_logs where entity_id = ${id} and new_data ? 'purgedAt'`,
  );
  const events = await current.database.rows<{ data: { hubspotId: string } }>(
    sql`select data from outbox_events where type = 'contact:purged' and data ->> 'hubspotId' = ${id}`,
  );
  return { audit, events: events.length };
}

describe("HubSpot's 90-day purge, as the mirror sees it", () => {
  test('a deleted contact HubSpot purged is marked purged by the next full sweep, once', async () => {
    const current = await startStack();
    stack = current;
    const kept = await createContact(current, 'kept@example.com');
    const binned = await createContact(current, 'binned@example.com');
    const gone = await createContact(current, 'gone@example.com');
    await current.settle();
    await fullSweep(current);

    await current.hubspot.crm.contacts.basicApi.archive(gone);
    await current.settle();
    expect(await purgeDeleted(current)).toEqual([gone]);
    // Deleted after the purge: still in HubSpot's recycling bin.
    await current.hubspot.crm.contacts.basicApi.archive(binned);
    await current.settle();

    await fullSweep(current);
    const view = await contactView(current, gone);
    expect(view).toMatchObject({ hubspotId: gone, archived: true, purgedAt: expect.any(String) });
    expect(await purgeRecords(current, gone)).toEqual({
      audit: [{ operation: 'delete', user_id: 'hubspot:sweep' }],
      events: 1,
    });
    expect(await contactView(current, binned)).toMatchObject({ archived: true, purgedAt: null });
    expect(await contactView(current, kept)).toMatchObject({ archived: false, purgedAt: null });
    expect(await listed(current, false)).toEqual([kept]);
    expect(await listed(current, true)).toEqual(expect.arrayContaining([gone, binned]));

    // A later sweep leaves the mark (and its audit entry) alone.
    await fullSweep(current);
    expect((await contactView(current, gone)).purgedAt).toBe(view.purgedAt);
    expect((await purgeRecords(current, gone)).audit).toHaveLength(1);
  });

  test('a live contact whose deletion we never heard of, purged since, is archived and marked purged', async () => {
    const current = await startStack();
    stack = current;
    const kept = await createContact(current, 'stays@example.com');
    const vanished = await createContact(current, 'vanished@example.com');
    await current.settle();
    await fullSweep(current);

    // The deletion's webhook is lost for good.
    await simulatorControl(current, '/__sim/faults', { dropRate: 1 });
    await current.hubspot.crm.contacts.basicApi.archive(vanished);
    await current.settle();
    expect((await contactView(current, vanished)).archived).toBe(false);
    expect(await purgeDeleted(current)).toEqual([vanished]);

    await fullSweep(current);
    expect(await contactView(current, vanished)).toMatchObject({
      archived: true,
      purgedAt: expect.any(String),
    });
    expect((await purgeRecords(current, vanished)).events).toBe(1);
    expect(await listed(current, false)).toEqual([kept]);
  });
});
