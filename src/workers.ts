import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import { createErrorsRepository } from './errors/errors.repository.ts';
import type { HubSpotClient } from './hubspot/client.ts';
import type { Logger } from './logger.ts';
import { createApplyRepository } from './sync/apply/apply.repository.ts';
import { createWebhookApplier } from './sync/apply/webhook-applier.ts';
import { createDrainLoop } from './sync/drain-loop.ts';
import { createContactFetcher } from './sync/fetch/contact-fetcher.ts';
import { createFetchRepository } from './sync/fetch/fetch.repository.ts';
import { createSessionsRepository } from './sync/sessions/sessions.repository.ts';
import { createSweepScheduler } from './sync/sweep/scheduler.ts';
import { createSweepRepository } from './sync/sweep/sweep.repository.ts';
import { createSweeper } from './sync/sweep/sweeper.ts';
import { createInboxRepository, INBOX_CHANNEL } from './webhooks/inbox.repository.ts';

export interface WorkersDeps {
  config: Pick<Config, 'HUBSPOT_CONTACT_PROPERTIES' | 'RECONCILE_INTERVAL' | 'FULL_RECONCILE_INTERVAL'>;
  database: Database;
  logger: Logger;
  /** Absent when no HubSpot connection is configured: contacts then wait as `pending` for one. */
  hubspot?: HubSpotClient | undefined;
  applyBatchSize?: number;
  /** Off in tests that start sweeps themselves. */
  schedule?: boolean;
}

/**
 * The background work of one instance: applying the webhook inbox as soon as events land (woken by NOTIFY
 * from whichever instance took them), reading from HubSpot the contacts the events left incomplete, and
 * the scheduled reconciliation sweeps.
 */
export function createWorkers({
  config,
  database,
  logger,
  hubspot,
  applyBatchSize = 10_000,
  schedule = true,
}: WorkersDeps) {
  const errors = createErrorsRepository({ db: database.db });
  const inbox = createInboxRepository();
  const apply = createApplyRepository();
  const applier = createWebhookApplier({
    database,
    inbox,
    apply,
    errors,
    logger: logger.child({ worker: 'apply' }),
  });
  const fetcher = hubspot
    ? createContactFetcher({
        database,
        hubspot,
        fetches: createFetchRepository(),
        apply,
        errors,
        logger: logger.child({ worker: 'fetch' }),
        properties: config.HUBSPOT_CONTACT_PROPERTIES,
      })
    : undefined;
  const fetchLoop = fetcher
    ? createDrainLoop({
        step: fetcher.fetchNext,
        logger: logger.child({ worker: 'fetch' }),
        concurrency: 2,
        wakeEveryMs: 2_000,
      })
    : undefined;
  const applyLoop = createDrainLoop({
    step: async () => {
      const applied = await applier.applyNext(applyBatchSize);
      if (applied > 0) fetchLoop?.wake();
      return applied;
    },
    logger: logger.child({ worker: 'apply' }),
    // One batch at a time per instance: a second one would mostly wait on the same contacts' row locks, and
    // large batches already keep PostgreSQL busy. Other instances share the inbox through SKIP LOCKED.
    concurrency: 1,
  });
  let announcing: NodeJS.Timeout | undefined;
  const sessions = createSessionsRepository();
  const sweeper = createSweeper({
    database,
    hubspot,
    apply,
    sweeps: createSweepRepository(),
    sessions,
    errors,
    logger: logger.child({ worker: 'sweep' }),
    properties: config.HUBSPOT_CONTACT_PROPERTIES,
  });
  const scheduler =
    hubspot && schedule
      ? createSweepScheduler({
          sweeper,
          sessions,
          database,
          logger: logger.child({ worker: 'schedule' }),
          incrementalEveryMs: config.RECONCILE_INTERVAL,
          fullEveryMs: config.FULL_RECONCILE_INTERVAL,
        })
      : undefined;
  let unlisten: (() => Promise<void>) | undefined;

  return {
    apply: applyLoop,
    fetch: fetchLoop,
    sweeper,
    /**
     * A webhook delivery added events: this instance's apply loop wakes at once, and other instances are told
     * with one NOTIFY per short burst of deliveries rather than one per delivery.
     */
    onWebhookAccepted(): void {
      applyLoop.wake();
      if (database.kind !== 'postgres' || announcing) return;
      announcing = setTimeout(() => {
        announcing = undefined;
        inbox
          .announce(database.db)
          .catch((error) => logger.warn({ err: error }, 'could not announce new inbox events'));
      }, 20);
    },
    async start() {
      // Some poolers (Supabase's transaction mode) cannot LISTEN: the apply loop's timer then finds new events.
      unlisten = await database.listen(INBOX_CHANNEL, applyLoop.wake).catch((error) => {
        logger.warn(
          { err: error },
          'cannot LISTEN for new webhook events; other instances are found every 5 s',
        );
        return undefined;
      });
      applyLoop.start();
      fetchLoop?.start();
      await scheduler?.start();
    },
    /** Resolves once the inbox is applied and no fetch is due (for tests, benchmarks and the demo). */
    async settled() {
      await applyLoop.drained();
      await fetchLoop?.drained();
    },
    async stop() {
      if (announcing) clearTimeout(announcing);
      scheduler?.stop();
      await sweeper.stop();
      await unlisten?.().catch(() => {});
      await applyLoop.stop();
      await fetchLoop?.stop();
    },
  };
}

export type Workers = ReturnType<typeof createWorkers>;
