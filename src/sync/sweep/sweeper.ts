import type { Database } from '../../db/client.ts';
import { retryOnConflict } from '../../db/transient.ts';
import type { ErrorsRepository } from '../../errors/errors.repository.ts';
import { describeError } from '../../errors/sanitize.ts';
import type { HubSpotClient } from '../../hubspot/client.ts';
import type { Logger } from '../../logger.ts';
import type { ApplyRepository } from '../apply/apply.repository.ts';
import { applyContactChanges } from '../apply/apply-changes.ts';
import { currentProperties, type MirroredProperties } from '../schema/property-set.ts';
import type {
  SessionRow,
  SessionsRepository,
  SweepMode,
  SweepTrigger,
} from '../sessions/sessions.repository.ts';
import { type FullCheckpoint, newFullCheckpoint, runFullSweep } from './full-sweep.ts';
import {
  type IncrementalCheckpoint,
  newIncrementalCheckpoint,
  runIncrementalSweep,
  WATERMARK,
} from './incremental-sweep.ts';
import { createPurgeRepository, type PurgeRepository } from './purge.repository.ts';
import type { SweepRepository } from './sweep.repository.ts';
import type { SweepContext } from './sweep-context.ts';

// Any fixed 64-bit number: one sweep at a time across every instance sharing the database.
const SWEEP_LOCK_KEY = 7_262_002_002n;
const DEFAULT_LOOKBACK_MS = 24 * 3_600_000;

export interface SweeperDeps {
  database: Database;
  hubspot: HubSpotClient | undefined;
  apply: ApplyRepository;
  sweeps: SweepRepository;
  sessions: SessionsRepository;
  errors: ErrorsRepository;
  logger: Logger;
  /** The mirrored set, read as each sweep starts. */
  properties: MirroredProperties;
  purges?: PurgeRepository;
  /** Share of the live contacts a full sweep may archive without `allowMassArchive`. */
  maxArchiveShare?: number;
  /** Whether the HubSpot connection can be used now; sweeps wait (refused as not connected) while not. */
  connected?: () => boolean;
}

export interface StartRequest {
  mode: SweepMode;
  trigger: SweepTrigger;
  triggeredBy?: string | null;
  allowMassArchive?: boolean;
}

export type StartResult =
  | { started: SessionRow; done: Promise<SessionRow> }
  | { running: SessionRow | undefined }
  | { notConnected: true };

class Stopping extends Error {
  override name = 'Stopping';
}

/**
 * Starts sweeps, one at a time across all instances (a PostgreSQL advisory lock, held for the whole sweep).
 * A sweep interrupted by a crash or a shutdown is marked failed by the next one, which resumes from its
 * checkpoint when it is of the same mode.
 */
