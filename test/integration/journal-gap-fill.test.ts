import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createHubSpotClient } from '../../src/hubspot/client.ts';
import { createLogger } from '../../src/logger.ts';
import { createJournalClient } from '../../src/sync/journal/journal-client.ts';
import type { JournalWorker } from '../../src/sync/journal/journal-worker.ts';
import { createWorkers } from '../../src/workers.ts';
import {
  mirrorDifferences,
  PRIVATE_APP_TOKEN,
  STACK_ADMIN_TOKEN,
  type Stack,
  startStack,
} from '../helpers/stack.ts';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

let stack: Stack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

/** The service's clock for the journal, moved by hand to stand for time spent down. */
function shiftableClock() {
  let shift = 0;
  return { now: () => new Date(Date.now() + shift), advance: (ms: number) => (shift += ms) };
}

async function startWithJournal(clock: ReturnType<typeof shiftableClock>) {
  const started = await startStack({}, { journal: { tickEveryMs: 0, clock } });
  // With no checkpoint yet, start-up ran the last resort on the empty portal, which then sets the checkpoint.
  await waitFor(async () => (await checkpoint(started))?.journal_offset === '');
  await waitFor(async () =>
    (await sessions(started)).every((s) => s.status !== 'running' && s.status !== 'pending'),
  );
  return started;
}

function journalOf(current: Stack): JournalWorker {
  const journal = current.workers.journal;
  if (!journal) throw new Error('the stack was started without the journal');
  return journal;
}

async function sessions(current: Stack) {
  return current.database.rows<{ mode: string; trigger: string; status: string; created_at: string }>(
    sql`select mode, trigger, status, created_at::text from sync_sessions order by created_at`,
  );
}

