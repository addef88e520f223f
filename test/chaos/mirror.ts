import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.ts';
import type { Simulator } from '../../src/sim/simulator.ts';
import { mirrorDifferences } from '../helpers/stack.ts';
import type { RecordedDelivery } from './recording-proxy.ts';

type Backlog = {
  events: number;
  eventsDueIn: number | null;
  lastError: string | null;
  contacts: number;
  contactsDueIn: number | null;
  fetchAttempts: number | null;
};

/** What the service still has to do: events to apply and contacts to fetch, and when the next of each is due. */
async function backlog(database: Database): Promise<Backlog> {
  const [row] = await database.rows<Backlog>(sql`select
    (select count(*)::int from webhook_inbox where status = 'pending') as "events",
    (select round(extract(epoch from min(next_attempt_at) - now()))::int from webhook_inbox
      where status = 'pending') as "eventsDueIn",
    (select last_error from webhook_inbox where status = 'pending' and last_error is not null limit 1) as "lastError",
    (select count(*)::int from contacts where sync_status = 'pending' and not archived) as "contacts",
    (select round(extract(epoch from min(next_fetch_at) - now()))::int from contacts
      where sync_status = 'pending' and not archived) as "contactsDueIn",
    (select max(fetch_attempts) from contacts where sync_status = 'pending' and not archived) as "fetchAttempts"`);
  if (!row) throw new Error('no backlog row');
  return row;
}

/**
 * Waits until the service (another process) has applied its whole inbox and fetched every contact the events
 * left incomplete, then answers every difference from HubSpot's truth (empty: the mirror agrees). A backlog that
 * does not clear within `timeoutMs` is itself a difference, reported first with what is left.
 */
export async function settledDifferences(
  simulator: Simulator,
  database: Database,
  timeoutMs = 30_000,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let quietChecks = 0;
  let unsettled: string[] = [];
  while (quietChecks < 2) {
    const left = await backlog(database);
    if (Date.now() > deadline) {
      unsettled = [`not settled within ${timeoutMs} ms; still to do: ${JSON.stringify(left)}`];
      break;
    }
    quietChecks = left.events + left.contacts > 0 ? 0 : quietChecks + 1;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return [...unsettled, ...(await mirrorDifferences({ simulator, database }))];
}

export type InboxCounts = {
  /** Events stored, each once however often it was delivered. */
  stored: number;
  /** Events the service gave up applying (after repeated failures), waiting for a person to replay them. */
  parked: number;
};

export async function inboxCounts(database: Database): Promise<InboxCounts> {
  const [row] = await database.rows<InboxCounts>(sql`select count(*)::int as stored,
    (count(*) filter (where status = 'parked'))::int as parked from webhook_inbox`);
  return row ?? { stored: 0, parked: 0 };
}

/** Every event the service answered 2xx for, and those of them that are not in its inbox as applied. */
export async function acknowledgedButNotApplied(
  database: Database,
  deliveries: readonly RecordedDelivery[],
): Promise<{ acknowledged: number; lost: string[] }> {
  const acknowledged = new Set(
    deliveries.filter((d) => d.status >= 200 && d.status < 300).flatMap((d) => d.events),
  );
  const applied = await database.rows<{ key: string }>(sql`
    select portal_id || ':' || subscription_id || ':' || event_id as key from webhook_inbox where status = 'done'`);
  const appliedKeys = new Set(applied.map((row) => row.key));
  return { acknowledged: acknowledged.size, lost: [...acknowledged].filter((key) => !appliedKeys.has(key)) };
}
