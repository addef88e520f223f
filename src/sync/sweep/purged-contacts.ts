import type { HubSpotClient } from '../../hubspot/client.ts';

/**
 * HubSpot purges a deleted contact from its recycling bin 90 days on, with no webhook
 * (https://knowledge.hubspot.com/records/restore-deleted-records); a GDPR erasure is gone at once. Either way
 * the id is then unknown to every read: these find such ids.
 */

/** Of ids known not to be live, those not in the recycling bin either. */
export async function notInRecyclingBin(hubspot: HubSpotClient, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const binned = await hubspot.request('batch read archived contacts', 'sweep', (sdk) =>
    sdk.crm.contacts.batchApi.readWithHttpInfo(
      { inputs: ids.map((id) => ({ id })), properties: ['hs_object_id'], propertiesWithHistory: [] },
      true,
    ),
  );
  const inBin = new Set(binned.data.results.map((contact) => contact.id));
  return ids.filter((id) => !inBin.has(id));
}

/** Of any ids, those HubSpot does not know at all: not live (a merged-away id answers with its survivor), not binned. */
export async function purgedAmong(hubspot: HubSpotClient, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const live = await hubspot.batchReadContacts(ids, ['hs_object_id'], 'sweep');
  return notInRecyclingBin(hubspot, live.missing);
}
