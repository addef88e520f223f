import type { ChangeSource, PortalChange, PropertyChange } from './changes.ts';
import type { Clock } from './clock.ts';
import { additionalEmailsOf, type ContactRecord, cloneContact } from './contact.ts';
import { contactConflict, contactNotFound, validationError } from './errors.ts';
import { createPropertyHistory, type PropertyVersion, versionSource } from './history.ts';
import { isoFromMs } from './iso.ts';
import { furthestStage } from './lifecycle.ts';
import type { Random } from './random.ts';
import {
  isSeededId,
  type SeedPlan,
  seededContact,
  seededHistory,
  seededIndexForEmail,
  seededUpdatedAt,
} from './seed.ts';

export interface PortalOptions {
  plan: SeedPlan;
  clock: Clock;
  random: Random;
  /** Share of merges that produce a brand-new record id, as HubSpot's merges sometimes do. */
  mergeNewIdRate: number;
  /** How long search lags behind writes (HubSpot: "a few moments"). */
  searchLagMs: number;
}

export type Portal = ReturnType<typeof createPortal>;

type ChangeListener = (change: PortalChange) => void;

const MAX_MERGE_CHAIN = 100;
/** Combined from both contacts by a merge rather than moved from the merged-away one. */
const MERGE_COMBINED = new Set(['hs_merged_object_ids', 'hs_additional_emails', 'lifecyclestage']);
const CALCULATED_ON_CREATE = new Set(['hs_object_id', 'createdate', 'lastmodifieddate']);

/**
 * The portal's contacts. Seeded contacts live only as a seed plan until something changes them; then the changed
 * copy is stored. Ids are visited in ascending order: the seeded range first, then every id created since.
 */
