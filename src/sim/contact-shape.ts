import type { ContactRecord } from './contact.ts';
import { isoFromMs } from './iso.ts';
import { DEFAULT_PROPERTIES, findProperty } from './properties.ts';

export interface PublicContact {
  id: string;
  properties: Record<string, string | null>;
  propertiesWithHistory?: Record<string, { value: string; timestamp: string; sourceType: string }[]>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
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
  withHistory: readonly string[] | null = null,
): PublicContact {
  const names = new Set(requested ?? DEFAULT_PROPERTIES);
  for (const name of ALWAYS_RETURNED) names.add(name);
  const properties: Record<string, string | null> = {};
  for (const name of [...names].sort()) {
    // Unknown property names are silently left out, as HubSpot does.
    if (!findProperty(name)) continue;
    properties[name] = contact.properties[name] ?? null;
  }
  const shaped: PublicContact = {
    id: String(contact.id),
    properties,
    createdAt: isoFromMs(contact.createdAt),
    updatedAt: isoFromMs(contact.updatedAt),
    archived: contact.archived,
  };
  if (withHistory && withHistory.length > 0) {
    // Only the current value is kept, so the history is one entry long.
    const history: NonNullable<PublicContact['propertiesWithHistory']> = {};
    for (const name of withHistory) {
      const value = contact.properties[name];
      if (!findProperty(name)) continue;
      history[name] =
        value === undefined ? [] : [{ value, timestamp: isoFromMs(contact.updatedAt), sourceType: 'API' }];
    }
    shaped.propertiesWithHistory = history;
  }
  if (contact.archived && contact.archivedAt !== null) {
    shaped.archivedAt = isoFromMs(contact.archivedAt);
  }
  return shaped;
}
