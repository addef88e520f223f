import type { Executor } from '../../db/query.ts';
import type { ApplyRepository, OutboxWrite } from '../apply/apply.repository.ts';
import type { ApplyOutcome, ContactChange } from '../apply/contact-state.ts';
import { type AssociationSource, type AssociationWrite, writesFromRead } from './association-changes.ts';
import type { AssociationRead } from './association-reader.ts';
import type { AssociationChanged } from './associations.repository.ts';

/** One `contact:updated` per contact whose associations changed, naming what changed. */
function outboxOf(changed: readonly AssociationChanged[], source: AssociationSource): OutboxWrite[] {
  const byContact = new Map<string, AssociationChanged[]>();
  for (const change of changed) {
    byContact.set(change.contactHubspotId, [...(byContact.get(change.contactHubspotId) ?? []), change]);
  }
  return [...byContact].map(([hubspotId, changes]) => ({
    type: 'contact:updated',
    data: {
      hubspotId,
      properties: [],
      associations: changes.map(({ contactHubspotId: _, ...association }) => association),
      source,
    },
  }));
}

/**
 * Writes association changes last-writer-wins and tells dashboards about the ones that changed what a reader
 * sees, in the caller's transaction. Returns those.
 */
export async function applyAssociationWrites(
  tx: Executor,
  repository: Pick<ApplyRepository, 'associations' | 'insertOutbox'>,
  writes: readonly AssociationWrite[],
  source: AssociationSource,
): Promise<AssociationChanged[]> {
  const changed = await repository.associations.apply(tx, writes);
  await repository.insertOutbox(tx, outboxOf(changed, source));
  return changed;
}

/**
 * Brings the mirror of these contacts' company associations in line with a read of them: adds what is
 * missing, marks removed what HubSpot no longer has. Returns the contacts it had to repair.
 */
export async function repairAssociations(
  tx: Executor,
  repository: Pick<ApplyRepository, 'associations' | 'insertOutbox'>,
  contactIds: readonly string[],
  read: AssociationRead,
): Promise<Set<string>> {
  const held = await repository.associations.liveFor(tx, contactIds);
  const writes = writesFromRead(contactIds, read.associations, held, read.version, 'sweep');
  const changed = await applyAssociationWrites(tx, repository, writes, 'sweep');
  return new Set(changed.map((change) => change.contactHubspotId));
}

/**
 * Retires the associations of contacts these outcomes merged away, as of the merge: HubSpot moves them to the
 * survivor. An older "added" event for the absorbed contact arriving later stays outdated.
 */
export async function retireMergedAway(
  tx: Executor,
  repository: Pick<ApplyRepository, 'associations'>,
  outcomes: readonly ApplyOutcome[],
  batch: ReadonlyMap<string, readonly ContactChange[]>,
  source: AssociationSource,
): Promise<void> {
  const retired = outcomes
    .filter((outcome) => outcome.transitions.includes('merged'))
    .map(({ after }) => {
      const merges = (batch.get(after.hubspotId) ?? []).filter(
        (change) => change.kind === 'lifecycle' && change.event === 'mergedAway',
      );
      return { contactHubspotId: after.hubspotId, version: Math.max(...merges.map((c) => c.at)), source };
    })
    .filter((contact) => Number.isFinite(contact.version));
  await repository.associations.retire(tx, retired);
}
