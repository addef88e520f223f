import { type Config, DEFAULT_CONTACT_PROPERTIES } from './config.ts';
import type { Database } from './db/client.ts';
import { createErrorsRepository } from './errors/errors.repository.ts';
import type { HubSpotClient } from './hubspot/client.ts';
import type { Logger } from './logger.ts';
import { createApplyRepository } from './sync/apply/apply.repository.ts';
import { createWebhookApplier } from './sync/apply/webhook-applier.ts';
import { createDrainLoop } from './sync/drain-loop.ts';
import { createContactFetcher } from './sync/fetch/contact-fetcher.ts';
import { createFetchRepository } from './sync/fetch/fetch.repository.ts';
import { createJournalWorker, type JournalSettings } from './sync/journal/journal-worker.ts';
import { createPropertyDefinitionsRepository } from './sync/schema/property-definitions.repository.ts';
import { createPropertySet } from './sync/schema/property-set.ts';
import { createSchemaWatcher } from './sync/schema/schema-watcher.ts';
import { createSessionsRepository } from './sync/sessions/sessions.repository.ts';
import { createSweepScheduler } from './sync/sweep/scheduler.ts';
import { createSweepRepository } from './sync/sweep/sweep.repository.ts';
import { createSweeper } from './sync/sweep/sweeper.ts';
import type { DeliveryGate } from './webhooks/delivery-gate.ts';
import { createInboxRepository, INBOX_CHANNEL } from './webhooks/inbox.repository.ts';

export interface WorkersDeps {
  config: Pick<
    Config,
    | 'HUBSPOT_CONTACT_PROPERTIES'
    | 'HUBSPOT_SCHEMA_CHECK_INTERVAL'
    | 'RECONCILE_INTERVAL'
    | 'FULL_RECONCILE_INTERVAL'
  >;
  database: Database;
  logger: Logger;
  /** Absent when no HubSpot connection is configured: contacts then wait as `pending` for one. */
  hubspot?: HubSpotClient | undefined;
  applyBatchSize?: number;
  /** Apply loops per instance, each on its own slice of the contacts (PGlite, with one connection: 1). */
  applyShards?: number;
  /** While webhook deliveries are in flight, applying waits for them (up to `APPLY_MAX_DEFER_MS`). */
  deliveryGate?: DeliveryGate;
  /** Off in tests that start sweeps themselves. */
  schedule?: boolean;
  /**
   * Whether the HubSpot connection can be used now. While it cannot (an OAuth portal not yet connected, a
   * revoked token), fetch-backs and sweeps wait instead of failing in a loop; webhooks are still stored.
   */
  connected?: () => boolean;
  /** The Webhooks Journal: gap fill after downtime. Absent: off (no client credentials or no portal id). */
  journal?: JournalSettings | undefined;
}

/**
 * How long an apply batch may wait for a quiet moment between webhook deliveries. When deliveries saturate
 * the service, batches run at most this often, so acknowledgements stay fast and the backlog still drains.
 */
