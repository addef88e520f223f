/**
 * Properties HubSpot maintains itself, which no webhook carries (no propertyChange is sent for them): a
 * sweep finds them changed on nearly every contact it reads. They are mirrored, but a change to them alone
 * is not a change anyone made: no history, audit or event, and no drift (drift counts what webhooks should
 * have brought, so that 0 means they missed nothing).
 */
const COMPUTED = new Set(['lastmodifieddate', 'hs_lastmodifieddate', 'createdate', 'hs_merged_object_ids']);

/** The changed properties someone or something other than HubSpot's bookkeeping changed. */
export const madeChanges = (names: readonly string[]) => names.filter((name) => !COMPUTED.has(name));
