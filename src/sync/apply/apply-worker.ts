import PQueue from 'p-queue';
import type { Database } from '../../db/client.ts';
import type { Logger } from '../../logger.ts';
import { INBOX_CHANNEL } from '../../webhooks/inbox.repository.ts';
import type { WebhookApplier } from './webhook-applier.ts';

export interface ApplyWorkerOptions {
  applier: WebhookApplier;
  database: Database;
  logger: Logger;
  batchSize?: number;
  concurrency?: number;
  /** A safety net for retries coming due and notifications lost with a connection; not the hot path. */
  sweepEveryMs?: number;
}

/**
 * Applies inbox events as soon as they land: woken by NOTIFY from any instance's ingest, it keeps up to
 * `concurrency` batches in flight until the inbox is drained, then sleeps until the next wake-up.
 */
export function createApplyWorker(options: ApplyWorkerOptions) {
  const { applier, database, logger } = options;
  const batchSize = options.batchSize ?? 1000;
  // PGlite runs one statement at a time: a second batch would only queue behind the first.
  const concurrency = database.kind === 'pglite' ? 1 : (options.concurrency ?? 2);
  const queue = new PQueue({ concurrency });
  let running = false;
  let idle = false;
  // Bumped by every wake-up: a batch that found nothing only puts the worker to sleep if no wake-up came meanwhile.
  let generation = 0;
  let unlisten: (() => Promise<void>) | undefined;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  function pump(): void {
    while (running && !idle && queue.size + queue.pending < concurrency) {
      const seen = generation;
      void queue.add(async () => {
        try {
          const claimed = await applier.applyNext(batchSize);
          failures = 0;
          if (claimed === 0 && seen === generation) idle = true;
        } catch (error) {
          failures++;
          logger.error({ err: error }, 'applying webhook events failed; retrying');
          idle = true;
          setTimeout(wake, Math.min(30_000, 250 * 2 ** failures)).unref();
        }
        pump();
      });
    }
  }

  function wake(): void {
    generation++;
    idle = false;
    pump();
  }

  return {
    async start(): Promise<void> {
      running = true;
      unlisten = await database.listen(INBOX_CHANNEL, wake);
      timer = setInterval(wake, options.sweepEveryMs ?? 5_000);
      timer.unref();
      wake();
    },
    wake,
    /** Resolves once nothing is left to apply right now (for tests and benchmarks). */
    async drained(): Promise<void> {
      while (!idle || queue.size + queue.pending > 0)
        await queue.onIdle().then(() => new Promise((r) => setImmediate(r)));
    },
    async stop(): Promise<void> {
      running = false;
      if (timer) clearInterval(timer);
      await unlisten?.().catch(() => {});
      await queue.onIdle();
    },
  };
}

export type ApplyWorker = ReturnType<typeof createApplyWorker>;
