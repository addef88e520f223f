/** Who made a change, as HubSpot reports it in webhook events (`changeSource`, `sourceId`). */
export interface ChangeSource {
  changeSource: string;
  sourceId: string;
}

export interface PropertyChange {
  name: string;
  /** The new value; an empty string when the property was cleared. */
  value: string;
}

/** Every change the portal makes; the webhook layer turns each into HubSpot events. */
export type PortalChange =
  | { kind: 'created'; id: number; at: number; source: ChangeSource; changes: PropertyChange[] }
  | { kind: 'propertiesChanged'; id: number; at: number; source: ChangeSource; changes: PropertyChange[] }
  | { kind: 'archived'; id: number; at: number; source: ChangeSource }
  | { kind: 'restored'; id: number; at: number; source: ChangeSource }
  | { kind: 'privacyDeleted'; id: number; at: number; source: ChangeSource }
  | {
      kind: 'merged';
      at: number;
      source: ChangeSource;
      primaryObjectId: number;
      mergedObjectIds: number[];
      /** Set when the merge produced a brand-new record. */
      newObjectId: number | null;
      survivorId: number;
      numberOfPropertiesMoved: number;
    }
  | {
      kind: 'associationChanged';
      at: number;
      source: ChangeSource;
      contactId: number;
      companyId: number;
      associationTypeId: number;
      primary: boolean;
      removed: boolean;
    };
