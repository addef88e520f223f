import type { HubSpotContact } from '../../hubspot/client.ts';
import { madeChanges } from '../apply/computed-properties.ts';
import type { ApplyOutcome, ContactChange } from '../apply/contact-state.ts';
import type { SessionCounts } from '../sessions/sessions.repository.ts';

// Our clock against HubSpot's, for a record without a modification time.
const CLOCK_SKEW_MS = 1_000;

/**
 * The HubSpot time a read's values hold from: the record's `lastmodifieddate`, on HubSpot's clock (the one
 * webhooks' `occurredAt` uses) and no earlier than any property on it. A webhook older than the read cannot
 * undo it; any change made after the read still wins.
 */
export function readVersion(contact: HubSpotContact, requestedAt: number): number {
  const updated = contact.updatedAt?.getTime();
  return Number.isFinite(updated) ? updated : requestedAt - CLOCK_SKEW_MS;
}

export const absorbedIdsOf = (contact: HubSpotContact): string[] =>
  (contact.properties.hs_merged_object_ids ?? '').split(';').filter((id) => id && id !== contact.id);

type Batch = Map<string, ContactChange[]>;
function add(batch: Batch, id: string, change: ContactChange): void {
  const changes = batch.get(id);
  if (changes) changes.push(change);
  else batch.set(id, [change]);
}

/**
 * What a read of live contacts (a list or search page, a batch read) says: each contact exists with these
 * values, and every id it absorbed that we still hold was merged into it.
 */
export function changesFromLiveContacts(
  contacts: readonly HubSpotContact[],
  requestedAt: number,
  isHeld: (hubspotId: string) => boolean,
): Batch {
  const batch: Batch = new Map();
  for (const contact of contacts) {
    const at = readVersion(contact, requestedAt);
    add(batch, contact.id, { kind: 'lifecycle', at, event: 'observedLive' });
    add(batch, contact.id, { kind: 'read', at, properties: contact.properties });
    for (const absorbed of absorbedIdsOf(contact)) {
      if (isHeld(absorbed))
        add(batch, absorbed, { kind: 'lifecycle', at, event: 'mergedAway', survivor: contact.id });
    }
  }
  return batch;
}

/** What a page of HubSpot's archived contacts says: each was deleted (no later than `archivedAt`), with these values. */
export function changesFromArchivedContacts(contacts: readonly HubSpotContact[], requestedAt: number): Batch {
  const batch: Batch = new Map();
  for (const contact of contacts) {
    const at = readVersion(contact, requestedAt);
    add(batch, contact.id, { kind: 'read', at, properties: contact.properties });
    add(batch, contact.id, { kind: 'lifecycle', at: contact.archivedAt?.getTime() ?? at, event: 'deleted' });
  }
  return batch;
}

/**
 * Counts for the session. Drift is what a sweep had to fix: changes no webhook told us about, a missed
 * creation included, and contacts whose company associations it repaired (`repaired`). The first full sweep
 * imports the portal: there, only contacts already held count.
 */
export function countOutcomes(
  outcomes: readonly ApplyOutcome[],
  seen: number,
  importing: boolean,
  repaired: ReadonlySet<string> = new Set(),
): SessionCounts {
  const counts = { seen, created: 0, updated: 0, archived: 0, unchanged: 0, drift: 0, errors: 0 };
  for (const { before, after, transitions, changedProperties } of outcomes) {
    const [transition] = transitions;
    if (transition === 'created') counts.created++;
    else if (transition === 'deleted' || transition === 'merged' || transition === 'erased')
      counts.archived++;
    else if (
      transition === 'restored' ||
      madeChanges(changedProperties).length > 0 ||
      repaired.has(after.hubspotId)
    )
      counts.updated++;
    else {
      counts.unchanged++;
      continue;
    }
    if (before.exists || !importing) counts.drift++;
  }
  return counts;
}
