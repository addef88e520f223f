import { sql } from 'drizzle-orm';
import { asJson, type Executor, query } from '../../db/query.ts';
import { type AssociationView, type AssociationWrite, latestPerAssociation } from './association-changes.ts';

/** An association whose visible state a write changed: it appeared, disappeared, or changed label or flag. */
export interface AssociationChanged extends AssociationView {
  contactHubspotId: string;
  removed: boolean;
}

interface Row {
  contact_hubspot_id: string;
  to_object_type: string;
  to_object_id: string;
  association_type_id: number;
  category: string;
  label: string | null;
  is_primary: boolean;
  removed: boolean;
  version: string | number;
  source: AssociationWrite['source'];
}

const toWrite = (row: Row): AssociationWrite => ({
  contactHubspotId: row.contact_hubspot_id,
  toObjectType: row.to_object_type,
  toObjectId: row.to_object_id,
  associationTypeId: row.association_type_id,
  category: row.category,
  label: row.label,
  isPrimary: row.is_primary,
  removed: row.removed,
  version: Number(row.version),
  source: row.source,
});

const ids = (list: readonly string[]) =>
  sql`(select value from jsonb_array_elements_text(${asJson(list)}::jsonb))`;

/** The mirror of contact ↔ record associations (`contact_associations`). */
export function createAssociationsRepository() {
  return {
    /**
     * Applies the writes last-writer-wins on `version` (a removal wins a tie), so duplicates and reordered
     * events are harmless and an older "added" never revives a newer "removed". Returns the associations
     * whose state changed: added, removed, or relabelled (learning a label webhooks do not carry is not a
     * change). A removal of an association never held is kept too, so an older "added" arriving after it
     * stays outdated.
     */
    async apply(executor: Executor, writes: readonly AssociationWrite[]): Promise<AssociationChanged[]> {
      if (writes.length === 0) return [];
      const rows = latestPerAssociation(writes).map((write) => ({
        contact_hubspot_id: write.contactHubspotId,
        to_object_type: write.toObjectType,
        to_object_id: write.toObjectId,
        association_type_id: write.associationTypeId,
        category: write.category,
        label: write.label,
        is_primary: write.isPrimary,
        removed: write.removed,
        version: write.version,
        source: write.source,
      }));
      const changed = await query<Row & { was_live: boolean | null; old_label: string | null }>(
        executor,
        sql`with incoming as (
            select * from jsonb_to_recordset(${asJson(rows)}::jsonb) as r(
              contact_hubspot_id text, to_object_type text, to_object_id text, association_type_id int,
              category text, label text, is_primary boolean, removed boolean, version bigint, source text)
          ),
          previous as (
            select a.contact_hubspot_id, a.to_object_type, a.to_object_id, a.association_type_id,
              not a.removed as was_live, a.label as old_label
            from contact_associations a
            join incoming i using (contact_hubspot_id, to_object_type, to_object_id, association_type_id)
          ),
          written as (
            insert into contact_associations as a (contact_hubspot_id, to_object_type, to_object_id,
              association_type_id, category, label, is_primary, removed, version, source, updated_at)
            select contact_hubspot_id, to_object_type, to_object_id, association_type_id, category, label,
              is_primary, removed, version, source, now()
            from incoming
            order by contact_hubspot_id, to_object_type, to_object_id, association_type_id
            on conflict (contact_hubspot_id, to_object_type, to_object_id, association_type_id) do update set
              category = excluded.category,
              label = coalesce(excluded.label, a.label),
              is_primary = excluded.is_primary,
              removed = excluded.removed,
              version = excluded.version,
              source = excluded.source,
              updated_at = now()
            where a.version < excluded.version
              or (a.version = excluded.version and excluded.removed and not a.removed)
            returning a.*
          )
          select w.*, p.was_live, p.old_label
          from written w
          left join previous p using (contact_hubspot_id, to_object_type, to_object_id, association_type_id)
          where coalesce(p.was_live, false) <> not w.removed
            or (not w.removed and p.old_label is not null and p.old_label is distinct from w.label)`,
      );
      return changed.map((row) => ({
        contactHubspotId: row.contact_hubspot_id,
        toObjectType: row.to_object_type,
        toObjectId: row.to_object_id,
        associationTypeId: row.association_type_id,
        label: row.label,
        isPrimary: row.is_primary,
        removed: row.removed,
      }));
    },

    /**
     * Marks removed every live association of these contacts held from before `version`: a contact merged
     * away has none left in HubSpot (they moved to the survivor, which hears of them by its own events).
     */
    async retire(
      executor: Executor,
      contacts: readonly { contactHubspotId: string; version: number; source: AssociationWrite['source'] }[],
    ): Promise<void> {
      if (contacts.length === 0) return;
      const rows = contacts.map(({ contactHubspotId, version, source }) => ({
        contact_hubspot_id: contactHubspotId,
        version,
        source,
      }));
      await executor.execute(sql`update contact_associations a
        set removed = true, version = r.version, source = r.source, updated_at = now()
        from jsonb_to_recordset(${asJson(rows)}::jsonb) as r(contact_hubspot_id text, version bigint, source text)
        where a.contact_hubspot_id = r.contact_hubspot_id and not a.removed and a.version < r.version`);
    },

    /** The live associations held for these contacts (what a read of them is compared against). */
    async liveFor(executor: Executor, contactIds: readonly string[]): Promise<AssociationWrite[]> {
      if (contactIds.length === 0) return [];
      const rows = await query<Row>(
        executor,
        sql`select contact_hubspot_id, to_object_type, to_object_id, association_type_id, category, label,
            is_primary, removed, version, source
          from contact_associations
          where contact_hubspot_id in ${ids(contactIds)} and not removed`,
      );
      return rows.map(toWrite);
    },
  };
}

export type AssociationsRepository = ReturnType<typeof createAssociationsRepository>;
