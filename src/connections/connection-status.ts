import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { type Executor, query } from '../db/query.ts';
import { appendOutbox } from '../realtime/outbox.ts';

export interface ConnectionState {
  state: 'connected' | 'disconnected' | 'error';
  kind: 'private_app' | 'oauth' | null;
  portalId: number | null;
  error?: string;
}

const CURSOR = 'connection.status';

/**
 * Records the HubSpot connection's state in the caller's transaction and, when it differs from the last one
 * recorded (by any instance), tells dashboards with a `connection:status` event.
 */
export async function recordConnectionState(executor: Executor, current: ConnectionState): Promise<boolean> {
  const [held] = await query<{ value: ConnectionState }>(
    executor,
    sql`select value from sync_cursors where name = ${CURSOR} for update`,
  );
  if (held && JSON.stringify(held.value) === JSON.stringify(current)) return false;
  await executor.execute(sql`insert into sync_cursors (name, value, updated_at)
    values (${CURSOR}, ${JSON.stringify(current)}::jsonb, now())
    on conflict (name) do update set value = excluded.value, updated_at = now()`);
  await appendOutbox(executor, [{ type: 'connection:status', data: current }]);
  return true;
}

export const announceConnectionState = (db: Db, current: ConnectionState) =>
  db.transaction((tx) => recordConnectionState(tx, current));
