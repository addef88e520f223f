import type { ContactRecord } from './contact.ts';
import type { PropertyVersion } from './history.ts';
import { isoFromMs } from './iso.ts';
import { DEFAULT_PROPERTIES, type PropertyLookup } from './properties.ts';

export interface PublicContact {
  id: string;
  properties: Record<string, string | null>;
  propertiesWithHistory?: Record<string, ValueWithTimestamp[]>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}

/** One entry of `propertiesWithHistory` (`ValueWithTimestamp` in HubSpot's spec). */
export interface ValueWithTimestamp {
  value: string;
  timestamp: string;
  sourceType: string;
  sourceId?: string;
  updatedByUserId?: number;
}

/** The properties whose history a read asks for, and where that history comes from. */
export interface HistoryRequest {
  names: readonly string[];
  historyOf: (contact: ContactRecord, name: string) => PropertyVersion[];
}

// HubSpot adds these to every object read, whatever was asked for.
const ALWAYS_RETURNED = ['createdate', 'hs_object_id', 'lastmodifieddate'];

/**
 * `properties` from a query string: repeated keys (`properties=a&properties=b`, what the SDK sends) or
 * comma lists (`properties=a,b`), which HubSpot also takes.
 */
export function parsePropertyList(raw: unknown): string[] | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const parts = Array.isArray(raw) ? raw : [raw];
  const names = parts.flatMap((part) => String(part).split(',')).map((name) => name.trim());
  const known = names.filter((name) => name !== '');
  return known.length > 0 ? known : null;
}

/** A contact in HubSpot's `SimplePublicObject` shape; unset requested properties come back as null. */
export function toPublicContact(
  contact: ContactRecord,
  requested: readonly string[] | null,
  catalog: PropertyLookup,
  history: HistoryRequest | null = null,
): PublicContact {
  const names = new Set(requested ?? DEFAULT_PROPERTIES);
  for (const name of ALWAYS_RETURNED) names.add(name);
  const properties: Record<string, string | null> = {};
  for (const name of [...names].sort()) {
    // Unknown property names are silently left out, as HubSpot does.
    if (!catalog.find(name)) continue;
    properties[name] = contact.properties[name] ?? null;
  }
  const shaped: PublicContact = {
    id: String(contact.id),
    properties,
    createdAt: isoFromMs(contact.createdAt),
    updatedAt: isoFromMs(contact.updatedAt),
    archived: contact.archived,
  };
  if (history && history.names.length > 0) {
    const withHistory: NonNullable<PublicContact['propertiesWithHistory']> = {};
    for (const name of history.names) {
      if (!catalog.find(name)) continue;
      withHistory[name] = history.historyOf(contact, name).map(({ timestamp, ...version }) => ({
        ...version,
        timestamp: isoFromMs(timestamp),
      }));
    }
    shaped.propertiesWithHistory = withHistory;
  }
  if (contact.archived && contact.archivedAt !== null) {
    shaped.archivedAt = isoFromMs(contact.archivedAt);
  }
  return shaped;
}
