import {
  type ContactPage,
  type HubSpotClient,
  type HubSpotContact,
  toContact,
} from '../../hubspot/client.ts';

/**
 * HubSpot refuses request URLs over about 16,300 characters (414), and the list call carries its properties in
 * the query string (`properties=a&properties=b`, as the SDK sends them): a few hundred names reach that.
 * Measured by Airbyte's HubSpot connector, which keeps the parameter under 15,000:
 * https://github.com/airbytehq/airbyte/pull/6954
 */
export const LIST_PROPERTIES_QUERY_BUDGET = 15_000;

/** What a list page needs to know which contacts it holds, when the properties themselves come by batch read. */
const LISTING_PROPERTIES = ['hs_object_id', 'lastmodifieddate', 'hs_merged_object_ids'];

export function listQueryLength(properties: readonly string[]): number {
  return properties.reduce((length, name) => length + `&properties=${encodeURIComponent(name)}`.length, 0);
}

/**
 * One page of the contacts list (live, or only archived) with every property in `properties`. Short lists go in
 * the list call itself; long ones would not fit in its URL, so the page lists ids only and its contacts are
 * then read by id with the properties in a POST body (batch read takes the 100 a page holds).
 */
export async function listContactsWithProperties(
  hubspot: HubSpotClient,
  after: string | undefined,
  properties: readonly string[],
  archived: boolean,
): Promise<ContactPage> {
  if (listQueryLength(properties) <= LIST_PROPERTIES_QUERY_BUDGET) {
    return hubspot.listContacts(after, properties, archived);
  }
  const page = await hubspot.listContacts(after, LISTING_PROPERTIES, archived);
  if (page.contacts.length === 0) return page;
  const response = await hubspot.request('batch read listed contacts', 'sweep', (sdk) =>
    sdk.crm.contacts.batchApi.readWithHttpInfo(
      {
        inputs: page.contacts.map((contact) => ({ id: contact.id })),
        properties: [...properties],
        propertiesWithHistory: [],
      },
      archived,
    ),
  );
  const read = new Map<string, HubSpotContact>();
  for (const result of response.data.results) {
    read.set(result.id, toContact(result));
  }
  // A contact changed between the two calls (deleted, merged) keeps what the list said of it: the read of
  // its few properties applies only those, and the next sweep or webhook tells the rest.
  return { ...page, contacts: page.contacts.map((contact) => read.get(contact.id) ?? contact) };
}
