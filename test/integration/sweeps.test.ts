import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, test } from 'vitest';
import { createSimulator } from '../../src/sim/simulator.ts';
import { waitFor } from '../helpers/process.ts';
import {
  mirrorDifferences,
  STACK_ADMIN_TOKEN,
  type Stack,
  simulatorTruth,
  startStack,
  sweeperOn,
} from '../helpers/stack.ts';

const asAdmin = { authorization: `Bearer ${STACK_ADMIN_TOKEN}` };
let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

async function sweep(current: Stack, mode: 'full' | 'incremental', body: Record<string, unknown> = {}) {
  const response = await current.app.inject({
    method: 'POST',
    url: '/api/contacts/sync',
    headers: asAdmin,
    payload: { mode, ...body },
  });
  expect(response.statusCode, response.body).toBe(202);
  const { id } = response.json();
  for (let i = 0; i < 600; i++) {
    const session = (
      await current.app.inject({ method: 'GET', url: `/api/sync/sessions/${id}`, headers: asAdmin })
    ).json();
    if (session.status === 'completed' || session.status === 'failed') return session;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('sweep did not finish within 30 s');
}

const setFaults = (current: Stack, faults: Record<string, unknown>) =>
  fetch(`${current.simulator.url}/__sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(faults),
  });

describe('reconciliation sweeps against the simulator', () => {
  test('a full sweep of a 3,000-contact portal leaves the mirror equal to HubSpot, property by property', async () => {
    const current = await startStack({ contacts: 3000 });
    stack = current;
    // Which contacts each pass records as seen (the pass forgets them once done).
    await stack.database.rows(sql`create table seen_log (hubspot_id text)`);
    await stack.database.rows(sql`create function log_seen() returns trigger language plpgsql as $$
      begin insert into seen_log values (new.hubspot_id); return new; end $$`);
    await stack.database.rows(sql`create trigger log_seen after insert on sweep_seen
      for each row execute function log_seen()`);
    const seenBy = async () => {
      const [row] = await current.database.rows<{ n: number }>(sql`select count(*)::int as n from seen_log`);
      await current.database.rows(sql`delete from seen_log`);
      return row?.n;
    };
    const session = await sweep(stack, 'full');
    expect(session).toMatchObject({ status: 'completed', mode: 'full', trigger: 'admin' });
    expect(session.recordsCount).toBeGreaterThanOrEqual(2900);
    // Every value carries the version it was read at (the record's lastmodifieddate).
    const [unversioned] = await stack.database.rows<{ n: number }>(sql`select count(*)::int as n from contacts
      where data <> '{}' and not (property_versions ?& array(select jsonb_object_keys(data)))`);
    expect(unversioned?.n).toBe(0);
    // An import, not a repair: nothing the mirror held was wrong.
    expect(session.progress).toMatchObject({ drift: 0 });
    expect(session.progress.created).toBeGreaterThanOrEqual(2900);
    expect(await mirrorDifferences(stack)).toEqual([]);
    // An import into an empty mirror has nothing that could be missing from HubSpot's lists to look for.
    expect(await seenBy()).toBe(0);
    const again = await sweep(stack, 'full');
    expect(again.progress).toMatchObject({ drift: 0, created: 0, updated: 0, archived: 0 });
    expect(await seenBy()).toBe(again.recordsCount);
  });

  test('with every webhook lost, sweeps repair every kind of change and count it as drift', async () => {
    stack = await startStack({ contacts: 400 });
    await sweep(stack, 'full');
    await setFaults(stack, { dropRate: 1 });
    await stack.simulator.runActivity(300);
    await stack.settle();
    const missed = await mirrorDifferences(stack);
    expect(missed.length).toBeGreaterThan(50);

    // Search sees every contact modified since the last sweep, but never an archived one: the incremental
    // sweep repairs updates, restores and merges, and leaves only the deletions to the full sweep.
    await stack.searchCaughtUp();
    const incremental = await sweep(stack, 'incremental');
    expect(incremental.progress.drift).toBeGreaterThan(20);
    const left = await mirrorDifferences(stack);
    expect(left.length).toBeLessThan(missed.length);
    const archivedInHubSpot = new Set(
      (await simulatorTruth(stack.simulator)).filter((c) => c.archived && !c.mergedInto).map((c) => c.id),
    );
    const notDeletions = left.filter((line) => {
      const [id, what] = line.split(': ');
      return !(
        archivedInHubSpot.has(id ?? '') &&
        (what === 'missing from the mirror' || what === 'archived false, HubSpot true')
      );
    });
    expect(notDeletions).toEqual([]);

    const repair = await sweep(stack, 'full');
    expect(await mirrorDifferences(stack)).toEqual([]);
    expect(repair.progress.archived).toBeGreaterThan(0);
    expect(repair.progress.drift).toBe(
      repair.progress.archived + repair.progress.updated + repair.progress.created,
    );
    expect(incremental.progress.drift + repair.progress.drift).toBeGreaterThan(50);
  });

  test('an incremental sweep repairs missed updates, even 5,000 contacts sharing one lastmodifieddate', async () => {
    stack = await startStack({ contacts: 13_000 });
    await setFaults(stack, { dropRate: 1 });
    // An import: thousands of contacts get one lastmodifieddate; then more than search's 10,000-result cap.
    const importedAt = Date.now();
    const { portal } = stack.simulator;
    const live: number[] = [];
    for (let id = portal.plan.idBase; live.length < 11_000; id++) {
      const contact = portal.get(id);
      if (contact && !contact.archived && contact.mergedInto === null) live.push(id);
    }
    for (const id of live.slice(0, 5000)) {
      portal.update(id, { jobtitle: 'Imported' }, { changeSource: 'IMPORT' } as never, importedAt);
    }
    for (const id of live.slice(5000))
      portal.update(id, { jobtitle: `Edited ${id}` }, { changeSource: 'CRM_UI' } as never);
    await stack.searchCaughtUp();
    const session = await sweep(stack, 'incremental');
    expect(session.status).toBe('completed');
    const [counts] = await stack.database.rows<{ imported: number; edited: number }>(sql`select
      count(*) filter (where data->>'jobtitle' = 'Imported')::int as imported,
      count(*) filter (where data->>'jobtitle' like 'Edited %')::int as edited from contacts`);
    expect(counts).toEqual({ imported: 5000, edited: 6000 });
    // Seeded contacts untouched for years are outside the window: only the changed ones were read.
    expect(session.progress.created + session.progress.updated).toBe(11_000);
  }, 60_000);

  test('a second sweep request while one runs gets 409 with the running session', async () => {
    stack = await startStack({ contacts: 3000, rateLimit: '40/1s' });
    const first = await stack.app.inject({
      method: 'POST',
      url: '/api/contacts/sync',
      headers: asAdmin,
      payload: { mode: 'full' },
    });
    expect(first.statusCode).toBe(202);
    const second = await stack.app.inject({
      method: 'POST',
      url: '/api/contacts/sync',
      headers: asAdmin,
      payload: { mode: 'incremental' },
    });
    expect(second.statusCode).toBe(409);
    expect(second.json().session).toMatchObject({ sessionId: first.json().sessionId });
    const audit = await stack.app.inject({
      method: 'GET',
      url: '/api/audit?entity_type=sync_session',
      headers: asAdmin,
    });
    expect(audit.json().data).toHaveLength(1);
  });

  test('a sweep that would archive most of the mirror refuses, and leaves the contacts alone', async () => {
    stack = await startStack({ contacts: 300 });
    await sweep(stack, 'full');
    // An API glitch: HubSpot answers, but with an empty portal.
    const empty = await createSimulator({ contacts: 0, rateLimit: 'off', logErrors: false });
    try {
      const sweeper = sweeperOn(stack.database, empty.url);
      const result = await sweeper.start({ mode: 'full', trigger: 'admin' });
      if (!('started' in result)) throw new Error('the sweep did not start');
      const finished = await result.done;
      expect(finished.status).toBe('failed');
      expect(finished.error_message).toMatch(/refusing to archive \d+ of \d+ contacts/);
      const [live] = await stack.database.rows<{ n: number }>(
        sql`select count(*)::int as n from contacts where not archived`,
      );
      expect(live?.n).toBeGreaterThan(250);
    } finally {
      await empty.stop();
    }
  });

  test('two sweepers on one database never run at once', async () => {
    const current = await startStack({ contacts: 2000, rateLimit: '40/1s' });
    stack = current;
    const sweeperFor = () => sweeperOn(current.database, current.simulator.url);
    const sweepers = [sweeperFor(), sweeperFor()];
    const results = await Promise.all(sweepers.map((s) => s.start({ mode: 'full', trigger: 'schedule' })));
    expect(results.filter((r) => 'started' in r)).toHaveLength(1);
    expect(results.filter((r) => 'running' in r)).toHaveLength(1);
    await Promise.all(sweepers.map((s) => s.stop()));
    const [stopped] = await current.database.rows<{ status: string; error_message: string }>(
      sql`select status, error_message from sync_sessions`,
    );
    // Stopped between pages: failed with a reason, and resumable from its checkpoint.
    expect(stopped).toMatchObject({ status: 'failed', error_message: expect.stringContaining('resumes') });
  });

  test('a sweep stopped by a shutdown is resumed by the next one, each contact counted once', async () => {
    const current = await startStack({ contacts: 4000, rateLimit: '40/1s' });
    stack = current;
    const sweeperFor = () => sweeperOn(current.database, current.simulator.url);
    const seen = async () =>
      current.database.rows<{ status: string; seen: number }>(
        sql`select status, seen_count as seen from sync_sessions order by created_at`,
      );
    const first = sweeperFor();
    await first.start({ mode: 'full', trigger: 'schedule' });
    await waitFor(async () => ((await seen())[0]?.seen ?? 0) >= 1000 || undefined, 20_000);
    await first.stop();

    const second = await sweeperFor().start({ mode: 'full', trigger: 'schedule' });
    if (!('started' in second)) throw new Error('the second sweep did not start');
    expect((await second.done).status).toBe('completed');
    const [stopped, resumed] = await seen();
    const listed = (await simulatorTruth(current.simulator)).filter((c) => !c.mergedInto).length;
    expect(stopped?.status).toBe('failed');
    expect((stopped?.seen ?? 0) + (resumed?.seen ?? 0)).toBe(listed);
    expect(await mirrorDifferences(current)).toEqual([]);
  }, 60_000);
});