export function createSweeper(deps: SweeperDeps) {
  const { database, hubspot, sessions, sweeps, logger } = deps;
  const purges = deps.purges ?? createPurgeRepository();
  let stopping = false;
  const inFlight = new Set<Promise<unknown>>();

  async function initialCheckpoint(
    mode: SweepMode,
    resumable: SessionRow[],
  ): Promise<FullCheckpoint | IncrementalCheckpoint> {
    // A sweep that died (a crash, a deploy, HubSpot down for too long) is picked up where it stopped, as
    // long as no sweep of its mode has completed since.
    const latest = await sessions.latest(database.db, { mode });
    const resume = [...resumable, ...(latest ? [latest] : [])].find(
      (row) =>
        row.mode === mode &&
        row.status === 'failed' &&
        (row.checkpoint as { kind?: string } | null)?.kind === mode,
    );
    if (resume) {
      logger.info(
        { from: resume.session_id, checkpoint: resume.checkpoint },
        'resuming an interrupted sweep',
      );
      return resume.checkpoint as FullCheckpoint | IncrementalCheckpoint;
    }
    if (mode === 'full') return newFullCheckpoint();
    const watermark = await sweeps.readCursor<{ ts: number }>(database.db, WATERMARK);
    const lastFull = await sessions.latest(database.db, { mode: 'full', status: 'completed' });
    const since =
      watermark?.ts ?? (lastFull ? Date.parse(lastFull.start_time) : Date.now() - DEFAULT_LOOKBACK_MS);
    return newIncrementalCheckpoint(since, Date.now());
  }

  async function run(session: SessionRow, request: StartRequest, client: HubSpotClient): Promise<SessionRow> {
    const context: SweepContext = {
      database,
      hubspot: client,
      apply: deps.apply,
      sweeps,
      purges,
      sessions,
      session,
      properties: [
        ...new Set([...currentProperties(deps.properties), 'hs_merged_object_ids', 'lastmodifieddate']),
      ],
      maxArchiveShare: deps.maxArchiveShare ?? 0.1,
      importing: !(await sessions.latest(database.db, { mode: 'full', status: 'completed' })),
      allowMassArchive: request.allowMassArchive ?? false,
      write: (work) => retryOnConflict(() => database.db.transaction(work)),
      applyBatch: (tx, batch) =>
        applyContactChanges(tx, deps.apply, batch, {
          source: 'sweep',
          userId: 'hubspot:sweep',
          sessionId: session.id,
          quietWhenUnchanged: true,
          importing: context.importing,
        }),
      throwIfStopping() {
        if (stopping)
          throw new Stopping('the service is shutting down; the next sweep resumes from the checkpoint');
      },
    };
    try {
      const total = await expectedContacts(
        client,
        session.checkpoint as FullCheckpoint | IncrementalCheckpoint,
      );
      const running = await sessions.start(database.db, session.id, total);
      const checkpoint = running.checkpoint as FullCheckpoint | IncrementalCheckpoint;
      if (checkpoint.kind === 'full') await runFullSweep(context, checkpoint);
      else await runIncrementalSweep(context, checkpoint);
      const done = await sessions.finish(database.db, session.id, { status: 'completed' });
      logger.info(
        { session: done.session_id, mode: done.mode, seen: done.seen_count, drift: done.drift_count },
        'sweep completed',
      );
      return done;
    } catch (error) {
      const described = describeError(error);
      if (!(error instanceof Stopping)) {
        await deps.errors.record({
          sessionId: session.id,
          errorType: `sweep.${request.mode}_failed`,
          errorMessage: described.message,
          stackTrace: described.stack,
          context: { sessionId: session.session_id },
        });
      }
      logger.error({ err: error, session: session.session_id }, 'sweep failed');
      return sessions.finish(database.db, session.id, { status: 'failed', error: described.message });
    }
  }

  /** HubSpot's count of what the sweep will read, for its ETA; null (no ETA) when search cannot tell. */
  async function expectedContacts(
    client: HubSpotClient,
    checkpoint: FullCheckpoint | IncrementalCheckpoint,
  ): Promise<number | null> {
    try {
      if (checkpoint.kind === 'full') return await client.countContacts([]);
      return await client.countContacts([
        { propertyName: 'lastmodifieddate', operator: 'GTE', value: String(checkpoint.ts) },
        { propertyName: 'lastmodifieddate', operator: 'LTE', value: String(checkpoint.until) },
      ]);
    } catch (error) {
      logger.warn({ err: error }, 'could not count the contacts a sweep will read; it runs without an ETA');
      return null;
    }
  }

  return {
    /**
     * Starts a sweep unless one is running anywhere. Resolves once the session exists (so an API caller gets
     * its id at once); the sweep itself goes on in the background (`done`).
     */
    async start(request: StartRequest): Promise<StartResult> {
      if (!hubspot || deps.connected?.() === false) return { notConnected: true };
      if (stopping) return { running: undefined };
      let announce!: (result: StartResult) => void;
      let fail!: (error: unknown) => void;
      const announced = new Promise<StartResult>((resolve, reject) => {
        announce = resolve;
        fail = reject;
      });
      let finished!: (row: SessionRow) => void;
      const done = new Promise<SessionRow>((resolve) => {
        finished = resolve;
      });
      let outcome: SessionRow | undefined;
      const attempt = database
        .tryWithAdvisoryLock(SWEEP_LOCK_KEY, async () => {
          const interrupted = await sessions.failInterrupted(database.db);
          const checkpoint = await initialCheckpoint(request.mode, interrupted);
          const session = await sessions.create(database.db, {
            mode: request.mode,
            trigger: request.trigger,
            triggeredBy: request.triggeredBy ?? null,
            checkpoint,
          });
          announce({ started: session, done });
          outcome = await run(session, request, hubspot);
        })
        .then(async (result) => {
          if (!result.acquired) announce({ running: await sessions.active(database.db) });
          // Only once the lock is released: a sweep started as soon as this one is done must not find it running.
          else if (outcome) finished(outcome);
        })
        .catch((error) => {
          logger.error({ err: error }, 'could not start a sweep');
          fail(error);
        });
      inFlight.add(attempt);
      void attempt.finally(() => inFlight.delete(attempt));
      return announced;
    },

    /**
     * At start-up: sessions left `pending` or `running` by an instance that stopped are marked failed, so
     * they do not show as live forever while no sweep can start (HubSpot not connected). Only when no sweep
     * runs anywhere (the sweep lock is free): a session another instance is running is not a leftover.
     * The next sweep of the same mode still resumes from a failed session's checkpoint.
     */
    async failLeftovers(): Promise<SessionRow[]> {
      const result = await database.tryWithAdvisoryLock(SWEEP_LOCK_KEY, () =>
        sessions.failInterrupted(database.db),
      );
      return result.acquired ? result.value : [];
    },

    /** Stops between pages and waits for the running sweep to record where it stopped. */
    async stop(): Promise<void> {
      stopping = true;
      await Promise.allSettled([...inFlight]);
    },
  };
}

export type Sweeper = ReturnType<typeof createSweeper>;
