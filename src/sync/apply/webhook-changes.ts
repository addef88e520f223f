import type { WebhookEvent } from '../../hubspot/webhook-events.ts';
import type { ContactChange } from './contact-state.ts';

export interface TargetedChange {
  hubspotId: string;
  change: ContactChange;
}

/**
 * What one webhook event means for each contact it touches. A merge touches several: the survivor (which
 * HubSpot may have created anew, `newObjectId`) must be read again, and every absorbed id is archived into it.
 */
export function changesFromEvent(event: WebhookEvent): TargetedChange[] {
  const at = event.occurredAt;
  const id = String(event.objectId);
  switch (event.subscriptionType) {
    case 'contact.creation':
      return [{ hubspotId: id, change: { kind: 'lifecycle', at, event: 'created' } }];
    case 'contact.deletion':
      return [{ hubspotId: id, change: { kind: 'lifecycle', at, event: 'deleted' } }];
    case 'contact.restore':
      return [{ hubspotId: id, change: { kind: 'lifecycle', at, event: 'restored' } }];
    case 'contact.privacyDeletion':
      return [{ hubspotId: id, change: { kind: 'lifecycle', at, event: 'erased' } }];
    case 'contact.propertyChange':
      return [
        {
          hubspotId: id,
          change: {
            kind: 'property',
            at,
            name: event.propertyName ?? '',
            value: event.propertyValue ?? null,
          },
        },
      ];
    case 'contact.merge': {
      const primary = String(event.primaryObjectId ?? event.objectId);
      const survivor = event.newObjectId ? String(event.newObjectId) : primary;
      const absorbed = new Set((event.mergedObjectIds ?? []).map(String));
      if (survivor !== primary) absorbed.add(primary);
      absorbed.delete(survivor);
      return [
        { hubspotId: survivor, change: { kind: 'lifecycle', at, event: 'mergeSurvivor' } },
        ...[...absorbed].map((loser) => ({
          hubspotId: loser,
          change: { kind: 'lifecycle' as const, at, event: 'mergedAway' as const, survivor },
        })),
      ];
    }
    case 'contact.associationChange': {
      const detail = {
        association: event.associationType ?? null,
        from: event.fromObjectId ?? null,
        to: event.toObjectId ?? null,
        removed: event.associationRemoved ?? false,
        primary: event.isPrimaryAssociation ?? false,
      };
      return [{ hubspotId: id, change: { kind: 'note', at, detail } }];
    }
  }
}
