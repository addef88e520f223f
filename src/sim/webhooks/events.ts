import type { PortalChange } from '../changes.ts';
import { PROPERTY_DEFINITIONS } from '../properties.ts';
import type { Random } from '../random.ts';

/** One webhook event as HubSpot sends it; `attemptNumber` is added per delivery attempt. */
export interface WebhookEvent {
  eventId: number;
  subscriptionId: number;
  portalId: number;
  appId: number;
  occurredAt: number;
  subscriptionType: string;
  objectId: number;
  changeSource: string;
  changeFlag?: string;
  sourceId: string;
  propertyName?: string;
  propertyValue?: string;
  primaryObjectId?: number;
  mergedObjectIds?: number[];
  newObjectId?: number;
  numberOfPropertiesMoved?: number;
  associationType?: string;
  fromObjectId?: number;
  toObjectId?: number;
  associationRemoved?: boolean;
  isPrimaryAssociation?: boolean;
}

const SUBSCRIPTION_BASE = 2_400_000;
const SUBSCRIPTIONS: Record<string, number> = {
  'contact.creation': SUBSCRIPTION_BASE + 1,
  'contact.deletion': SUBSCRIPTION_BASE + 2,
  'contact.merge': SUBSCRIPTION_BASE + 3,
  'contact.restore': SUBSCRIPTION_BASE + 4,
  'contact.privacyDeletion': SUBSCRIPTION_BASE + 5,
  'contact.associationChange': SUBSCRIPTION_BASE + 6,
};
// contact.propertyChange is one subscription per property.
const PROPERTY_SUBSCRIPTIONS = new Map(
  PROPERTY_DEFINITIONS.filter((definition) => definition.subscribed).map((definition, index) => [
    definition.name,
    SUBSCRIPTION_BASE + 100 + index,
  ]),
);

export function subscriptionIdOf(type: string, propertyName?: string): number | undefined {
  return propertyName === undefined ? SUBSCRIPTIONS[type] : PROPERTY_SUBSCRIPTIONS.get(propertyName);
}

/**
 * Turns portal changes into HubSpot's webhook events. eventId is not unique (HubSpot's is not either): the
 * events of one change share one, so receivers must deduplicate on the composite key.
 */
export function createEventFactory(options: { portalId: number; appId: number; random: Random }) {
  const { random } = options;

  return (change: PortalChange): WebhookEvent[] => {
    const eventId = random.int(1, 2 ** 31 - 1);
    // Fields in the order real deliveries carry them. Only creations and deletions carry a changeFlag: captured
    // deliveries send `CREATED` (HubSpot's own v3 example,
    // https://developers.hubspot.com/docs/apps/legacy-apps/authentication/validating-requests; the settings page's
    // test events and older deliveries said `NEW`) and `DELETED`; property changes, merges and the documented
    // examples (https://developers.hubspot.com/docs/api-reference/latest/webhooks/guide) carry none.
    const base = (
      type: string,
      objectId: number,
      changeFlag?: string,
      property?: { name: string; value: string },
    ): WebhookEvent => ({
      eventId,
      subscriptionId: subscriptionIdOf(type, property?.name) ?? 0,
      portalId: options.portalId,
      appId: options.appId,
      occurredAt: change.at,
      subscriptionType: type,
      objectId,
      ...(changeFlag === undefined ? {} : { changeFlag }),
      ...(property === undefined ? {} : { propertyName: property.name, propertyValue: property.value }),
      changeSource: change.source.changeSource,
      sourceId: change.source.sourceId,
    });
    const propertyEvents = (id: number, changes: { name: string; value: string }[]) =>
      changes
        .filter((property) => PROPERTY_SUBSCRIPTIONS.has(property.name))
        .map((property) => base('contact.propertyChange', id, undefined, property));

    switch (change.kind) {
      case 'created':
        return [base('contact.creation', change.id, 'CREATED'), ...propertyEvents(change.id, change.changes)];
      case 'propertiesChanged':
        return propertyEvents(change.id, change.changes);
      case 'archived':
        return [base('contact.deletion', change.id, 'DELETED')];
      case 'restored':
        return [base('contact.restore', change.id)];
      case 'privacyDeleted': {
        // Both events fire, in either order.
        const events = [
          base('contact.privacyDeletion', change.id),
          base('contact.deletion', change.id, 'DELETED'),
        ];
        return random.chance(0.5) ? events : events.reverse();
      }
      case 'merged': {
        const event: WebhookEvent = {
          ...base('contact.merge', change.survivorId),
          primaryObjectId: change.primaryObjectId,
          mergedObjectIds: change.mergedObjectIds,
          numberOfPropertiesMoved: change.numberOfPropertiesMoved,
        };
        if (change.newObjectId !== null) event.newObjectId = change.newObjectId;
        return [event];
      }
      case 'associationChanged':
        // HubSpot fires one event per side of a contact ↔ company association; only the contact's side is a
        // contact.* subscription (https://developers.hubspot.com/changelog/bugfix-webhook-associationchanges).
        return [
          {
            ...base('contact.associationChange', change.contactId),
            associationType: 'CONTACT_TO_COMPANY',
            fromObjectId: change.contactId,
            toObjectId: change.companyId,
            associationRemoved: change.removed,
            isPrimaryAssociation: change.primary,
          },
        ];
    }
  };
}