const APPLY_MAX_DEFER_MS = 10_000;

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
  applyShards = 2,
  deliveryGate,
  schedule = true,
  connected = () => true,
  journal,
}: WorkersDeps) {
  const errors = createErrorsRepository({ db: database.db });
  // What webhooks apply and sweeps and fetches request, kept in step with HubSpot's definitions.
  const properties = createPropertySet(config.HUBSPOT_CONTACT_PROPERTIES, DEFAULT_CONTACT_PROPERTIES);
  const schemaWatcher = hubspot
    ? createSchemaWatcher({
        hubspot,
        database,
        definitions: createPropertyDefinitionsRepository(),
        propertySet: properties,
        logger: logger.child({ worker: 'schema' }),
        everyMs: schedule ? config.HUBSPOT_SCHEMA_CHECK_INTERVAL : 0,
      })
    : undefined;
  const inbox = createInboxRepository();
  const apply = createApplyRepository();
  const applier = createWebhookApplier({
    database,
    inbox,
    apply,
    errors,
    logger: logger.child({ worker: 'apply' }),
    properties: properties.names,
  });
  const fetcher = hubspot
    ? createContactFetcher({
        database,
        hubspot,
        fetches: createFetchRepository(),
        apply,
        errors,
        logger: logger.child({ worker: 'fetch' }),
        properties: properties.names,
      })
    : undefined;
  const fetchLoop = fetcher
    ? createDrainLoop({
        step: () => (connected() ? fetcher.fetchNext() : Promise.resolve(0)),
        logger: logger.child({ worker: 'fetch' }),
        concurrency: 2,
        wakeEveryMs: 2_000,
      })
    : undefined;
  // One loop per shard of the contacts: each batch is PostgreSQL round trips and writes with JavaScript in
  // between, so a second loop keeps both sides busy. Shards never share a contact, so they never wait on each
  // other's row locks; merges, which span shards, run between them (the first loop takes them).
  const shards = database.kind === 'postgres' ? applyShards : 1;
  const applyLoops = Array.from({ length: shards }, (_, index) =>
    createDrainLoop({
      step: async () => {
        await deliveryGate?.quiet(APPLY_MAX_DEFER_MS);
        const merged = index === 0 ? await applier.applyMerges(applyBatchSize) : 0;
        const applied = merged + (await applier.applyNext(applyBatchSize, { index, count: shards }));
        if (applied > 0) fetchLoop?.wake();
        return applied;
      },
      logger: logger.child({ worker: 'apply', shard: index }),
    }),
  );
  const wakeApply = () => {
    for (const loop of applyLoops) loop.wake();
  };
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
    properties: properties.names,
    connected,
  });
  // Without HubSpot the schedule's sweeps are refused, but its start-up still fails sessions a crash left behind.
  const scheduler = schedule
    ? createSweepScheduler({
        sweeper,
        sessions,
        database,
        logger: logger.child({ worker: 'schedule' }),
        incrementalEveryMs: config.RECONCILE_INTERVAL,
        fullEveryMs: config.FULL_RECONCILE_INTERVAL,
      })
    : undefined;
  const journalWorker = journal
    ? createJournalWorker({
        ...journal,
        database,
        inbox,
        sweeper,
        logger: logger.child({ worker: 'journal' }),
        onEvents: wakeApply,
        applied: async () => {
          for (const loop of applyLoops) await loop.drained();
        },
      })
    : undefined;
  let unlisten: (() => Promise<void>) | undefined;

  return {
    wakeApply,
    fetch: fetchLoop,
    sweeper,
    properties,
    /** Reads HubSpot's property definitions now (tests; the schedule does it on its own). */
    checkSchema: () => schemaWatcher?.check() ?? Promise.resolve(),
    journal: journalWorker,
    /**
     * A webhook delivery added events: this instance's apply loop wakes at once, and other instances are told
     * with one NOTIFY per short burst of deliveries rather than one per delivery.
     */
    onWebhookAccepted(): void {
      wakeApply();
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
      unlisten = await database.listen(INBOX_CHANNEL, wakeApply).catch((error) => {
        logger.warn(
          { err: error },
          'cannot LISTEN for new webhook events; other instances are found every 5 s',
        );
        return undefined;
      });
      // The definitions first: the first sweep asks for what they resolve to.
      if (connected()) await schemaWatcher?.start();
      else
        await schemaWatcher
          ?.loadStored()
          .catch((error) => logger.warn({ err: error }, 'could not read the stored property definitions'));
      for (const loop of applyLoops) loop.start();
      fetchLoop?.start();
      // The journal fills a downtime's gap first, so sweeps start on a mirror that has it.
      await journalWorker?.start();
      await scheduler?.start();
    },
    /** A portal was (re)connected: fetch what waited, and run the sweep the schedule could not. */
    onConnected(): void {
      void schemaWatcher?.start();
      fetchLoop?.wake();
      void scheduler?.resume();
    },
    /** Resolves once the inbox is applied and no fetch is due (for tests, benchmarks and the demo). */
    async settled() {
      for (const loop of applyLoops) await loop.drained();
      await fetchLoop?.drained();
    },
    async stop() {
      if (announcing) clearTimeout(announcing);
      schemaWatcher?.stop();
      scheduler?.stop();
      journalWorker?.stop();
      await sweeper.stop();
      await unlisten?.().catch(() => {});
      await Promise.all(applyLoops.map((loop) => loop.stop()));
      await fetchLoop?.stop();
    },
  };
}

export type Workers = ReturnType<typeof createWorkers>;
