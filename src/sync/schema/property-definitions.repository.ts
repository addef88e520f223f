import { sql } from 'drizzle-orm';
import { asJson, type Executor, query } from '../../db/query.ts';

export interface PropertyDefinition {
  name: string;
  label: string;
  type: string;
  fieldType: string;
}

/** HubSpot's contact property definitions as last read, with when each was first and last seen and deleted. */
export function createPropertyDefinitionsRepository() {
  return {
    /**
     * Records one complete read of HubSpot's live definitions: each is seen now (and no longer deleted), and
     * every one held but not in the read is marked deleted from now on. Returns the names newly deleted.
     */
    async record(executor: Executor, definitions: readonly PropertyDefinition[]): Promise<string[]> {
      await executor.execute(sql`insert into contact_property_definitions
          (name, label, type, field_type, deleted_at, first_seen_at, last_seen_at)
        select d.name, d.label, d.type, d."fieldType", null, now(), now()
        from jsonb_to_recordset(${asJson(definitions)}::jsonb)
          as d(name text, label text, type text, "fieldType" text)
        on conflict (name) do update set label = excluded.label, type = excluded.type,
          field_type = excluded.field_type, deleted_at = null, last_seen_at = now()`);
      const deleted = await query<{ name: string }>(
        executor,
        sql`update contact_property_definitions set deleted_at = now()
          where deleted_at is null
            and name not in (select value from jsonb_array_elements_text(${asJson(definitions.map((d) => d.name))}::jsonb))
          returning name`,
      );
      return deleted.map((row) => row.name).sort();
    },

    /** The names of the definitions not deleted, as last recorded. */
    async liveNames(executor: Executor): Promise<string[]> {
      const rows = await query<{ name: string }>(
        executor,
        sql`select name from contact_property_definitions where deleted_at is null order by name`,
      );
      return rows.map((row) => row.name);
    },
  };
}

export type PropertyDefinitionsRepository = ReturnType<typeof createPropertyDefinitionsRepository>;
