import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.ts';
import { createErrorsRepository } from '../../src/errors/errors.repository.ts';
import { createLogger, type Logger } from '../../src/logger.ts';
import { createApplyRepository } from '../../src/sync/apply/apply.repository.ts';
import { createWebhookApplier } from '../../src/sync/apply/webhook-applier.ts';
import { createInboxRepository } from '../../src/webhooks/inbox.repository.ts';

/** The ingest and apply halves of the webhook path, wired as the service wires them. */
export function webhookPipeline(
  database: Database,
  options: { logger?: Logger; properties?: readonly string[] } = {},
) {
  const inbox = createInboxRepository();
  const applier = createWebhookApplier({
    database,
    inbox,
    apply: createApplyRepository(),
    errors: createErrorsRepository({ db: database.db }),
    logger: options.logger ?? createLogger({ level: 'silent' }),
    ...(options.properties ? { properties: options.properties } : {}),
  });
  return {
    inbox,
    applier,
    // biome-ignore lint/suspicious/noExplicitAny: events are test fixtures of HubSpot's shape
    receive: (events: any[]) => inbox.insert(database.db, events),
    async applyAll(batchSize = 1000) {
      let total = 0;
      for (let n = await applier.applyNext(batchSize); n > 0; n = await applier.applyNext(batchSize))
        total += n;
      return total;
    },
  };
}

export async function contactRow(database: Database, hubspotId: string) {
  const [row] = await database.rows<{
    data: Record<string, string | null>;
    archived: boolean;
    merged_into: string | null;
    sync_status: string;
    erased: boolean;
  }>(
    sql`select data, archived, merged_into, sync_status, erased_at is not null as erased from contacts where hubspot_id = ${hubspotId}`,
  );
  return row;
}
