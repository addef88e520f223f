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
  archivedAt?: Date | undefined;
}

export interface ContactPage {
  contacts: HubSpotContact[];
  /** The cursor of the next page; undefined on the last one. */
  next: string | undefined;
  requestedAt: number;
}

export interface SearchFilter {
  propertyName: string;
  operator: 'EQ' | 'NEQ' | 'GT' | 'GTE' | 'LT' | 'LTE';
  value: string;
}

export type SdkObject = {
  id: string;
  properties: Record<string, string | null>;
  createdAt: Date;
  updatedAt: Date;
  archived?: boolean;
  archivedAt?: Date;
};

/** The SDK's contact model as the service's plain one. */
export const toContact = (result: SdkObject): HubSpotContact => ({
  id: result.id,
  properties: result.properties,
  createdAt: result.createdAt,
  updatedAt: result.updatedAt,
  archived: result.archived ?? false,
  archivedAt: result.archivedAt,
});

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
  /**
   * HubSpot answered 401 to `token`: returns a token to try once more with (a refreshed one), or undefined
   * when there is none (a revoked private-app token, a dead refresh token).
   */
  onUnauthorized?: (token: string, reason: string) => Promise<string | undefined>;
  logger: Logger;
  timeoutMs?: number;
  pacer?: Pacer;
  /** Search has its own budget (5 requests a second per account) and sends no rate-limit headers. */
  searchPacer?: Pacer;
}

export const LIST_PAGE_LIMIT = 100;
export const SEARCH_PAGE_LIMIT = 200;

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
  const pacer = options.pacer ?? createPacer({ logger, unlimitedWithoutHeaders: true });
  const searchPacer =
    options.searchPacer ??
    createPacer({ logger, concurrency: 1, assumedMax: 5, assumedIntervalMs: 1000, headroom: 0.9 });
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
    budget: Pacer = pacer,
  ): Promise<T> {
    try {
      return await attempt(what, priority, request, budget);
    } catch (error) {
      const used = token;
      if (!(error instanceof HubSpotError && error.status === 401 && used && options.onUnauthorized))
        throw error;
      // A token can lapse between our expiry check and HubSpot's: refresh once and send the call again.
      const next = await options.onUnauthorized(used, error.message);
      if (!next || next === used) throw error;
      return attempt(what, priority, request, budget);
    }
  }

  async function attempt<T extends { headers: Record<string, string> }>(
    what: string,
    priority: Priority,
    request: () => Promise<T>,
    budget: Pacer,
  ): Promise<T> {
    return budget.run(priority, async () => {
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
        budget.observe(readRateLimitHeaders(response.headers));
        return response;
      } catch (error) {
        const typed = toHubSpotError(error, what);
        const headers = (error as { headers?: Record<string, string> }).headers;
        // Only a limit an error advertises counts: a proxy's bare 502 says nothing about HubSpot's budget.
        const advertised = readRateLimitHeaders(headers);
        if (advertised.max !== undefined) budget.observe(advertised);
        throw typed;
      } finally {
        clearTimeout(timer);
      }
    });
  }

  const search = (request: Parameters<Client['crm']['contacts']['searchApi']['doSearchWithHttpInfo']>[0]) =>
    call(
      'search contacts',
      'sweep',
      () => sdk.crm.contacts.searchApi.doSearchWithHttpInfo(request),
      searchPacer,
    );

  return {
    pacer,

    /**
     * Any other HubSpot call (associations, property definitions, the Webhooks Journal) through the same token,
     * pacing, timeout and 401 handling as the contact calls. `send` gets the process's one SDK client.
     */
    request<T extends { headers: Record<string, string> }>(
      what: string,
      priority: Priority,
      send: (client: Client) => Promise<T>,
    ): Promise<T> {
      return call(what, priority, () => send(sdk));
    },

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
      const contacts = data.results.map(toContact);
      const missing = new Set<string>();
      for (const error of 'errors' in data ? (data.errors ?? []) : []) {
        for (const id of error.context?.ids ?? []) missing.add(id);
      }
      return { contacts, missing: [...missing], requestedAt } satisfies BatchReadResult;
    },

    /** One page of the contacts list (100 at most), live ones or (`archived`) only archived ones. */
    async listContacts(
      after: string | undefined,
      properties: readonly string[],
      archived: boolean,
    ): Promise<ContactPage> {
      const requestedAt = Date.now();
      const response = await call('list contacts', 'sweep', () =>
        sdk.crm.contacts.basicApi.getPageWithHttpInfo(
          LIST_PAGE_LIMIT,
          after,
          [...properties],
          undefined,
          undefined,
          archived,
        ),
      );
      return {
        contacts: response.data.results.map(toContact),
        next: response.data.paging?.next?.after,
        requestedAt,
      };
    },

    /**
     * One search page, filters ANDed, sorted by one property. Search never returns archived contacts and
     * lags writes by a few moments; callers page by keyset rather than `after` (which stops at 10,000).
     */
    async searchContacts(request: {
      filters: readonly SearchFilter[];
      sort: { propertyName: string; direction: 'ASCENDING' | 'DESCENDING' };
      properties: readonly string[];
      limit?: number;
    }): Promise<ContactPage> {
      const requestedAt = Date.now();
      const response = await search({
        filterGroups: [{ filters: request.filters.map((f) => ({ ...f })) as never }],
        // The SDK types sorts as strings; HubSpot takes the documented { propertyName, direction } objects.
        sorts: [{ propertyName: request.sort.propertyName, direction: request.sort.direction }] as never,
        properties: [...request.properties],
        limit: request.limit ?? SEARCH_PAGE_LIMIT,
      });
      return {
        contacts: response.data.results.map(toContact),
        next: response.data.paging?.next?.after,
        requestedAt,
      };
    },

    /** How many live contacts match the filters (all of them without any): search's `total`, one call. */
    async countContacts(filters: readonly SearchFilter[]): Promise<number> {
      const response = await search({
        filterGroups: filters.length > 0 ? [{ filters: filters.map((f) => ({ ...f })) as never }] : [],
        properties: ['hs_object_id'],
        limit: 1,
      });
      return response.data.total;
    },
  };
}

export type HubSpotClient = ReturnType<typeof createHubSpotClient>;
