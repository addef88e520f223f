import type { WebhookEvent } from '../../hubspot/webhook-events.ts';

/**
 * Contact → company association types HubSpot defines: 1 is the primary company, 279 the unlabeled link
 * every associated company has (https://developers.hubspot.com/docs/api-reference/crm-associations-v4/guide).
 */
export const PRIMARY_COMPANY_TYPE_ID = 1;
export const UNLABELED_COMPANY_TYPE_ID = 279;

export type AssociationSource = 'webhook' | 'sweep' | 'fetch';

/** One association type between a contact and another record, as of `version` (HubSpot time, epoch ms). */
export interface AssociationWrite {
  contactHubspotId: string;
  toObjectType: string;
  toObjectId: string;
  associationTypeId: number;
  category: string;
  /** null: not known from this source (a webhook), the held label is kept. */
  label: string | null;
  isPrimary: boolean;
  removed: boolean;
  version: number;
  source: AssociationSource;
}

/** What dashboards and the API see of one association. */
export interface AssociationView {
  toObjectType: string;
  toObjectId: string;
  associationTypeId: number;
  label: string | null;
  isPrimary: boolean;
}

export const keyOf = (
  write: Pick<AssociationWrite, 'contactHubspotId' | 'toObjectType' | 'toObjectId' | 'associationTypeId'>,
) =>
  `${write.contactHubspotId}\u0000${write.toObjectType}\u0000${write.toObjectId}\u0000${write.associationTypeId}`;

/**
 * Last writer wins on the HubSpot time; at the same millisecond a removal wins, so the outcome never depends
 * on the order two events arrive in.
 */
export function wins(
  candidate: Pick<AssociationWrite, 'version' | 'removed'>,
  held: Pick<AssociationWrite, 'version' | 'removed'>,
): boolean {
  if (candidate.version !== held.version) return candidate.version > held.version;
  return candidate.removed && !held.removed;
}

/** The winning write per association, so one statement never touches a row twice. */
export function latestPerAssociation(writes: readonly AssociationWrite[]): AssociationWrite[] {
  const latest = new Map<string, AssociationWrite>();
  for (const write of writes) {
    const key = keyOf(write);
    const held = latest.get(key);
    if (!held || wins(write, held)) latest.set(key, write);
  }
  return [...latest.values()];
}

/**
 * What a `contact.associationChange` event says about a contact → company association. The event names no
 * association type: `isPrimaryAssociation` tells the primary one (1) from the unlabeled one (279). Newer
 * payloads may carry `associationTypeId` and `associationCategory`; they are used when present. Associations
 * to other object types are not mirrored.
 */
export function associationFromEvent(event: WebhookEvent): AssociationWrite | null {
  if (event.subscriptionType !== 'contact.associationChange') return null;
  if (event.associationType !== 'CONTACT_TO_COMPANY' || event.toObjectId === undefined) return null;
  const typeId =
    typeof event.associationTypeId === 'number' && Number.isInteger(event.associationTypeId)
      ? event.associationTypeId
      : event.isPrimaryAssociation
        ? PRIMARY_COMPANY_TYPE_ID
        : UNLABELED_COMPANY_TYPE_ID;
  return {
    contactHubspotId: String(event.fromObjectId ?? event.objectId),
    toObjectType: 'company',
    toObjectId: String(event.toObjectId),
    associationTypeId: typeId,
    category: typeof event.associationCategory === 'string' ? event.associationCategory : 'HUBSPOT_DEFINED',
    // Labels are learnt from reads: HubSpot renames even its own, and asks integrations to go by type id
    // (https://developers.hubspot.com/changelog/changes-to-primary-labels-for-hubspot-defined-association-labels).
    label: null,
    isPrimary: typeId === PRIMARY_COMPANY_TYPE_ID,
    removed: event.associationRemoved === true,
    version: event.occurredAt,
    source: 'webhook',
  };
}

/** A company association as HubSpot's v4 read lists it. */
export interface ReadAssociation {
  contactHubspotId: string;
  toObjectId: string;
  associationTypeId: number;
  category: string;
  label: string | null;
}

/**
 * What a read of these contacts' company associations says, against what the mirror holds live for them:
 * every association read exists (written only where the mirror differs); every one held live that the read
 * lacks is gone.
 */
export function writesFromRead(
  contactIds: readonly string[],
  read: readonly ReadAssociation[],
  heldLive: readonly AssociationWrite[],
  version: number,
  source: AssociationSource,
): AssociationWrite[] {
  const asked = new Set(contactIds);
  const held = new Map(heldLive.map((association) => [keyOf(association), association]));
  const readAsHeld = (association: ReadAssociation & { toObjectType: string }) => {
    const same = held.get(keyOf(association));
    return same !== undefined && same.label === association.label && same.category === association.category;
  };
  const present: AssociationWrite[] = read
    .map((association) => ({ ...association, toObjectType: 'company' }))
    .filter((association) => asked.has(association.contactHubspotId) && !readAsHeld(association))
    .map((association) => ({
      ...association,
      isPrimary: association.associationTypeId === PRIMARY_COMPANY_TYPE_ID,
      removed: false,
      version,
      source,
    }));
  const presentKeys = new Set(read.map((association) => keyOf({ ...association, toObjectType: 'company' })));
  const gone = heldLive
    .filter((held) => asked.has(held.contactHubspotId) && held.toObjectType === 'company')
    .filter((held) => !presentKeys.has(keyOf(held)))
    .map((held) => ({ ...held, removed: true, version, source }));
  return [...present, ...gone];
}
