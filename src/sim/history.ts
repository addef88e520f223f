import type { ChangeSource } from './changes.ts';

/** One value a property took, as HubSpot's `ValueWithTimestamp` carries it (timestamp in epoch ms here). */
export interface PropertyVersion {
  value: string;
  timestamp: number;
  sourceType: string;
  sourceId?: string;
  updatedByUserId?: number;
}

/**
 * HubSpot documents no cap on the versions `propertiesWithHistory` returns, but it does not keep every value
 * forever either; the simulator keeps and serves the newest 20 of each property, which bounds its memory.
 */
export const MAX_VERSIONS_PER_PROPERTY = 20;

/**
 * Webhook `changeSource` values and history `sourceType` values are two vocabularies: workflows report as
 * `AUTOMATION_PLATFORM` in history, the rest keep their name.
 */
const SOURCE_TYPES: Record<string, string> = {
  WORKFLOWS: 'AUTOMATION_PLATFORM',
  AUTOMATION: 'AUTOMATION_PLATFORM',
};

/** The history attribution of a write: users as `userId:N` with `updatedByUserId`, as HubSpot reports them. */
export function versionSource(source: ChangeSource): Omit<PropertyVersion, 'value' | 'timestamp'> {
  const sourceType = SOURCE_TYPES[source.changeSource] ?? source.changeSource;
  const user = /^userId:(\d+)$/.exec(source.sourceId);
  return user?.[1]
    ? { sourceType, sourceId: source.sourceId, updatedByUserId: Number(user[1]) }
    : { sourceType, sourceId: source.sourceId };
}

/**
 * What a contact's properties looked like before anything was recorded for it: the seeded history of a seeded
 * contact, or every value set at once when it was created. Computed on demand, never stored.
 */
export type ImplicitHistory = (
  id: number,
  name: string,
  currentValue: string | undefined,
) => PropertyVersion[];

/**
 * Property history per contact. Only properties written after a contact came to be are stored, each capped at
 * MAX_VERSIONS_PER_PROPERTY; the rest is derived by `implicit`, so a 100,000-contact import stores nothing here.
 */
export function createPropertyHistory(implicit: ImplicitHistory) {
  const recorded = new Map<number, Map<string, PropertyVersion[]>>();

  function read(id: number, name: string, currentValue: string | undefined): PropertyVersion[] {
    const own = recorded.get(id)?.get(name);
    return own ? own.slice() : implicit(id, name, currentValue).slice(0, MAX_VERSIONS_PER_PROPERTY);
  }

  return {
    /** Newest first. `currentValue` is the property's value now (it seeds the derived history). */
    read,

    /** Records that `name` changes from `previousValue` to `version.value`. */
    record(id: number, name: string, previousValue: string | undefined, version: PropertyVersion): void {
      let byName = recorded.get(id);
      if (!byName) {
        byName = new Map();
        recorded.set(id, byName);
      }
      let versions = byName.get(name);
      if (!versions) {
        versions = implicit(id, name, previousValue).slice(0, MAX_VERSIONS_PER_PROPERTY);
        byName.set(name, versions);
      }
      versions.unshift(version);
      if (versions.length > MAX_VERSIONS_PER_PROPERTY) versions.length = MAX_VERSIONS_PER_PROPERTY;
    },

    /** Gives `toId` the history `fromId` has now for these properties (a merge that makes a new record). */
    copy(fromId: number, toId: number, properties: Record<string, string>): void {
      const byName = new Map<string, PropertyVersion[]>();
      for (const [name, value] of Object.entries(properties)) byName.set(name, read(fromId, name, value));
      recorded.set(toId, byName);
    },

    /** A privacy deletion leaves no trace of former values. */
    erase(id: number): void {
      recorded.set(id, new Map());
    },

    /** How many contacts have recorded history (a memory gauge for tests). */
    get size(): number {
      return recorded.size;
    },
  };
}

export type PropertyHistory = ReturnType<typeof createPropertyHistory>;
