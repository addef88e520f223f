import type { Database } from './db/client.ts';
import { createErrorsRepository } from './errors/errors.repository.ts';
import type { Logger } from './logger.ts';
import { createApplyRepository } from './sync/apply/apply.repository.ts';
import { createApplyWorker } from './sync/apply/apply-worker.ts';
import { createWebhookApplier } from './sync/apply/webhook-applier.ts';
import { createInboxRepository } from './webhooks/inbox.repository.ts';

export interface WorkersDeps {
  database: Database;
  logger: Logger;
  applyBatchSize?: number;
}

/** The background work of one instance: applying the webhook inbox. */
export function createWorkers({ database, logger, applyBatchSize }: WorkersDeps) {
  const applier = createWebhookApplier({
    database,
    inbox: createInboxRepository(),
    apply: createApplyRepository(),
    errors: createErrorsRepository({ db: database.db }),
    logger: logger.child({ worker: 'apply' }),
  });
  const apply = createApplyWorker({
    applier,
    database,
    logger: logger.child({ worker: 'apply' }),
    ...(applyBatchSize ? { batchSize: applyBatchSize } : {}),
  });
  return {
    apply,
    async start() {
      await apply.start();
    },
    async stop() {
      await apply.stop();
    },
  };
}

export type Workers = ReturnType<typeof createWorkers>;