export function createPortal(options: PortalOptions) {
  const { plan, clock, random } = options;
  const stored = new Map<number, ContactRecord>();
  const createdIds: number[] = [];
  const emailIndex = new Map<string, number>();
  const listeners: ChangeListener[] = [];
  /** While search lags, the version of a contact search still sees (null: not indexed yet). */
  const searchViews = new Map<number, { view: ContactRecord | null; until: number }>();
  let searchLagMs = options.searchLagMs;
  let nextId = plan.idBase + plan.count;
  let version = 0;
  /** When and by whom each contact created since start was made: its history before any later write. */
  const origins = new Map<number, { at: number; source: ChangeSource }>();
  const history = createPropertyHistory((id, name, currentValue): PropertyVersion[] => {
    if (currentValue === undefined) return [];
    const origin = origins.get(id);
    if (origin) {
      const attribution = CALCULATED_ON_CREATE.has(name)
        ? { sourceType: 'CALCULATED', sourceId: 'RollupProperties' }
        : versionSource(origin.source);
      return [{ value: currentValue, timestamp: origin.at, ...attribution }];
    }
    if (isSeededId(plan, id)) return seededHistory(plan, seededContact(plan, id - plan.idBase), name);
    return [];
  });

  function get(id: number): ContactRecord | undefined {
    const own = stored.get(id);
    if (own) return own;
    if (isSeededId(plan, id)) return seededContact(plan, id - plan.idBase);
    return undefined;
  }

  /** A stored, mutable copy of the contact; seeded contacts are copied out of the plan on first write. */
  function materialize(id: number): ContactRecord {
    const own = stored.get(id);
    if (own) return own;
    const seeded = get(id);
    if (!seeded) throw contactNotFound(String(id));
    stored.set(id, seeded);
    indexEmail(seeded);
    return seeded;
  }

  function indexEmail(contact: ContactRecord): void {
    const email = contact.properties.email;
    if (email) emailIndex.set(email.toLowerCase(), contact.id);
  }

  /** Follows merges to the record that holds the data now (HubSpot answers old ids with the survivor). */
  function resolve(id: number): ContactRecord | undefined {
    let contact = get(id);
    for (let hops = 0; contact?.mergedInto != null && hops < MAX_MERGE_CHAIN; hops++) {
      contact = get(contact.mergedInto);
    }
    return contact;
  }

  function isLive(contact: ContactRecord | undefined): contact is ContactRecord {
    return contact !== undefined && !contact.archived;
  }

  /**
   * The live contact holding `wanted` as its email, or as an additional email it gained by absorbing the
   * contact that had it: HubSpot finds a contact by any of its emails
   * (https://integrate.hubspot.com/t/email-or-pk-for-contact-api/11846).
   */
  function liveHolderOf(candidate: ContactRecord | undefined, wanted: string): ContactRecord | undefined {
    if (!candidate || candidate.properties.email?.toLowerCase() !== wanted) return undefined;
    if (!candidate.archived) return candidate;
    if (candidate.mergedInto === null) return undefined;
    const survivor = resolve(candidate.id);
    if (!isLive(survivor)) return undefined;
    const holds =
      survivor.properties.email?.toLowerCase() === wanted || additionalEmailsOf(survivor).includes(wanted);
    return holds ? survivor : undefined;
  }

  function findLiveByEmail(email: string): ContactRecord | undefined {
    const wanted = email.toLowerCase();
    const indexed = emailIndex.get(wanted);
    if (indexed !== undefined) {
      const holder = liveHolderOf(get(indexed), wanted);
      if (holder) return holder;
    }
    const seededIndex = seededIndexForEmail(plan, wanted);
    if (seededIndex !== undefined && !stored.has(plan.idBase + seededIndex)) {
      return liveHolderOf(seededContact(plan, seededIndex), wanted);
    }
    return undefined;
  }

  function assertEmailFree(email: string | undefined, ownId: number | null): void {
    if (!email) return;
    const holder = findLiveByEmail(email);
    if (holder && holder.id !== ownId) throw contactConflict(holder.id);
  }

  function* idsFrom(startId: number): Generator<number> {
    const seededEnd = plan.idBase + plan.count;
    for (let id = Math.max(startId, plan.idBase); id < seededEnd; id++) yield id;
    let low = 0;
    let high = createdIds.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((createdIds[mid] as number) < startId) low = mid + 1;
      else high = mid;
    }
    for (let i = low; i < createdIds.length; i++) yield createdIds[i] as number;
  }

  /** Every contact (archived, merged-away and erased included) with id ≥ startId, ascending. */
  function* scan(startId = 0): Generator<ContactRecord> {
    for (const id of idsFrom(startId)) {
      const contact = get(id);
      if (contact) yield contact;
    }
  }

  /** What search sees: live contacts as of `searchLagMs` ago. */
  function* scanForSearch(): Generator<ContactRecord> {
    const now = clock.now();
    for (const id of idsFrom(0)) {
      let contact = get(id);
      const lagging = searchViews.get(id);
      if (lagging) {
        if (lagging.until > now) contact = lagging.view ?? undefined;
        else searchViews.delete(id);
      }
      if (isLive(contact)) yield contact;
    }
  }

  /** Seeded contacts ordered by lastmodifieddate: built on first use, 12 bytes a contact. */
  let modifiedIndex: { order: Uint32Array; times: Float64Array } | null = null;

  function seededModifiedIndex(): { order: Uint32Array; times: Float64Array } {
    if (modifiedIndex) return modifiedIndex;
    const byIndex = new Float64Array(plan.count);
    for (let index = 0; index < plan.count; index++) byIndex[index] = seededUpdatedAt(plan, index);
    const order = new Uint32Array(plan.count);
    for (let index = 0; index < plan.count; index++) order[index] = index;
    order.sort((a, b) => (byIndex[a] as number) - (byIndex[b] as number) || a - b);
    const times = new Float64Array(plan.count);
    for (let k = 0; k < plan.count; k++) times[k] = byIndex[order[k] as number] as number;
    modifiedIndex = { order, times };
    return modifiedIndex;
  }

  /**
   * What search sees among contacts whose lastmodifieddate may lie in [low, high]: untouched seeded contacts
   * found through the index, plus every stored contact (whatever its date; the caller filters exactly).
   * Not in id order.
   */
  function* searchCandidatesModifiedBetween(low: number, high: number): Generator<ContactRecord> {
    const { order, times } = seededModifiedIndex();
    let start = 0;
    let end = times.length;
    while (start < end) {
      const mid = (start + end) >>> 1;
      if ((times[mid] as number) < low) start = mid + 1;
      else end = mid;
    }
    for (let k = start; k < times.length && (times[k] as number) <= high; k++) {
      const index = order[k] as number;
      if (stored.has(plan.idBase + index)) continue;
      const contact = seededContact(plan, index);
      if (isLive(contact)) yield contact;
    }
    const now = clock.now();
    for (const id of stored.keys()) {
      let contact = get(id);
      const lagging = searchViews.get(id);
      if (lagging && lagging.until > now) contact = lagging.view ?? undefined;
      if (isLive(contact)) yield contact;
    }
  }

  /** The version of a contact search shows (during lag, possibly an older one). */
  function searchRecord(id: number): ContactRecord | undefined {
    const lagging = searchViews.get(id);
    if (lagging && lagging.until > clock.now()) return lagging.view ?? undefined;
    return get(id);
  }

  function beforeWrite(id: number): void {
    version++;
    if (searchLagMs <= 0) return;
    const lagging = searchViews.get(id);
    const until = clock.now() + searchLagMs;
    if (lagging) {
      lagging.until = until;
      return;
    }
    const current = get(id);
    searchViews.set(id, { view: current ? cloneContact(current) : null, until });
  }

  function emit(change: PortalChange): void {
    for (const listener of listeners) listener(change);
  }

  function recordVersion(
    contact: ContactRecord,
    name: string,
    value: string,
    at: number,
    source: ChangeSource,
  ): void {
    history.record(contact.id, name, contact.properties[name], {
      value,
      timestamp: at,
      ...versionSource(source),
    });
  }

  /** Moves lastmodifieddate; `source` is omitted on creation, whose history is derived, not recorded. */
  function touch(contact: ContactRecord, at: number, source?: ChangeSource): void {
    const modified = isoFromMs(at);
    if (source) {
      history.record(contact.id, 'lastmodifieddate', contact.properties.lastmodifieddate, {
        value: modified,
        timestamp: at,
        sourceType: 'CALCULATED',
        sourceId: 'RollupProperties',
      });
    }
    contact.updatedAt = at;
    contact.properties.lastmodifieddate = modified;
  }

  /** Sets the values; every change is recorded in the history unless `recordAs` is null (a creation). */
  function applyValues(
    contact: ContactRecord,
    values: Record<string, string>,
    at: number,
    recordAs: ChangeSource | null,
  ): PropertyChange[] {
    const changes: PropertyChange[] = [];
    for (const [name, value] of Object.entries(values)) {
      const current = contact.properties[name];
      if (recordAs && (current ?? '') !== value) recordVersion(contact, name, value, at, recordAs);
      // HubSpot clears a property when it is set to an empty string.
      if (value === '') {
        if (current === undefined) continue;
        delete contact.properties[name];
      } else {
        if (current === value) continue;
        contact.properties[name] = value;
      }
      changes.push({ name, value });
    }
    return changes;
  }

  function create(values: Record<string, string>, source: ChangeSource, at = clock.now()): ContactRecord {
    assertEmailFree(values.email, null);
    const id = nextId++;
    beforeWrite(id);
    const contact: ContactRecord = {
      id,
      properties: { hs_object_id: String(id), createdate: isoFromMs(at) },
      createdAt: at,
      updatedAt: at,
      archived: false,
      archivedAt: null,
      mergedInto: null,
    };
    const changes = applyValues(contact, values, at, null);
    touch(contact, at);
    stored.set(id, contact);
    createdIds.push(id);
    origins.set(id, { at, source });
    indexEmail(contact);
    emit({ kind: 'created', id, at, source, changes });
    return contact;
  }

  /**
   * HubSpot stamps the changes of one record in strictly increasing milliseconds (a record is written one
   * change at a time); the simulator, which can make two changes within a millisecond, does the same.
   */
  function stampAfter(at: number, ...records: (ContactRecord | undefined)[]): number {
    return Math.max(at, ...records.map((record) => (record ? record.updatedAt + 1 : 0)));
  }

  function liveContact(id: number): ContactRecord {
    const contact = resolve(id);
    if (!isLive(contact)) throw contactNotFound(String(id));
    return contact;
  }

  function update(
    id: number,
    values: Record<string, string>,
    source: ChangeSource,
    at = clock.now(),
  ): ContactRecord {
    const target = liveContact(id);
    at = stampAfter(at, target);
    if (values.email !== undefined) assertEmailFree(values.email, target.id);
    const before = target.properties;
    const changes = Object.entries(values).filter(([name, value]) => (before[name] ?? '') !== value);
    if (changes.length === 0) return target;
    beforeWrite(target.id);
    const contact = materialize(target.id);
    const applied = applyValues(contact, values, at, source);
    touch(contact, at, source);
    indexEmail(contact);
    emit({ kind: 'propertiesChanged', id: contact.id, at, source, changes: applied });
    return contact;
  }

  function archive(id: number, source: ChangeSource, at = clock.now()): boolean {
    const existing = get(id);
    // HubSpot answers 204 for ids that are unknown or already archived.
    if (!isLive(existing) || existing.mergedInto !== null) return false;
    at = stampAfter(at, existing);
    beforeWrite(id);
    const contact = materialize(id);
    contact.archived = true;
    contact.archivedAt = at;
    touch(contact, at, source);
    emit({ kind: 'archived', id, at, source });
    return true;
  }

  function restore(id: number, source: ChangeSource, at = clock.now()): ContactRecord {
    const existing = get(id);
    if (!existing?.archived || existing.mergedInto !== null || existing.erased) {
      throw contactNotFound(String(id));
    }
    assertEmailFree(existing.properties.email, id);
    at = stampAfter(at, existing);
    beforeWrite(id);
    const contact = materialize(id);
    contact.archived = false;
    contact.archivedAt = null;
    touch(contact, at, source);
    emit({ kind: 'restored', id, at, source });
    return contact;
  }

  function privacyDelete(id: number, source: ChangeSource, at = clock.now()): boolean {
    const existing = resolve(id);
    if (!existing || existing.erased) return false;
    at = stampAfter(at, existing);
    beforeWrite(existing.id);
    const contact = materialize(existing.id);
    contact.properties = { hs_object_id: String(contact.id) };
    history.erase(contact.id);
    contact.archived = true;
    contact.archivedAt = at;
    contact.erased = true;
    contact.updatedAt = at;
    emit({ kind: 'privacyDeleted', id: contact.id, at, source });
    return true;
  }

  /**
   * HubSpot's permanent removal of a deleted contact, 90 days on (see purge.ts): no webhook, and from then on
   * it answers like an erased one. Merged-away ids keep resolving to their survivor and are not purged.
   */
  function purge(id: number): boolean {
    const existing = get(id);
    if (!existing?.archived || existing.mergedInto !== null || existing.erased) return false;
    beforeWrite(id);
    const contact = materialize(id);
    history.erase(contact.id);
    contact.erased = true;
    return true;
  }

  function mergedIdsOf(contact: ContactRecord): string[] {
    return (contact.properties.hs_merged_object_ids ?? '').split(';').filter(Boolean);
  }

  function merge(
    primaryObjectId: number,
    objectIdToMerge: number,
    source: ChangeSource,
    at = clock.now(),
  ): ContactRecord {
    const primary = liveContact(primaryObjectId);
    const secondary = liveContact(objectIdToMerge);
    if (primary.id === secondary.id) {
      throw validationError(`Cannot merge a contact with itself: ${primary.id}`);
    }
    at = stampAfter(at, primary, secondary);
    beforeWrite(primary.id);
    beforeWrite(secondary.id);
    const winner = materialize(primary.id);
    const loser = materialize(secondary.id);
    const makesNewRecord = random.chance(options.mergeNewIdRate);

    let moved = 0;
    const properties = { ...winner.properties };
    for (const [name, value] of Object.entries(loser.properties)) {
      if (properties[name] === undefined && !MERGE_COMBINED.has(name)) {
        properties[name] = value;
        moved++;
      }
    }
    const additional = new Set([...additionalEmailsOf(winner), ...additionalEmailsOf(loser)]);
    const loserEmail = loser.properties.email?.toLowerCase();
    if (loserEmail) additional.add(loserEmail);
    const primaryEmail = properties.email?.toLowerCase();
    if (primaryEmail) additional.delete(primaryEmail);
    if (additional.size > 0) properties.hs_additional_emails = [...additional].join(';');
    const stage = furthestStage(winner.properties.lifecyclestage, loser.properties.lifecyclestage);
    if (stage !== undefined) properties.lifecyclestage = stage;
    const absorbed = new Set([...mergedIdsOf(winner), ...mergedIdsOf(loser), String(loser.id)]);
    const createdAt = Math.min(winner.createdAt, loser.createdAt);

    let survivor = winner;
    if (makesNewRecord) {
      const id = nextId++;
      beforeWrite(id);
      absorbed.add(String(winner.id));
      survivor = {
        id,
        properties: winner.properties,
        createdAt,
        updatedAt: at,
        archived: false,
        archivedAt: null,
        mergedInto: null,
      };
      history.copy(winner.id, id, winner.properties);
      stored.set(id, survivor);
      createdIds.push(id);
      winner.archived = true;
      winner.archivedAt = at;
      winner.mergedInto = id;
    }
    survivor.createdAt = createdAt;
    properties.hs_object_id = String(survivor.id);
    properties.createdate = isoFromMs(createdAt);
    properties.hs_merged_object_ids = [...absorbed].sort((a, b) => Number(a) - Number(b)).join(';');
    for (const [name, value] of Object.entries(properties)) {
      if (survivor.properties[name] !== value) recordVersion(survivor, name, value, at, source);
    }
    survivor.properties = properties;
    touch(survivor, at, source);
    loser.archived = true;
    loser.archivedAt = at;
    loser.mergedInto = survivor.id;
    indexEmail(survivor);
    emit({
      kind: 'merged',
      at,
      source,
      primaryObjectId: primary.id,
      mergedObjectIds: [loser.id],
      newObjectId: makesNewRecord ? survivor.id : null,
      survivorId: survivor.id,
      numberOfPropertiesMoved: moved,
    });
    return survivor;
  }

  return {
    plan,
    get,
    resolve,
    scan,
    scanForSearch,
    searchCandidatesModifiedBetween,
    searchRecord,
    findLiveByEmail,
    create,
    update,
    archive,
    restore,
    merge,
    privacyDelete,
    purge,
    /** The values `name` took on this contact, newest first (HubSpot's `propertiesWithHistory`). */
    historyOf(contact: ContactRecord, name: string): PropertyVersion[] {
      if (contact.erased) return [];
      return history.read(contact.id, name, contact.properties[name]);
    },
    onChange(listener: ChangeListener): void {
      listeners.push(listener);
    },
    /** Contacts with stored history: untouched seeded and created contacts derive theirs and count for none. */
    get contactsWithStoredHistory(): number {
      return history.size;
    },
    /** Bumped by every write: lets search cache a query's matches between writes. */
    get version(): number {
      return version;
    },
    get searchLagMs(): number {
      return searchLagMs;
    },
    setSearchLag(ms: number): void {
      searchLagMs = ms;
    },
    /** A random id from the whole id range (it may be archived or merged away). */
    randomId(): number {
      const span = plan.count + createdIds.length;
      const pick = Math.floor(random.next() * span);
      return pick < plan.count ? plan.idBase + pick : (createdIds[pick - plan.count] as number);
    },
  };
}
