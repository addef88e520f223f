import type { Clock } from '../../clock.ts';
import type { Database } from '../../db/client.ts';
import type { Logger } from '../../logger.ts';
import type { InboxRepository } from '../../webhooks/inbox.repository.ts';
import { EMPTY_JOURNAL, type JournalRepository } from './journal.repository.ts';
import { type JournalClient, JournalOffsetExpired } from './journal-client.ts';
import { readJournalFrom } from './journal-reader.ts';

/** HubSpot keeps 3 days of journal (https://developers.hubspot.com/docs/api-reference/latest/webhooks-journal/journal-entries/guide). */
export const JOURNAL_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;
export const DEFAULT_GAP_THRESHOLD_MS = 2 * 60_000;

export interface GapFillDeps {
  database: Database;
  journal: JournalClient;
  journals: JournalRepository;
  inbox: InboxRepository;
  portalId: number;
  logger: Logger;
  clock: Clock;
  /** Events were put in the inbox: the apply loops should look. */
  onEvents: () => void;
  /** Starts the last resort; resolves when it ends, true when it completed. False: it could not start. */
  fullSweep: () => Promise<{ done: Promise<boolean> } | undefined>;
  /** A checkpoint older than this means the service may have missed events: fill the gap. */
  thresholdMs?: number;
  retentionMs?: number;
}

export type RecoveryResult =
  | { kind: 'fresh' }
  | { kind: 'filled'; entries: number; events: number; added: number }
  | { kind: 'full-sweep'; reason: string; done: Promise<boolean> | undefined };

/**
 * Keeps the service's place in the Webhooks Journal while it is healthy, and after an outage puts what it
 * missed into the webhook inbox (deduplicated on HubSpot's composite key, so events that also came by webhook
 * are harmless), or, when the journal cannot cover the gap, starts a full sweep.
 */
export function createGapFill(deps: GapFillDeps) {
  const { database, journal, journals, inbox, portalId, logger, clock } = deps;
  const thresholdMs = deps.thresholdMs ?? DEFAULT_GAP_THRESHOLD_MS;
  const retentionMs = deps.retentionMs ?? JOURNAL_RETENTION_MS;
  /** The newest offset read by the last tick, not yet claimed: see `tick`. */
  let pending: { offset: string; takenAt: Date } | undefined;
  let recovering: Promise<RecoveryResult> | undefined;

  async function fullSweep(reason: string): Promise<RecoveryResult> {
    logger.warn({ reason }, `the journal cannot cover the gap (${reason}): starting a full sweep`);
    // Taken before the sweep reads anything: everything up to this offset is in HubSpot's state the sweep
    // reads, so once it completes the checkpoint may claim it.
    const takenAt = clock.now();
    const before = await journal.latest().then(
      (position) => position?.offset ?? EMPTY_JOURNAL,
      (error) => {
        logger.warn({ err: error }, 'cannot read the journal: the full sweep will not set a checkpoint');
        return undefined;
      },
    );
    const started = await deps.fullSweep();
    const done = started?.done
      .then(async (completed) => {
        if (completed && before !== undefined)
          await journals.save(database.db, { portalId, offset: before, checkedAt: takenAt });
        return completed;
      })
      .catch((error) => {
        logger.error({ err: error }, 'could not record the journal checkpoint after the full sweep');
        return false;
      });
    return { kind: 'full-sweep', reason, done };
  }

  async function fill(from: { offset: string; checkedAt: Date }): Promise<RecoveryResult> {
    const startedAt = clock.now();
    let offset = from.offset;
    let entries = 0;
    let events = 0;
    let added = 0;
    try {
      const start = from.offset === EMPTY_JOURNAL ? null : from.offset;
      for await (const page of readJournalFrom(journal, start)) {
        added += await inbox.insert(database.db, page.events);
        events += page.events.length;
        entries += page.entries;
        offset = page.lastOffset;
        deps.onEvents();
      }
    } catch (error) {
      if (error instanceof JournalOffsetExpired) return fullSweep('the checkpoint offset has expired');
      throw error;
    }
    // Every event up to `offset` is in the inbox now.
    await journals.save(database.db, { portalId, offset, checkedAt: startedAt });
    await journals.recordGapFill(database.db, {
      portalId,
      fromOffset: from.offset,
      toOffset: offset,
      entries,
      events,
      added,
      outageMs: startedAt.getTime() - from.checkedAt.getTime(),
    });
    logger.info({ entries, events, added }, `gap-filled ${events} events from the journal`);
    return { kind: 'filled', entries, events, added };
  }

  async function recoverNow(): Promise<RecoveryResult> {
    const checkpoint = await journals.checkpoint(database.db, portalId);
    if (!checkpoint) return fullSweep('no journal checkpoint');
    const age = clock.now().getTime() - checkpoint.checkedAt.getTime();
    if (age < thresholdMs) return { kind: 'fresh' };
    if (age >= retentionMs) return fullSweep('the checkpoint is older than the journal keeps');
    return fill(checkpoint);
  }

  function recover(): Promise<RecoveryResult> {
    pending = undefined;
    recovering ??= recoverNow().finally(() => {
      recovering = undefined;
    });
    return recovering;
  }

  return {
    /**
     * At start-up, before any sweep: fills the gap since the checkpoint when it is older than the threshold;
     * with no checkpoint, or one the journal no longer covers, starts a full sweep.
     */
    recover,

    /**
     * Run every minute or so while the service runs. It reads the journal's newest offset and claims the one
     * the previous tick read, never the one just read: an offset read now may name events whose webhooks are
     * still on the way, but the events up to an offset read a whole interval ago were delivered to a service
     * that has been up and answering since, well within HubSpot's 5-second delivery timeout. Taking the offset
     * before the moment webhooks are known caught up is what makes the claim safe; taking it after would claim
     * events the service may not have. Any failure breaks the chain, and a checkpoint gone stale (the service
     * or its database was unreachable) is filled from first. A delivery the service refused in between (a
     * database blip) is not lost either: HubSpot retries it for about a day.
     */
    async tick(): Promise<void> {
      if (recovering) return;
      try {
        const stored = await journals.checkpoint(database.db, portalId);
        if (stored && clock.now().getTime() - stored.checkedAt.getTime() >= thresholdMs) {
          await recover();
          return;
        }
        const takenAt = clock.now();
        const latest = await journal.latest();
        const claim = pending;
        pending = { offset: latest?.offset ?? EMPTY_JOURNAL, takenAt };
        if (claim && (!stored || stored.checkedAt <= claim.takenAt))
          await journals.save(database.db, { portalId, offset: claim.offset, checkedAt: claim.takenAt });
      } catch (error) {
        pending = undefined;
        throw error;
      }
    },
  };
}

export type GapFill = ReturnType<typeof createGapFill>;
