import { sql } from 'drizzle-orm';
import { asJson, type Executor } from '../db/query.ts';

export interface OutboxEvent {
  type: string;
  data: unknown;
}

/**
 * Appends events for dashboards in the caller's transaction: they become visible exactly when the change
 * they describe commits, and never for a change that rolled back.
 */
export async function appendOutbox(executor: Executor, events: readonly OutboxEvent[]): Promise<void> {
  if (events.length === 0) return;
  await executor.execute(sql`insert into outbox_events (type, data)
    select type, data from jsonb_to_recordset(${asJson(events)}::jsonb) as r(type text, data jsonb)`);
}
