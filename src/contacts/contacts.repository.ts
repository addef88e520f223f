import { and, desc, eq, or, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { keyset } from '../db/keyset.ts';
import {
  type ContactSyncStatus,
  contactAssociations,
  contactPropertyHistory,
  contacts,
} from '../db/schema/index.ts';
import type { KeysetCursor } from '../http/cursor.ts';

export interface ContactFilter {
  /** Exact address, compared case-insensitively. */
  email?: string | undefined;
  /** Free text: a case-insensitive substring of email, first name, last name or company. */
  q?: string | undefined;
  syncStatus?: ContactSyncStatus | undefined;
  /** ISO-8601 timestamp; kept as text so a caller's microseconds survive to PostgreSQL. */
  updatedSince?: string | undefined;
  /** true: only archived (deleted or merged-away) contacts; false: only live ones. */
  archived: boolean;
  after?: KeysetCursor | undefined;
  limit: number;
}

const contactsKeyset = keyset(contacts.updatedAt, contacts.id);

const contactColumns = {
  id: contacts.id,
  hubspotId: contacts.hubspotId,
  data: contacts.data,
  archived: contacts.archived,
  mergedInto: contacts.mergedInto,
  purgedAt: contacts.purgedAt,
  syncStatus: contacts.syncStatus,
  lastSync: contacts.lastSync,
  createdAt: contacts.createdAt,
  updatedAt: contacts.updatedAt,
  cursorAt: contactsKeyset.cursorAt,
};

export interface ContactRecord {
  id: string;
  hubspotId: string;
  data: Record<string, string | null>;
  archived: boolean;
  mergedInto: string | null;
  /** When HubSpot's 90-day purge of the deleted contact was noticed; null while HubSpot still has it. */
  purgedAt: Date | null;
  syncStatus: ContactSyncStatus | null;
  lastSync: Date;
  createdAt: Date | null;
  updatedAt: Date;
  /** The row's keyset position, `updated_at` at microsecond precision. */
  cursorAt: string;
}

/** Makes `%`, `_` and `\` in user input match themselves in a LIKE pattern (escape character `\`). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, '\\$&');
}

export interface HistoryFilter {
  property?: string | undefined;
  /** The position of the last entry of the previous page: its HubSpot time and id. */
  after?: { occurredAt: number; id: number } | undefined;
  limit: number;
}

export interface HistoryRecord {
  id: number;
  propertyName: string;
  value: string | null;
  occurredAt: number;
  source: string;
  sourceId: string | null;
  applied: boolean;
  recordedAt: Date;
}

export interface AssociationRecord {
  toObjectType: string;
  toObjectId: string;
  associationTypeId: number;
  label: string | null;
  isPrimary: boolean;
}

const SEARCHED_PROPERTIES = ['email', 'firstname', 'lastname', 'company'] as const;

export function createContactsRepository({ db }: { db: Db }) {
  return {
    /** Newest first; `limit + 1` rows so the caller knows whether another page exists. */
    async list({
      email,
      q,
      syncStatus,
      updatedSince,
      archived,
      after,
      limit,
    }: ContactFilter): Promise<ContactRecord[]> {
      const pattern = q === undefined ? undefined : `%${escapeLike(q)}%`;
      const conditions: (SQL | undefined)[] = [
        eq(contacts.archived, archived),
        // Written exactly as idx_contacts_email's expression so the planner can use it.
        email === undefined ? undefined : sql`lower(${contacts.data} ->> 'email') = lower(${email})`,
        pattern === undefined
          ? undefined
          : or(
              ...SEARCHED_PROPERTIES.map(
                (name) => sql`(${contacts.data} ->> ${sql.raw(`'${name}'`)}) ilike ${pattern} escape '\\'`,
              ),
            ),
        syncStatus === undefined ? undefined : eq(contacts.syncStatus, syncStatus),
        updatedSince === undefined ? undefined : sql`${contacts.updatedAt} >= ${updatedSince}::timestamptz`,
        // A row comparison, which PostgreSQL answers from idx_contacts_updated_at (updated_at, id).
        after ? contactsKeyset.after(after) : undefined,
      ];
      return db
        .select(contactColumns)
        .from(contacts)
        .where(and(...conditions))
        .orderBy(...contactsKeyset.orderBy)
        .limit(limit + 1);
    },

    /** A contact's property values, newest HubSpot time first; `limit + 1` rows, as `list`. */
    async history(hubspotId: string, { property, after, limit }: HistoryFilter): Promise<HistoryRecord[]> {
      const h = contactPropertyHistory;
      return db
        .select({
          id: h.id,
          propertyName: h.propertyName,
          value: h.value,
          occurredAt: h.occurredAt,
          source: h.source,
          sourceId: h.sourceId,
          applied: h.applied,
          recordedAt: h.recordedAt,
        })
        .from(h)
        .where(
          and(
            eq(h.hubspotId, hubspotId),
            property === undefined ? undefined : eq(h.propertyName, property),
            after ? sql`(${h.occurredAt}, ${h.id}) < (${after.occurredAt}, ${after.id})` : undefined,
          ),
        )
        .orderBy(desc(h.occurredAt), desc(h.id))
        .limit(limit + 1);
    },

    /** A contact's live associations (removed ones are kept only as tombstones), primary first. */
    async associations(hubspotId: string): Promise<AssociationRecord[]> {
      const a = contactAssociations;
      return db
        .select({
          toObjectType: a.toObjectType,
          toObjectId: a.toObjectId,
          associationTypeId: a.associationTypeId,
          label: a.label,
          isPrimary: a.isPrimary,
        })
        .from(a)
        .where(and(eq(a.contactHubspotId, hubspotId), eq(a.removed, false)))
        .orderBy(desc(a.isPrimary), a.toObjectType, a.toObjectId, a.associationTypeId);
    },

    /** One contact by its HubSpot id, archived or not. */
    async findByHubspotId(hubspotId: string): Promise<ContactRecord | undefined> {
      const [row] = await db.select(contactColumns).from(contacts).where(eq(contacts.hubspotId, hubspotId));
      return row;
    },
  };
}

export type ContactsRepository = ReturnType<typeof createContactsRepository>;
