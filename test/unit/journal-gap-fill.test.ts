import { describe, expect, test } from 'vitest';
import type { Database } from '../../src/db/client.ts';
import type { WebhookEvent } from '../../src/hubspot/webhook-events.ts';
import { createLogger } from '../../src/logger.ts';
import { createGapFill } from '../../src/sync/journal/gap-fill.ts';
import {
  EMPTY_JOURNAL,
  type GapFillRecord,
  type JournalCheckpoint,
  type JournalRepository,
} from '../../src/sync/journal/journal.repository.ts';
import {
  type JournalClient,
  JournalOffsetExpired,
  type JournalPosition,
} from '../../src/sync/journal/journal-client.ts';
import type { InboxRepository } from '../../src/webhooks/inbox.repository.ts';

const PORTAL = 62515;
const MINUTE = 60_000;

const event = (objectId: number): WebhookEvent => ({
  eventId: objectId,
  subscriptionId: 1,
  portalId: PORTAL,
  occurredAt: 1_700_000_000_000 + objectId,
  subscriptionType: 'contact.deletion',
  objectId,
});

/** A journal of entries `e1`, `e2`, … each holding one deletion event; `expired` offsets answer 404. */
function fakeJournal(size: number, expired: readonly string[] = []) {
  const offsets = Array.from({ length: size }, (_, i) => `e${i + 1}`);
  const position = (offset: string): JournalPosition => ({ offset, url: offset, expiresAt: 0 });
  const client = {
    async latest() {
      const last = offsets.at(-1);
      return last ? position(last) : undefined;
    },
    async earliest(count = 100) {
      return offsets.slice(0, count).map(position);
    },
    async next(offset: string, count = 100) {
      if (expired.includes(offset)) throw new JournalOffsetExpired(offset);
      const at = offsets.indexOf(offset);
      return offsets.slice(at + 1, at + 1 + count).map(position);
    },
    async download(entry: JournalPosition) {
      return { events: [event(Number(entry.offset.slice(1)))], skipped: 0 };
    },
  } as unknown as JournalClient;
  return {
    client,
    offsets,
    append: () => offsets.push(`e${offsets.length + 1}`),
  };
}

function fakeRepository(initial?: JournalCheckpoint) {
  let stored = initial;
  const fills: GapFillRecord[] = [];
  const repository: JournalRepository = {
    checkpoint: async () => stored,
    save: async (_executor, checkpoint) => {
      stored = checkpoint;
    },
    recordGapFill: async (_executor, record) => {
      fills.push(record);
    },
  };
  return { repository, fills, stored: () => stored };
}

function setUp(options: { journal: ReturnType<typeof fakeJournal>; checkpoint?: JournalCheckpoint }) {
  let now = Date.UTC(2026, 11, 1);
  const inboxed: WebhookEvent[] = [];
  const repo = fakeRepository(options.checkpoint);
  let sweeps = 0;
  const gapFill = createGapFill({
    database: { db: {} } as unknown as Database,
    journal: options.journal.client,
    journals: repo.repository,
    inbox: {
      insert: async (_executor: unknown, events: readonly WebhookEvent[]) => {
        inboxed.push(...events);
        return events.length;
      },
    } as unknown as InboxRepository,
    portalId: PORTAL,
    logger: createLogger({ level: 'silent' }),
    clock: { now: () => new Date(now) },
    onEvents: () => {},
    fullSweep: async () => {
      sweeps++;
      return { done: Promise.resolve(true) };
    },
  });
  return {
    gapFill,
    repo,
    inboxed,
    sweeps: () => sweeps,
    advance: (ms: number) => {
      now += ms;
    },
    at: (offsetMs: number) => new Date(now + offsetMs),
  };
}

