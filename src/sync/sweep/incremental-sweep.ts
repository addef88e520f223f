import { SEARCH_PAGE_LIMIT } from '../../hubspot/client.ts';
import { repairAssociations } from '../associations/apply-associations.ts';
import { readCompanyAssociations } from '../associations/association-reader.ts';
import { changesFromLiveContacts, countOutcomes, readVersion } from './sweep-changes.ts';
import type { SweepContext } from './sweep-context.ts';

export interface IncrementalCheckpoint {
  kind: 'incremental';
  /** `tie`: contacts modified exactly at `ts`, by id after `id`; `after`: contacts modified after `ts`. */
  phase: 'tie' | 'after';
  ts: number;
  id: string;
  /** The newest modification time this sweep covers (the time it started). */
  until: number;
}

export const WATERMARK = 'contacts.incremental';

// Search lags writes by "a few moments": each sweep starts this far before the last one's end.
export const OVERLAP_MS = 5 * 60_000;

export function newIncrementalCheckpoint(watermark: number, now: number): IncrementalCheckpoint {
  return { kind: 'incremental', phase: 'tie', ts: watermark - OVERLAP_MS, id: '0', until: now };
}

/**
 * An incremental sweep: contacts modified since the last one, found by search on `lastmodifieddate`.
 * Pages are keyed by `(lastmodifieddate, id)`, never by search's `after` cursor: that one stops at 10,000
 * results, and a timestamp alone loops when thousands of contacts share it (an import). Search returns no
 * archived contacts: deletions are the full sweep's to find.
 */
export async function runIncrementalSweep(
  context: SweepContext,
  start: IncrementalCheckpoint,
): Promise<void> {
  const { hubspot, sweeps, sessions, session, properties } = context;
  let checkpoint = start;
  for (;;) {
    context.throwIfStopping();
    const tie = checkpoint.phase === 'tie';
    const page = await hubspot.searchContacts({
      filters: tie
        ? [
            { propertyName: 'lastmodifieddate', operator: 'EQ', value: String(checkpoint.ts) },
            { propertyName: 'hs_object_id', operator: 'GT', value: checkpoint.id },
          ]
        : [
            { propertyName: 'lastmodifieddate', operator: 'GT', value: String(checkpoint.ts) },
            { propertyName: 'lastmodifieddate', operator: 'LTE', value: String(checkpoint.until) },
          ],
      sort: tie
        ? { propertyName: 'hs_object_id', direction: 'ASCENDING' }
        : { propertyName: 'lastmodifieddate', direction: 'ASCENDING' },
      properties,
      limit: SEARCH_PAGE_LIMIT,
    });
    const full = page.contacts.length === SEARCH_PAGE_LIMIT;
    const last = page.contacts.at(-1);
    let next: IncrementalCheckpoint | undefined;
    if (tie) next = full && last ? { ...checkpoint, id: last.id } : { ...checkpoint, phase: 'after' };
    // Contacts sharing the page's last timestamp may continue on the next page in any id order: read them
    // all again by id, then go on after that timestamp.
    else if (full && last)
      next = { ...checkpoint, phase: 'tie', ts: readVersion(last, page.requestedAt), id: '0' };

    const batch = changesFromLiveContacts(page.contacts, page.requestedAt, () => true);
    const ids = page.contacts.map((contact) => contact.id);
    const associations = await readCompanyAssociations(hubspot, ids);
    await context.write(async (tx) => {
      const outcomes = await context.applyBatch(tx, batch);
      const repaired = await repairAssociations(tx, context.apply, ids, associations);
      await sessions.progress(
        tx,
        session.id,
        countOutcomes(outcomes, page.contacts.length, context.importing, repaired),
        next ?? { ...checkpoint, phase: 'done' },
      );
      if (!next) await sweeps.writeCursor(tx, WATERMARK, { ts: checkpoint.until });
    });
    if (!next) return;
    checkpoint = next;
  }
}
