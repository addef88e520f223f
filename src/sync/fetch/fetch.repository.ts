import { sql } from 'drizzle-orm';
import { asJson, type Executor, query } from '../../db/query.ts';

/** How long a fetcher holds the contacts it took before another may take them (a crashed fetcher's lease). */
const LEASE = sql`interval '60 seconds'`;

export function createFetchRepository() {
  return {
    /** Takes up to `limit` contacts waiting for a read of HubSpot, leasing them so no other fetcher reads them too. */
    async lease(executor: Executor, limit: number): Promise<{ hubspotId: string; attempts: number }[]> {
      const rows = await query<{ hubspot_id: string; fetch_attempts: number }>(
        executor,
        sql`update contacts set next_fetch_at = now() + ${LEASE}, fetch_attempts = fetch_attempts + 1
          where hubspot_id in (
            select hubspot_id from contacts
            where sync_status = 'pending' and not archived and next_fetch_at <= now()
            order by next_fetch_at
            limit ${limit}
            for update skip locked)
          returning hubspot_id, fetch_attempts`,
      );
      return rows.map((row) => ({ hubspotId: row.hubspot_id, attempts: row.fetch_attempts }));
    },

    /**
     * HubSpot did not return these ids: try again later (1 s, 2 s, 4 s … 10 min), and after `maxAttempts`
     * mark them `error` so they show up in the API and the next sweep settles them.
     */
    async backOff(executor: Executor, hubspotIds: readonly string[], maxAttempts: number): Promise<string[]> {
      if (hubspotIds.length === 0) return [];
      const rows = await query<{ hubspot_id: string; sync_status: string }>(
        executor,
        sql`update contacts set
            next_fetch_at = now() + interval '1 second' * least(600, power(2, fetch_attempts - 1)),
            sync_status = case when fetch_attempts >= ${maxAttempts} then 'error' else sync_status end
          where hubspot_id in (select value from jsonb_array_elements_text(${asJson(hubspotIds)}::jsonb))
          returning hubspot_id, sync_status`,
      );
      return rows.filter((row) => row.sync_status === 'error').map((row) => row.hubspot_id);
    },

    /** Gives the lease back at once (the read failed for a reason that is not about these contacts). */
    async release(executor: Executor, hubspotIds: readonly string[], delaySeconds: number): Promise<void> {
      if (hubspotIds.length === 0) return;
      await executor.execute(sql`update contacts set
          next_fetch_at = now() + interval '1 second' * ${delaySeconds}, fetch_attempts = greatest(0, fetch_attempts - 1)
        where hubspot_id in (select value from jsonb_array_elements_text(${asJson(hubspotIds)}::jsonb))`);
    },
  };
}

export type FetchRepository = ReturnType<typeof createFetchRepository>;
