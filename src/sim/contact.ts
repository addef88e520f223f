/** One contact as the simulator holds it. Timestamps are epoch milliseconds. */
export interface ContactRecord {
  id: number;
  /** Every set property as HubSpot stores it: a string. Unset properties are absent. */
  properties: Record<string, string>;
  createdAt: number;
  updatedAt: number;
  archived: boolean;
  archivedAt: number | null;
  /** Set on a merged-away contact: the id it was merged into (follow the chain to the survivor). */
  mergedInto: number | null;
  /** GDPR deletion: gone for good, kept only as a tombstone for the truth endpoint. */
  erased?: boolean;
}

export function cloneContact(contact: ContactRecord): ContactRecord {
  return { ...contact, properties: { ...contact.properties } };
}

/** `hs_additional_emails`, HubSpot's `;`-separated list of a contact's secondary emails, lower-cased. */
export function additionalEmailsOf(contact: ContactRecord): string[] {
  return (contact.properties.hs_additional_emails ?? '')
    .split(';')
    .map((email) => email.trim().toLowerCase())
    .filter(Boolean);
}
