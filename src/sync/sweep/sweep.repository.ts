import { sql } from 'drizzle-orm';
import { asJson, type Executor, query } from '../../db/query.ts';

const idList = (ids: readonly string[]) =>
  sql`(select value from jsonb_array_elements_text(${asJson(ids)}::jsonb))`;

const heldBeforeClause = (heldBefore: string | undefined) =>
  heldBefore ? sql`coalesce(c.created_at, '-infinity') < ${heldBefore}::timestamptz` : sql`true`;

/** Storage a sweep needs beyond the apply step: which ids a pass saw, what the mirror holds, the watermark. */
export function createSweepRepository() {
  return {
    async markSeen(executor: Executor, passId: string, hubspotIds: readonly string[]): Promise<void> {
      if (hubspotIds.length === 0) return;
      await executor.execute(sql`insert into sweep_seen (pass_id, hubspot_id)
        select ${passId}::uuid, value from ${idList(hubspotIds)} as v(value) on conflict do nothing`);
    },

    async databaseNow(executor: Executor): Promise<string> {
      const [row] = await query<{ now: string }>(executor, sql`select now()::text as now`);
      if (!row) throw new Error('the database did not tell its time');
      return row.now;
    },

    /**
     * Live contacts in the mirror (created before `heldBefore`, when given) that the pass never saw in HubSpot,
     * in id order after `afterId`.
     */
    async unseen(
      executor: Executor,
      passId: string,
      afterId: string,
      limit: number,
      heldBefore?: string,
    ): Promise<string[]> {
      const rows = await query<{ hubspot_id: string }>(
        executor,
        sql`select c.hubspot_id from contacts c
          where not c.archived and c.hubspot_id > ${afterId} and ${heldBeforeClause(heldBefore)}
            and not exists (select 1 from sweep_seen s where s.pass_id = ${passId}::uuid and s.hubspot_id = c.hubspot_id)
          order by c.hubspot_id limit ${limit}`,
      );
      return rows.map((row) => row.hubspot_id);
    },

    async countUnseen(
      executor: Executor,
      passId: string,
      heldBefore?: string,
    ): Promise<{ unseen: number; live: number }> {
      const [row] = await query<{ unseen: number; live: number }>(
        executor,
        sql`select
            count(*) filter (where not exists (
              select 1 from sweep_seen s where s.pass_id = ${passId}::uuid and s.hubspot_id = c.hubspot_id))::int as unseen,
            count(*)::int as live
          from contacts c where not c.archived and ${heldBeforeClause(heldBefore)}`,
      );
      return { unseen: row?.unseen ?? 0, live: row?.live ?? 0 };
    },

    async forgetPass(executor: Executor, passId: string): Promise<void> {
      await executor.execute(sql`delete from sweep_seen where pass_id = ${passId}::uuid`);
    },

    async readCursor<T>(executor: Executor, name: string): Promise<T | undefined> {
      const [row] = await query<{ value: T }>(
        executor,
        sql`select value from sync_cursors where name = ${name}`,
      );
      return row?.value;
    },

    async writeCursor(executor: Executor, name: string, value: unknown): Promise<void> {
      await executor.execute(sql`insert into sync_cursors (name, value, updated_at) values (${name}, ${JSON.stringify(value)}::jsonb, now())
        on conflict (name) do update set value = excluded.value, updated_at = now()`);
    },
  };
}

export type SweepRepository = ReturnType<typeof createSweepRepository>;
