import { createAuditRepository } from '../audit/audit.repository.ts';
import type { Config } from '../config.ts';
import type { Database } from '../db/client.ts';
import { createErrorsRepository } from '../errors/errors.repository.ts';
import type { Logger } from '../logger.ts';
import { createConnection } from './connection.ts';
import { createConnectionsRepository } from './connections.repository.ts';
import { createOAuthClient } from './oauth-client.ts';
import { createTokenCipher } from './token-cipher.ts';

export type ConnectionConfig = Pick<
  Config,
  | 'HUBSPOT_ACCESS_TOKEN'
  | 'HUBSPOT_CLIENT_ID'
  | 'HUBSPOT_CLIENT_SECRET'
  | 'HUBSPOT_PORTAL_ID'
  | 'HUBSPOT_API_BASE'
  | 'TOKEN_ENCRYPTION_KEY'
>;

/** The connection as the environment configures it: a private app's token, or OAuth with stored tokens. */
export function connectionFromConfig(
  config: ConnectionConfig,
  database: Database,
  logger: Logger,
  options: { refreshMarginMs?: number; stateRecheckMs?: number } = {},
) {
  const oauth =
    config.HUBSPOT_CLIENT_ID && config.HUBSPOT_CLIENT_SECRET
      ? createOAuthClient({
          apiBase: config.HUBSPOT_API_BASE,
          clientId: config.HUBSPOT_CLIENT_ID,
          clientSecret: config.HUBSPOT_CLIENT_SECRET,
        })
      : undefined;
  return createConnection({
    database,
    connections: createConnectionsRepository(),
    cipher: createTokenCipher(config.TOKEN_ENCRYPTION_KEY),
    oauth,
    privateAppToken: config.HUBSPOT_ACCESS_TOKEN,
    portalId: config.HUBSPOT_PORTAL_ID,
    errors: createErrorsRepository({ db: database.db }),
    audit: createAuditRepository({ db: database.db }),
    logger: logger.child({ component: 'connection' }),
    ...options,
  });
}
