import type { Clock } from '../../clock.ts';
import type { Database } from '../../db/client.ts';
import type { Logger } from '../../logger.ts';
import type { InboxRepository } from '../../webhooks/inbox.repository.ts';
import type { Sweeper } from '../sweep/sweeper.ts';
import { createGapFill, type RecoveryResult } from './gap-fill.ts';
import { createJournalRepository } from './journal.repository.ts';
import type { JournalClient } from './journal-client.ts';

export interface JournalSettings {
  client: JournalClient;
  portalId: number;
  /** How often the checkpoint moves forward; 0: only when `tick` is called. */
  tickEveryMs?: number;
  thresholdMs?: number;
  clock?: Clock;
}

export interface JournalWorkerDeps extends JournalSettings {
  database: Database;
  inbox: InboxRepository;
  sweeper: Sweeper;
  logger: Logger;
  /** Events were put in the inbox. */
  onEvents: () => void;
  /** Resolves once the apply loops have applied what the inbox holds. */
  applied: () => Promise<void>;
}

const DEFAULT_TICK_MS = 60_000;

/** The Webhooks Journal's part of one instance: the gap fill at start-up, then the checkpoint every minute. */
export function createJournalWorker(deps: JournalWorkerDeps) {
  const { logger } = deps;
  const gapFill = createGapFill({
    database: deps.database,
    journal: deps.client,
    journals: createJournalRepository(),
    inbox: deps.inbox,
    portalId: deps.portalId,
    logger,
    clock: deps.clock ?? { now: () => new Date() },
    onEvents: deps.onEvents,
    thresholdMs: deps.thresholdMs,
    async fullSweep() {
      const result = await deps.sweeper.start({ mode: 'full', trigger: 'startup' });
      if (!('started' in result)) return undefined;
      return { done: result.done.then((session) => session.status === 'completed') };
    },
  });
  let timer: NodeJS.Timeout | undefined;

  async function recover(): Promise<RecoveryResult | undefined> {
    const result = await gapFill.recover().catch((error) => {
      logger.error({ err: error }, 'could not fill the gap from the webhooks journal');
      return undefined;
    });
    // What the journal added is applied before any sweep looks at the same contacts.
    if (result?.kind === 'filled') await deps.applied();
    return result;
  }

  return {
    recover,
    tick: () => gapFill.tick(),
    async start(): Promise<void> {
      await recover();
      const every = deps.tickEveryMs ?? DEFAULT_TICK_MS;
      if (every <= 0) return;
      timer = setInterval(() => {
        gapFill.tick().catch((error) => logger.warn({ err: error }, 'could not move the journal checkpoint'));
      }, every);
      timer.unref();
    },
    stop(): void {
      if (timer) clearInterval(timer);
    },
  };
}

export type JournalWorker = ReturnType<typeof createJournalWorker>;