async function checkpoint(current: Stack) {
  const [row] = await current.database.rows<{ journal_offset: string; checked_at: string }>(
    sql`select journal_offset, checked_at from journal_checkpoints`,
  );
  return row;
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function faults(current: Stack, body: Record<string, unknown>): Promise<void> {
  await fetch(`${current.simulator.url}/__sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** A second start of the service's workers on the stack's database, as after a restart. */
function restartedWorkers(current: Stack, clock: ReturnType<typeof shiftableClock>) {
  const { simulator } = current;
  const logger = createLogger({ level: 'silent' });
  return createWorkers({
    config: loadConfig({ HUBSPOT_API_BASE: simulator.url, HUBSPOT_ACCESS_TOKEN: PRIVATE_APP_TOKEN }),
    database: current.database,
    logger,
    hubspot: createHubSpotClient({
      basePath: simulator.url,
      accessToken: async () => PRIVATE_APP_TOKEN,
      logger,
    }),
    journal: {
      client: createJournalClient({
        apiBase: simulator.url,
        clientId: simulator.options.clientId,
        clientSecret: simulator.options.clientSecret,
        portalId: simulator.options.portalId,
      }),
      portalId: simulator.options.portalId,
      tickEveryMs: 0,
      clock,
    },
  });
}

describe('gap fill from the Webhooks Journal', () => {
  test('a service that was down fills the gap at start-up, before the schedule runs any sweep', async () => {
    const clock = shiftableClock();
    stack = await startWithJournal(clock);
    const contacts = stack.hubspot.crm.contacts.basicApi;
    const kept = await contacts.create({ properties: { email: 'kept@example.com' }, associations: [] });
    const gone = await contacts.create({ properties: { email: 'gone@example.com' }, associations: [] });
    await stack.settle();
    await journalOf(stack).tick();
    await journalOf(stack).tick();

    // Down: nothing receives or applies webhooks, and those HubSpot sends are lost.
    await stack.workers.stop();
    await faults(stack, { dropRate: 1 });
    await contacts.archive(gone.id);
    await contacts.update(kept.id, { properties: { company: 'Kept Ltd' } });
    await contacts.create({ properties: { email: 'added@example.com' }, associations: [] });
    await stack.simulator.drainWebhooks();
    await faults(stack, { dropRate: 0 });
    const sessionsBefore = (await sessions(stack)).length;

    clock.advance(10 * MINUTE);
    const restarted = restartedWorkers(stack, clock);
    try {
      await restarted.start();
      await waitFor(async () => {
        await restarted.settled();
        restarted.fetch?.wake();
        return (await mirrorDifferences(stack as Stack)).length === 0;
      });
      const [log] = await stack.database.rows<{ details: { events: number } }>(
        sql`select details from sync_logs where entity_type = 'journal'`,
      );
      expect(log?.details.events).toBeGreaterThanOrEqual(3);
      // Applied from the journal alone: the restart's schedule started no sweep of any kind.
      expect((await sessions(stack)).length).toBe(sessionsBefore);
    } finally {
      await restarted.stop();
    }
  });

  test('changes whose webhooks were lost, deletions and merges included, reach the mirror with no full sweep', async () => {
    const clock = shiftableClock();
    stack = await startWithJournal(clock);
    const contacts = stack.hubspot.crm.contacts.basicApi;
    const create = (name: string) =>
      contacts.create({ properties: { email: `${name}@example.com`, firstname: name }, associations: [] });
    const ada = await create('ada');
    const alan = await create('alan');
    const grace = await create('grace');
    const hedy = await create('hedy');
    await stack.settle();

    // The first tick only reads where the journal is; the second claims that place.
    const journal = journalOf(stack);
    await journal.tick();
    expect((await checkpoint(stack))?.journal_offset).toBe('');
    await journal.tick();
    const before = await checkpoint(stack);
    expect(before?.journal_offset).toMatch(/^[0-9a-f-]{36}$/);
    // Operators see where the service stands in the journal.
    const status = await stack.app.inject({
      method: 'GET',
      url: '/api/sync/status',
      headers: { authorization: `Bearer ${STACK_ADMIN_TOKEN}` },
    });
    expect(status.json().journal.checkpointAt).toBe(new Date(before?.checked_at ?? 0).toISOString());

    await faults(stack, { dropRate: 1 });
    const edsger = await create('edsger');
    await contacts.update(ada.id, { properties: { lastname: 'Lovelace' } });
    await contacts.archive(alan.id);
    await contacts.merge({ primaryObjectId: hedy.id, objectIdToMerge: grace.id });
    await stack.settle();
    await faults(stack, { dropRate: 0 });
    const gap = await mirrorDifferences(stack);
    expect(gap).toEqual(
      expect.arrayContaining([
        `${edsger.id}: missing from the mirror`,
        `${alan.id}: archived false, HubSpot true`,
      ]),
    );

    const sessionsBefore = (await sessions(stack)).length;
    clock.advance(5 * MINUTE);
    const result = await journal.recover();
    expect(result).toMatchObject({ kind: 'filled' });
    await stack.settle();

    expect(await mirrorDifferences(stack)).toEqual([]);
    expect((await sessions(stack)).length).toBe(sessionsBefore);
    const [log] = await stack.database.rows<{ details: { message: string; events: number; added: number } }>(
      sql`select details from sync_logs where entity_type = 'journal'`,
    );
    expect(log?.details.message).toMatch(/^gap-filled \d+ events from the journal$/);
    expect(log?.details.added).toBeGreaterThan(0);
    expect((await checkpoint(stack))?.journal_offset).not.toBe(before?.journal_offset);
  });

  test('a checkpoint older than the journal keeps starts a full sweep, which then sets the checkpoint', async () => {
    const clock = shiftableClock();
    stack = await startWithJournal(clock);
    await stack.hubspot.crm.contacts.basicApi.create({
      properties: { email: 'kept@example.com' },
      associations: [],
    });
    await stack.settle();
    const journal = journalOf(stack);
    await journal.tick();
    await journal.tick();
    const fullBefore = (await sessions(stack)).filter((s) => s.mode === 'full').length;

    clock.advance(3 * DAY + MINUTE);
    const result = await journal.recover();
    expect(result).toMatchObject({ kind: 'full-sweep' });
    expect(await (result?.kind === 'full-sweep' ? result.done : undefined)).toBe(true);
    const full = (await sessions(stack)).filter((s) => s.mode === 'full');
    expect(full).toHaveLength(fullBefore + 1);
    expect(full.at(-1)).toMatchObject({ trigger: 'startup', status: 'completed' });
    const after = await checkpoint(stack);
    expect(after && clock.now().getTime() - Date.parse(after.checked_at)).toBeLessThan(MINUTE);
  });

  test('an offset the journal no longer knows starts a full sweep', async () => {
    const clock = shiftableClock();
    stack = await startWithJournal(clock);
    const fullBefore = (await sessions(stack)).filter((s) => s.mode === 'full').length;
    await stack.database.db.execute(
      sql`update journal_checkpoints
        set journal_offset = ${randomUUID()}, checked_at = now() - interval '10 minutes'`,
    );
    const result = await journalOf(stack).recover();
    expect(result).toMatchObject({ kind: 'full-sweep', reason: 'the checkpoint offset has expired' });
    await (result?.kind === 'full-sweep' ? result.done : undefined);
    expect((await sessions(stack)).filter((s) => s.mode === 'full')).toHaveLength(fullBefore + 1);
  });
});
