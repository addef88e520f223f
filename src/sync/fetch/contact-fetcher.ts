import type { Database } from '../../db/client.ts';
import { retryOnConflict } from '../../db/transient.ts';
import type { ErrorsRepository } from '../../errors/errors.repository.ts';
import type { BatchReadResult, HubSpotClient } from '../../hubspot/client.ts';
import { BATCH_READ_LIMIT } from '../../hubspot/client.ts';
import { HubSpotError } from '../../hubspot/errors.ts';
import type { Logger } from '../../logger.ts';
import type { ApplyRepository } from '../apply/apply.repository.ts';
import { applyContactChanges } from '../apply/apply-changes.ts';
import { currentProperties, type MirroredProperties } from '../schema/property-set.ts';
import { changesFromLiveContacts } from '../sweep/sweep-changes.ts';
import type { FetchRepository } from './fetch.repository.ts';

export interface ContactFetcherDeps {
  database: Database;
  hubspot: HubSpotClient;
  fetches: FetchRepository;
  apply: ApplyRepository;
  errors: ErrorsRepository;
  logger: Logger;
  /** Contact properties to read (the mirrored set, read at each batch; the merge marker is always added). */
  properties: MirroredProperties;
  maxAttempts?: number;
}

/** A batch read as changes, and the requested ids it did not account for (unknown to HubSpot so far). */
export function changesFromRead(result: BatchReadResult, requested: readonly string[]) {
  const wanted = new Set(requested);
  const batch = changesFromLiveContacts(result.contacts, result.requestedAt, (id) => wanted.has(id));
  return { batch, missing: requested.filter((id) => !batch.has(id)) };
}

/**
 * Fills in contacts that only HubSpot can describe (after a creation, restore or merge event, or an event
 * for a contact we never saw), reading up to 100 at a time so a burst of creations costs few API calls.
 */
export function createContactFetcher(deps: ContactFetcherDeps) {
  const { database, hubspot, fetches, apply, errors, logger } = deps;
  const maxAttempts = deps.maxAttempts ?? 8;
  let warnedNoConnection = false;

  return {
    /** Reads one batch of waiting contacts; returns how many it took (0: none was due). */
    async fetchNext(): Promise<number> {
      const leased = await fetches.lease(database.db, BATCH_READ_LIMIT);
      if (leased.length === 0) return 0;
      const ids = leased.map((l) => l.hubspotId);
      let result: BatchReadResult;
      const properties = [
        ...new Set([...currentProperties(deps.properties), 'hs_merged_object_ids', 'lastmodifieddate']),
      ];
      try {
        result = await hubspot.batchReadContacts(ids, properties, 'webhook');
        warnedNoConnection = false;
      } catch (error) {
        const noConnection = error instanceof HubSpotError && error.kind === 'unauthorized';
        if (!noConnection || !warnedNoConnection) {
          logger.warn(
            { err: error, contacts: ids.length },
            'reading contacts from HubSpot failed; they stay pending',
          );
        }
        warnedNoConnection ||= noConnection;
        await fetches.release(database.db, ids, noConnection ? 60 : 5);
        return 0;
      }
      const { batch, missing } = changesFromRead(result, ids);
      // A fetch-back can meet a webhook batch applying a merge chain: PostgreSQL aborts one to break the deadlock.
      await retryOnConflict(() =>
        database.db.transaction(async (tx) => {
          await applyContactChanges(tx, apply, batch, {
            source: 'fetch',
            userId: 'hubspot:fetch',
            sessionId: null,
            quietWhenUnchanged: true,
          });
          const failed = await fetches.backOff(tx, missing, maxAttempts);
          if (failed.length > 0) {
            await errors.record({
              errorType: 'hubspot.contact_not_found',
              errorMessage: `HubSpot still does not return ${failed.length} contact(s) after ${maxAttempts} reads; marked error`,
              context: { hubspotIds: failed },
            });
          }
        }),
      );
      return leased.length;
    },
  };
}

export type ContactFetcher = ReturnType<typeof createContactFetcher>;
