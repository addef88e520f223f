import type { FastifyInstance } from 'fastify';
import { HubSpotError } from './errors.ts';

/**
 * HubSpot refuses request URLs longer than about 16,300 characters with a 414, which a list call naming a few
 * hundred properties in its query string reaches (measured by Airbyte's HubSpot connector:
 * https://github.com/airbytehq/airbyte/pull/6954). Batch read and search take properties in the body instead.
 */
export const MAX_URL_LENGTH = 16_300;

export function refuseLongUrls(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const length = request.raw.url?.length ?? 0;
    if (length > MAX_URL_LENGTH) {
      throw new HubSpotError(
        414,
        'URI_TOO_LONG',
        `The request URL is ${length} characters long; at most ${MAX_URL_LENGTH} are accepted. Send long property lists in a POST body (batch read or search).`,
      );
    }
  });
}
