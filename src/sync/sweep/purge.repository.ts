import { sql } from 'drizzle-orm';
import { asJson, type Executor, query } from '../../db/query.ts';
import { appendOutbox } from '../../realtime/outbox.ts';

const idList = (ids: readonly string[]) =>
  sql`(select value from jsonb_array_elements_text(${asJson(ids)}::jsonb))`;

/** The mirror's record of HubSpot's 90-day purges: which archived rows to check, and marking them. */
export function createPurgeRepository() {
  return {
    /**
     * Deleted (archived, not merged-away) contacts, not yet marked purged and held before `heldBefore`, that
     * the pass did not see in HubSpot's archived list, in id order after `afterId`.
     */
    async unseenArchived(
      executor: Executor,
      passId: string,
      afterId: string,
      limit: number,
      heldBefore: string | undefined,
    ): Promise<string[]> {
      const rows = await query<{ hubspot_id: string }>(
        executor,
        sql`select c.hubspot_id from contacts c
          where c.archived and c.merged_into is null and c.purged_at is null and c.hubspot_id > ${afterId}
            and ${heldBefore ? sql`coalesce(c.created_at, '-infinity') < ${heldBefore}::timestamptz` : sql`true`}
            and not exists (select 1 from sweep_seen s where s.pass_id = ${passId}::uuid and s.hubspot_id = c.hubspot_id)
          order by c.hubspot_id limit ${limit}`,
      );
      return rows.map((row) => row.hubspot_id);
    },

    /**
     * Marks archived contacts purged by HubSpot, with an audit entry and a `contact:purged` event each; rows
     * already marked (or not archived) are left alone. Returns the ids marked now.
     */
    async markPurged(executor: Executor, hubspotIds: readonly string[], userId: string): Promise<string[]> {
      if (hubspotIds.length === 0) return [];
      const marked = await query<{ hubspot_id: string; purged_at: string }>(
        executor,
        sql`update contacts set purged_at = now(), updated_at = now()
          where hubspot_id in ${idList(hubspotIds)} and archived and purged_at is null
          returning hubspot_id, to_char(purged_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as purged_at`,
      );
      if (marked.length === 0) return [];
      const audit = marked.map((row) => ({
        entity_id: row.hubspot_id,
        new_data: { purgedAt: row.purged_at },
        user_id: userId,
      }));
      await executor.execute(sql`insert into audit_logs (entity_type, entity_id, operation, new_data, user_id)
        select 'contact', entity_id, 'delete', new_data, user_id
        from jsonb_to_recordset(${asJson(audit)}::jsonb) as r(entity_id text, new_data jsonb, user_id text)`);
      await appendOutbox(
        executor,
        marked.map((row) => ({
          type: 'contact:purged',
          data: { hubspotId: row.hubspot_id, purgedAt: row.purged_at },
        })),
      );
      return marked.map((row) => row.hubspot_id);
    },
  };
}

export type PurgeRepository = ReturnType<typeof createPurgeRepository>;
