/**
 * The pure core of the mirror: how a contact's state absorbs changes. Every rule here is order-independent,
 * so any interleaving, duplication or delay of the same changes converges to the same state:
 * - a property keeps the value with the newest HubSpot time (ties: the larger value, so the choice is stable);
 * - the lifecycle (exists, archived, merged, erased) follows its newest event, ties broken by a fixed rank;
 * - a privacy deletion is final: nothing personal is stored for that contact again.
 */

export type ContactSyncStatus = 'synced' | 'pending' | 'error';

export interface ContactState {
  hubspotId: string;
  /** False for a contact first seen in this batch. */
  exists: boolean;
  data: Record<string, string | null>;
  /** Per property, the HubSpot time (epoch ms) of the value held. */
  versions: Record<string, number>;
  archived: boolean;
  mergedInto: string | null;
  /** occurredAt × 10 + rank of the newest lifecycle event applied (0: none). */
  lifecycleVersion: number;
  erased: boolean;
  syncStatus: ContactSyncStatus;
}

/** `observedLive`: a read of HubSpot (a sweep page) saw the contact alive, with its properties. */
type Lifecycle =
  | 'created'
  | 'mergeSurvivor'
  | 'observedLive'
  | 'restored'
  | 'deleted'
  | 'mergedAway'
  | 'erased';

/** At the same millisecond, the more final event wins: an erasure beats a merge beats a deletion beats a restore. */
const LIFECYCLE_RANK: Record<Lifecycle, number> = {
  created: 1,
  mergeSurvivor: 2,
  observedLive: 3,
  restored: 4,
  deleted: 5,
  mergedAway: 6,
  erased: 7,
};

export type ContactChange =
  | { kind: 'property'; at: number; name: string; value: string | null }
  | { kind: 'lifecycle'; at: number; event: Lifecycle; survivor?: string }
  /**
   * The whole record was read from HubSpot at `at`: each property is a change at that time, and the contact
   * no longer waits for a fetch. One change for the lot, since a full sweep reads a million of them.
   */
  | { kind: 'read'; at: number; properties: Record<string, string | null> }
  /** Recorded in the logs only (associations are not mirrored). */
  | { kind: 'note'; at: number; detail: Record<string, unknown> };

export type Transition = 'created' | 'restored' | 'deleted' | 'merged' | 'erased';

export interface ApplyOutcome {
  before: ContactState;
  after: ContactState;
  changedProperties: string[];
  transitions: Transition[];
  /** Changes that lost to something newer already held (still worth a line in the sync log). */
  stale: ContactChange[];
}

export const lifecycleVersionOf = (at: number, event: Lifecycle) => at * 10 + LIFECYCLE_RANK[event];

/** HubSpot reports a cleared property as "" in webhooks and null in the API: one value for both. */
export const normaliseValue = (value: string | null | undefined): string | null =>
  value === undefined || value === '' ? null : value;

/** Folds one property value into `after`; false when something newer is already held (the value is stale). */
function applyProperty(
  after: ContactState,
  changed: Set<string>,
  at: number,
  name: string,
  raw: string | null,
): boolean {
  const value = normaliseValue(raw);
  const held = after.data[name] ?? null;
  // The same value at the same time (a duplicate, or a read confirming it): nothing to do, nothing stale.
  if (after.versions[name] === at && held === value) return true;
  if (!newerProperty(at, value, after.versions[name], held)) return false;
  after.versions[name] = at;
  if (held !== value || !(name in after.data)) {
    after.data[name] = value;
    changed.add(name);
  }
  return true;
}

function newerProperty(
  at: number,
  value: string | null,
  heldAt: number | undefined,
  held: string | null,
): boolean {
  if (heldAt === undefined || at > heldAt) return true;
  if (at < heldAt) return false;
  return (value ?? '') > (held ?? '');
}

// Two merges of one contact in the same millisecond: the larger survivor id wins, so the choice is stable.
function newerLifecycle(
  version: number,
  change: ContactChange & { kind: 'lifecycle' },
  held: ContactState,
): boolean {
  if (version !== held.lifecycleVersion) return version > held.lifecycleVersion;
  return change.event === 'mergedAway' && compareIds(change.survivor ?? '', held.mergedInto ?? '') > 0;
}

const compareIds = (a: string, b: string) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

const ARCHIVING: ReadonlySet<Lifecycle> = new Set(['deleted', 'mergedAway', 'erased']);

export function applyChanges(before: ContactState, changes: readonly ContactChange[]): ApplyOutcome {
  const after: ContactState = {
    ...before,
    exists: true,
    data: { ...before.data },
    versions: { ...before.versions },
  };
  const changed = new Set<string>();
  const stale: ContactChange[] = [];
  let lifecycleTouched = false;
  const ordered = [...changes].sort((a, b) => a.at - b.at);

  for (const change of ordered) {
    if (after.erased && change.kind !== 'note') {
      // The earliest erasure is the one on record, whichever arrived first.
      if (change.kind === 'lifecycle' && change.event === 'erased') {
        after.lifecycleVersion = Math.min(after.lifecycleVersion, lifecycleVersionOf(change.at, 'erased'));
      }
      stale.push(change);
      continue;
    }
    switch (change.kind) {
      case 'property':
        if (!applyProperty(after, changed, change.at, change.name, change.value)) stale.push(change);
        break;
      case 'read':
        for (const name in change.properties) {
          const value = change.properties[name] ?? null;
          if (!applyProperty(after, changed, change.at, name, value))
            stale.push({ kind: 'property', at: change.at, name, value });
        }
        after.syncStatus = 'synced';
        break;
      case 'lifecycle': {
        const version = lifecycleVersionOf(change.at, change.event);
        // An erasure is final whatever arrived before it: it is never outdated by a newer event.
        if (!newerLifecycle(version, change, after) && change.event !== 'erased') {
          if (version !== after.lifecycleVersion) stale.push(change);
          break;
        }
        after.lifecycleVersion = version;
        lifecycleTouched = true;
        after.archived = ARCHIVING.has(change.event);
        after.mergedInto = change.event === 'mergedAway' ? (change.survivor ?? null) : null;
        if (change.event === 'erased') {
          after.erased = true;
          for (const name of Object.keys(after.data)) changed.add(name);
          after.data = {};
          after.versions = {};
        } else if (!after.archived && change.event !== 'observedLive') {
          // Creation, restore and merge leave properties only HubSpot can tell us: read the contact again.
          after.syncStatus = 'pending';
        }
        break;
      }
      case 'note':
        break;
    }
  }
  if (after.erased) after.syncStatus = 'synced';

  return {
    before,
    after,
    changedProperties: [...changed].sort(),
    transitions: lifecycleTouched || !before.exists ? transitionsBetween(before, after) : [],
    stale,
  };
}

function transitionsBetween(before: ContactState, after: ContactState): Transition[] {
  if (after.erased && !before.erased) return ['erased'];
  if (!before.exists) {
    if (after.mergedInto) return ['merged'];
    return after.archived ? ['deleted'] : ['created'];
  }
  if (after.mergedInto && after.mergedInto !== before.mergedInto) return ['merged'];
  if (after.archived && !before.archived) return ['deleted'];
  if (!after.archived && before.archived) return ['restored'];
  return [];
}

export function emptyContact(hubspotId: string): ContactState {
  return {
    hubspotId,
    exists: false,
    data: {},
    versions: {},
    archived: false,
    mergedInto: null,
    lifecycleVersion: 0,
    erased: false,
    syncStatus: 'pending',
  };
}