describe('the journal checkpoint', () => {
  test('a tick claims the offset the previous tick read, never the one it just read', async () => {
    const journal = fakeJournal(2);
    const { gapFill, repo, advance } = setUp({ journal });
    await gapFill.tick();
    expect(repo.stored()).toBeUndefined();
    journal.append();
    advance(MINUTE);
    await gapFill.tick();
    expect(repo.stored()?.offset).toBe('e2');
    advance(MINUTE);
    await gapFill.tick();
    expect(repo.stored()?.offset).toBe('e3');
  });

  test('an empty journal is claimed as such, and a later fill reads it from its earliest entry', async () => {
    const journal = fakeJournal(0);
    const { gapFill, repo, inboxed, advance } = setUp({ journal });
    await gapFill.tick();
    advance(MINUTE);
    await gapFill.tick();
    expect(repo.stored()?.offset).toBe(EMPTY_JOURNAL);
    journal.append();
    journal.append();
    advance(10 * MINUTE);
    expect(await gapFill.recover()).toMatchObject({ kind: 'filled', events: 2 });
    expect(inboxed.map((e) => e.objectId)).toEqual([1, 2]);
    expect(repo.stored()?.offset).toBe('e2');
  });

  test('a failed tick breaks the chain: the next tick claims nothing', async () => {
    const journal = fakeJournal(1);
    const { gapFill, repo, advance } = setUp({ journal });
    await gapFill.tick();
    const latest = journal.client.latest;
    journal.client.latest = async () => {
      throw new Error('HubSpot is down');
    };
    advance(MINUTE);
    await expect(gapFill.tick()).rejects.toThrow('HubSpot is down');
    journal.client.latest = latest;
    advance(MINUTE);
    await gapFill.tick();
    expect(repo.stored()).toBeUndefined();
    advance(MINUTE);
    await gapFill.tick();
    expect(repo.stored()?.offset).toBe('e1');
  });

  test('a tick that finds the checkpoint stale fills the gap first', async () => {
    const journal = fakeJournal(3);
    const { gapFill, repo, inboxed, at } = setUp({
      journal,
      checkpoint: { portalId: PORTAL, offset: 'e1', checkedAt: new Date(Date.UTC(2026, 11, 1) - 5 * MINUTE) },
    });
    await gapFill.tick();
    expect(inboxed.map((e) => e.objectId)).toEqual([2, 3]);
    expect(repo.stored()).toMatchObject({ offset: 'e3', checkedAt: at(0) });
  });
});

describe('recovery after downtime', () => {
  const checkpointAged = (ageMs: number, offset = 'e2'): JournalCheckpoint => ({
    portalId: PORTAL,
    offset,
    checkedAt: new Date(Date.UTC(2026, 11, 1) - ageMs),
  });

  test('a fresh checkpoint needs nothing', async () => {
    const { gapFill, inboxed, sweeps } = setUp({
      journal: fakeJournal(4),
      checkpoint: checkpointAged(MINUTE),
    });
    expect(await gapFill.recover()).toEqual({ kind: 'fresh' });
    expect(inboxed).toEqual([]);
    expect(sweeps()).toBe(0);
  });

  test('a stale one puts every later event in the inbox, records the fill and moves the checkpoint', async () => {
    const journal = fakeJournal(250);
    const { gapFill, inboxed, repo, sweeps } = setUp({ journal, checkpoint: checkpointAged(10 * MINUTE) });
    expect(await gapFill.recover()).toEqual({ kind: 'filled', entries: 248, events: 248, added: 248 });
    expect(inboxed.map((e) => e.objectId)).toEqual(Array.from({ length: 248 }, (_, i) => i + 3));
    expect(repo.stored()?.offset).toBe('e250');
    expect(repo.fills).toEqual([
      expect.objectContaining({ fromOffset: 'e2', toOffset: 'e250', events: 248, outageMs: 10 * MINUTE }),
    ]);
    expect(sweeps()).toBe(0);
  });

  test('no checkpoint, one older than 3 days, or an expired offset start a full sweep', async () => {
    for (const [checkpoint, reason] of [
      [undefined, 'no journal checkpoint'],
      [checkpointAged(3 * 24 * 60 * MINUTE), 'the checkpoint is older than the journal keeps'],
      [checkpointAged(10 * MINUTE, 'e1'), 'the checkpoint offset has expired'],
    ] as const) {
      const journal = fakeJournal(3, ['e1']);
      const { gapFill, inboxed, repo, sweeps } = setUp({ journal, checkpoint });
      const result = await gapFill.recover();
      expect(result).toMatchObject({ kind: 'full-sweep', reason });
      expect(sweeps()).toBe(1);
      expect(inboxed).toEqual([]);
      await (result.kind === 'full-sweep' ? result.done : undefined);
      // The offset taken before the sweep began becomes the checkpoint once it completes.
      expect(repo.stored()?.offset).toBe('e3');
    }
  });
});
