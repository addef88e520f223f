import { Client } from '@hubspot/api-client';
import type { Logger } from '../logger.ts';
import { HubSpotError, toHubSpotError } from './errors.ts';
import { createPacer, type Pacer, type Priority, readRateLimitHeaders } from './pacer.ts';

export interface HubSpotContact {
  id: string;
  properties: Record<string, string | null>;
  createdAt: Date;
  updatedAt: Date;
  archived: boolean;
}

export interface BatchReadResult {
  contacts: HubSpotContact[];
  /** Ids HubSpot does not know (yet: a contact created moments ago may not be readable at once). */
  missing: string[];
  /** When the request was sent (epoch ms, our clock). */
  requestedAt: number;
}

export interface HubSpotClientOptions {
  basePath: string;
  /** The bearer token for the next call; undefined when no connection is configured. */
  accessToken: () => Promise<string | undefined>;
  logger: Logger;
  timeoutMs?: number;
  pacer?: Pacer;
}

export const BATCH_READ_LIMIT = 100;

/**
 * The only module that talks to HubSpot's CRM. One SDK `Client` for the process (the SDK keeps its retry
 * and limiter settings in a process-wide singleton, so a second client would silently change the first);
 * its own retries and limiter are off because pacing and retries live in the pacer, and every call gets
 * the timeout the SDK lacks.
 */
export function createHubSpotClient(options: HubSpotClientOptions) {
  const { logger } = options;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const pacer = options.pacer ?? createPacer({ logger });
  const sdk = new Client({ basePath: options.basePath, numberOfApiCallRetries: 0 });
  let token: string | undefined;

  async function authorised(): Promise<void> {
    const current = await options.accessToken();
    if (!current)
      throw new HubSpotError({
        kind: 'unauthorized',
        message: 'no HubSpot connection or access token is configured',
      });
    if (current !== token) {
      sdk.setAccessToken(current);
      token = current;
    }
  }

  async function call<T extends { headers: Record<string, string> }>(
    what: string,
    priority: Priority,
    request: () => Promise<T>,
  ): Promise<T> {
    return pacer.run(priority, async () => {
      await authorised();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new HubSpotError({ kind: 'timeout', message: `${what}: no answer within ${timeoutMs} ms` }),
            ),
          timeoutMs,
        );
      });
      try {
        const response = await Promise.race([request(), timeout]);
        pacer.observe(readRateLimitHeaders(response.headers));
        return response;
      } catch (error) {
        const typed = toHubSpotError(error, what);
        const headers = (error as { headers?: Record<string, string> }).headers;
        if (headers) pacer.observe(readRateLimitHeaders(headers));
        throw typed;
      } finally {
        clearTimeout(timer);
      }
    });
  }

  return {
    pacer,

    /**
     * Reads up to 100 contacts by id. A merged-away id comes back as its survivor, whose `id` differs and whose
     * `hs_merged_object_ids` lists the absorbed ids; missing ids are reported rather than thrown.
     */
    async batchReadContacts(
      ids: readonly string[],
      properties: readonly string[],
      priority: Priority = 'webhook',
    ) {
      if (ids.length > BATCH_READ_LIMIT) throw new Error(`batch read takes at most ${BATCH_READ_LIMIT} ids`);
      const requestedAt = Date.now();
      const response = await call('batch read contacts', priority, () =>
        sdk.crm.contacts.batchApi.readWithHttpInfo(
          { inputs: ids.map((id) => ({ id })), properties: [...properties], propertiesWithHistory: [] },
          false,
        ),
      );
      const data = response.data;
      const contacts = data.results.map((result) => ({
        id: result.id,
        properties: result.properties,
        createdAt: result.createdAt,
        updatedAt: result.updatedAt,
        archived: result.archived ?? false,
      }));
      const missing = new Set<string>();
      for (const error of 'errors' in data ? (data.errors ?? []) : []) {
        for (const id of error.context?.ids ?? []) missing.add(id);
      }
      return { contacts, missing: [...missing], requestedAt } satisfies BatchReadResult;
    },
  };
}

export type HubSpotClient = ReturnType<typeof createHubSpotClient>;
