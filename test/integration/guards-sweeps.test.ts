import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, test } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import { contactRow } from '../helpers/pipeline.ts';
import { type Stack, simulatorTruth, startStack, sweeperOn } from '../helpers/stack.ts';

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function fullSweep(current: Stack, mode: 'full' | 'incremental' = 'full') {
  const result = await sweeperOn(current.database, current.simulator.url).start({ mode, trigger: 'admin' });
  if (!('started' in result)) throw new Error('the sweep did not start');
  return result.done;
}

/** Contacts the mirror holds that HubSpot does not list: each one a contact the next full sweep would archive. */
async function addGhosts(database: Database, count: number) {
  await database.rows(sql`insert into contacts (hubspot_id, data, last_sync, property_versions)
    select (900000000 + n)::text, '{}'::jsonb, now(), '{}'::jsonb from generate_series(1, ${count}) as n`);
}

const liveCount = async (database: Database) =>
  (await database.rows<{ n: number }>(sql`select count(*)::int as n from contacts where not archived`))[0]?.n;

describe('the mass-archive guard of a full sweep', () => {
  // Refused when the contacts to archive exceed max(10, 10% of the live contacts held before the pass):
  // g ghosts beside L live contacts pass while g <= (L + g) / 10, that is g <= L / 9.
  const justUnder = (live: number) => Math.floor(live / 9);
  test.each([
    { portal: 200, ghosts: justUnder, refused: false, why: 'just under 10% of the live contacts' },
    { portal: 200, ghosts: (live: number) => justUnder(live) + 1, refused: true, why: 'just over 10%' },
    { portal: 20, ghosts: () => 10, refused: false, why: 'over 10%, but not over the floor of 10' },
    { portal: 20, ghosts: () => 11, refused: true, why: 'over the floor of 10' },
  ])('$why: refused $refused', async ({ portal, ghosts, refused }) => {
    const current = await startStack({ contacts: portal });
    stack = current;
    expect((await fullSweep(current)).status).toBe('completed');
    const before = (await liveCount(current.database)) ?? 0;
    expect(before).toBeGreaterThan(portal * 0.9);
    const count = ghosts(before);
    await addGhosts(current.database, count);
    const live = before + count;
    expect(await liveCount(current.database)).toBe(live);

    const finished = await fullSweep(current);
    if (refused) {
      expect(finished.status).toBe('failed');
      expect(finished.error_message).toContain(`refusing to archive ${count} of ${live} contacts`);
      expect(await liveCount(current.database)).toBe(live);
    } else {
      expect(finished.status, finished.error_message ?? undefined).toBe('completed');
      expect(await liveCount(current.database)).toBe(before);
    }
  });
});

describe('the incremental sweep overlap', () => {
  test('a change search cannot see yet when a sweep runs is picked up by the next sweep', async () => {
    const SEARCH_LAG_MS = 1_500;
    const current = await startStack({ contacts: 50, searchLagMs: SEARCH_LAG_MS });
    stack = current;
    expect((await fullSweep(current)).status).toBe('completed');
    // The webhook for the change is lost: only a sweep can find it.
    await fetch(`${current.simulator.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dropRate: 1 }),
    });
    const target = (await simulatorTruth(current.simulator)).find((c) => !c.archived && !c.mergedInto);
    if (!target) throw new Error('no live contact in the portal');
    await current.hubspot.crm.contacts.basicApi.update(target.id, { properties: { firstname: 'Lagging' } });

    // Search still shows the contact as it was: this sweep cannot see the change, and moves the watermark
    // past the change's lastmodifieddate.
    expect((await fullSweep(current, 'incremental')).status).toBe('completed');
    expect((await contactRow(current.database, target.id))?.data.firstname).not.toBe('Lagging');

    await new Promise((resolve) => setTimeout(resolve, SEARCH_LAG_MS + 200));
    // The next sweep starts 5 minutes before the watermark, so the change, now searchable, is inside it.
    const next = await fullSweep(current, 'incremental');
    expect(next.status).toBe('completed');
    expect((await contactRow(current.database, target.id))?.data.firstname).toBe('Lagging');
  });
});
