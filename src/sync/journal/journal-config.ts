import type { Config } from '../../config.ts';
import { createJournalClient } from './journal-client.ts';
import type { JournalSettings } from './journal-worker.ts';

/**
 * The journal needs the app's client-credentials token (HUBSPOT_CLIENT_ID and HUBSPOT_CLIENT_SECRET) and the
 * portal whose local journal to read (HUBSPOT_PORTAL_ID). Without them gap fill is off, with the reason.
 */
export function journalFromConfig(
  config: Pick<
    Config,
    'HUBSPOT_API_BASE' | 'HUBSPOT_CLIENT_ID' | 'HUBSPOT_CLIENT_SECRET' | 'HUBSPOT_PORTAL_ID'
  >,
): JournalSettings | { off: string } {
  const missing = (['HUBSPOT_CLIENT_ID', 'HUBSPOT_CLIENT_SECRET', 'HUBSPOT_PORTAL_ID'] as const).filter(
    (name) => !config[name],
  );
  const {
    HUBSPOT_CLIENT_ID: clientId,
    HUBSPOT_CLIENT_SECRET: clientSecret,
    HUBSPOT_PORTAL_ID: portalId,
  } = config;
  if (!clientId || !clientSecret || !portalId)
    return {
      off: `set ${missing.join(', ')} to read the journal (a client-credentials token for the portal); until then, deletions missed during downtime wait for the next full sweep`,
    };
  return {
    client: createJournalClient({ apiBase: config.HUBSPOT_API_BASE, clientId, clientSecret, portalId }),
    portalId,
  };
}
