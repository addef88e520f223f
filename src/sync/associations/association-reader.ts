import type { HubSpotClient } from '../../hubspot/client.ts';
import type { ReadAssociation } from './association-changes.ts';

/** Contacts per v4 batch read: HubSpot takes up to 1,000, but 100 keeps each call as small as a contact read. */
export const ASSOCIATION_READ_BATCH = 100;

// Our clock against HubSpot's. The v4 read carries no timestamps: what it shows holds from a little before
// the request, so any event HubSpot stamped after the read still wins over it.
const CLOCK_SKEW_MS = 1_000;

export interface AssociationRead {
  associations: ReadAssociation[];
  /** The HubSpot time the read's state holds from (epoch ms): its last-writer-wins version. */
  version: number;
}

interface PageResult {
  _from: { id: string };
  to: {
    toObjectId: string | number;
    associationTypes: { typeId: number; category: string; label?: string | null }[];
  }[];
  paging?: { next?: { after?: string } };
}

/**
 * Reads the company associations of these contacts with the v4 batch read, following a contact's own paging
 * when it has more companies than one page holds. A contact with none is answered as an error
 * (`NO_ASSOCIATIONS_FOUND`) rather than a result: it simply has none.
 */
export async function readCompanyAssociations(
  hubspot: HubSpotClient,
  contactIds: readonly string[],
): Promise<AssociationRead> {
  const requestedAt = Date.now();
  const associations: ReadAssociation[] = [];
  let pending = contactIds.map((id) => ({ id, after: undefined as string | undefined }));
  while (pending.length > 0) {
    const inputs = pending.slice(0, ASSOCIATION_READ_BATCH);
    pending = pending.slice(ASSOCIATION_READ_BATCH);
    const response = await hubspot.request('batch read associations', 'sweep', (sdk) =>
      sdk.crm.associations.v4.batchApi.getPageWithHttpInfo('contacts', 'companies', {
        inputs: inputs.map(({ id, after }) => (after ? { id, after } : { id })),
      }),
    );
    for (const result of response.data.results as PageResult[]) {
      const contactHubspotId = result._from.id;
      for (const company of result.to) {
        for (const type of company.associationTypes) {
          associations.push({
            contactHubspotId,
            toObjectId: String(company.toObjectId),
            associationTypeId: type.typeId,
            category: type.category,
            label: type.label ?? null,
          });
        }
      }
      const after = result.paging?.next?.after;
      if (after) pending.push({ id: contactHubspotId, after });
    }
  }
  return { associations, version: requestedAt - CLOCK_SKEW_MS };
}
