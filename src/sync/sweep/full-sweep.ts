import { randomUUID } from 'node:crypto';
import { AppError } from '../../http/app-error.ts';
import type { HubSpotClient, HubSpotContact } from '../../hubspot/client.ts';
import { BATCH_READ_LIMIT } from '../../hubspot/client.ts';
import type { ContactChange } from '../apply/contact-state.ts';
import { repairAssociations } from '../associations/apply-associations.ts';
import { type AssociationRead, readCompanyAssociations } from '../associations/association-reader.ts';
import { listContactsWithProperties } from '../schema/contact-listing.ts';
import { prefetched } from './prefetch.ts';
import { notInRecyclingBin, purgedAmong } from './purged-contacts.ts';
import { changesFromArchivedContacts, changesFromLiveContacts, countOutcomes } from './sweep-changes.ts';
import type { SweepContext } from './sweep-context.ts';

export interface FullCheckpoint {
  kind: 'full';
  passId: string;
  phase: 'live' | 'archived' | 'missing';
  /** The list cursor within the phase, or (missing phase) the last id checked. */
  after: string | null;
  /**
   * When the pass began (database clock). Only contacts created before it can be missing from HubSpot's lists,
   * so only those are recorded as seen: an initial import records nothing. Absent in passes begun before
   * this was kept, which record every contact.
   */
  heldBefore?: string;
}

export const newFullCheckpoint = (): FullCheckpoint => ({
  kind: 'full',
  passId: randomUUID(),
  phase: 'live',
  after: null,
});

// Of the contacts a full pass could not find, how many may be archived without an explicit override.
const ARCHIVE_FLOOR = 10;

export const massArchiveRefused = (unseen: number, live: number) =>
  new AppError({
    code: 'sweep.mass_archive_refused',
    status: 409,
    message:
      `refusing to archive ${unseen} of ${live} contacts that HubSpot did not list: that looks like an API glitch, ` +
      'not deletions. If HubSpot really lost them, start a full sweep with {"mode":"full","allowMassArchive":true}',
  });

/**
 * A full sweep: every live contact (100 a page), then every archived one, then the contacts we hold that
 * HubSpot listed in neither, each read by id to tell a merge from a deletion. Each page is applied, counted
 * and checkpointed in one transaction, so a crash resumes where it stopped.
 */
interface ListedPage {
  contacts: HubSpotContact[];
  batch: Map<string, ContactChange[]>;
  /** The live contacts' company associations, read with the page. */
  associations: AssociationRead | null;
  /** Where the sweep stands once this page is applied. */
  next: FullCheckpoint;
}

/** Every page of the live list, then of the archived list, from `start` on, each with its changes. */
async function* listedPages(hubspot: HubSpotClient, properties: readonly string[], start: FullCheckpoint) {
  let checkpoint = start;
  while (checkpoint.phase === 'live' || checkpoint.phase === 'archived') {
    const archived = checkpoint.phase === 'archived';
    const page = await listContactsWithProperties(
      hubspot,
      checkpoint.after ?? undefined,
      properties,
      archived,
    );
    // Archived and merged-away contacts are kept too (archived), so the mirror answers for every id HubSpot had.
    const batch = archived
      ? changesFromArchivedContacts(page.contacts, page.requestedAt)
      : changesFromLiveContacts(page.contacts, page.requestedAt, () => true);
    const associations = archived
      ? null
      : await readCompanyAssociations(
          hubspot,
          page.contacts.map((contact) => contact.id),
        );
    checkpoint = page.next
      ? { ...checkpoint, after: page.next }
      : { ...checkpoint, phase: archived ? 'missing' : 'archived', after: null };
    yield { contacts: page.contacts, batch, associations, next: checkpoint } satisfies ListedPage;
  }
}

// Pages read ahead of the one being written: 10 pages, 1,000 contacts, a few hundred KB.
const READ_AHEAD = 10;

export async function runFullSweep(context: SweepContext, resumed: FullCheckpoint): Promise<void> {
  const { database, hubspot, sweeps, sessions, session, properties } = context;
  const beginning = resumed.phase === 'live' && resumed.after === null && !resumed.heldBefore;
  const start = beginning ? { ...resumed, heldBefore: await sweeps.databaseNow(database.db) } : resumed;
  let checkpoint = start;

  for await (const pages of prefetched(listedPages(hubspot, properties, start), READ_AHEAD)) {
    context.throwIfStopping();
    const batch = new Map<string, ContactChange[]>();
    for (const page of pages) {
      for (const [id, changes] of page.batch) {
        const held = batch.get(id);
        if (held) held.push(...changes);
        else batch.set(id, changes);
      }
    }
    const last = pages.at(-1);
    if (!last) continue;
    const ids = pages.flatMap((page) => page.contacts.map((contact) => contact.id));
    await context.write(async (tx) => {
      const outcomes = await context.applyBatch(tx, batch);
      const repaired = new Set<string>();
      for (const page of pages) {
        if (!page.associations) continue;
        const pageIds = page.contacts.map((contact) => contact.id);
        for (const id of await repairAssociations(tx, context.apply, pageIds, page.associations))
          repaired.add(id);
      }
      const held = new Set(outcomes.filter((o) => o.before.exists).map((o) => o.after.hubspotId));
      await sweeps.markSeen(
        tx,
        checkpoint.passId,
        checkpoint.heldBefore ? ids.filter((id) => held.has(id)) : ids,
      );
      await sessions.progress(
        tx,
        session.id,
        countOutcomes(outcomes, ids.length, context.importing, repaired),
        last.next,
      );
    });
    checkpoint = last.next;
  }

  const { unseen, live } = await sweeps.countUnseen(database.db, checkpoint.passId, checkpoint.heldBefore);
  if (unseen > Math.max(ARCHIVE_FLOOR, live * context.maxArchiveShare) && !context.allowMassArchive) {
    throw massArchiveRefused(unseen, live);
  }
  for (;;) {
    context.throwIfStopping();
    const ids = await sweeps.unseen(
      database.db,
      checkpoint.passId,
      checkpoint.after ?? '',
      BATCH_READ_LIMIT,
      checkpoint.heldBefore,
    );
    if (ids.length === 0) break;
    // Not listed, but maybe merged into a survivor (reading the id returns it) or created since the pass.
    const read = await hubspot.batchReadContacts(ids, properties, 'sweep');
    const wanted = new Set(ids);
    const batch = changesFromLiveContacts(read.contacts, read.requestedAt, (id) => wanted.has(id));
    // Not in the recycling bin either: HubSpot purged it before we learnt of its deletion.
    const purged = await notInRecyclingBin(
      hubspot,
      ids.filter((id) => !batch.has(id)),
    );
    for (const id of ids) {
      if (!batch.has(id)) batch.set(id, [{ kind: 'lifecycle', at: read.requestedAt, event: 'deleted' }]);
    }
    const next: FullCheckpoint = { ...checkpoint, after: ids.at(-1) ?? checkpoint.after };
    await context.write(async (tx) => {
      const outcomes = await context.applyBatch(tx, batch);
      await context.purges.markPurged(tx, purged, SWEEP_USER);
      await sweeps.markSeen(tx, checkpoint.passId, ids);
      await sessions.progress(tx, session.id, countOutcomes(outcomes, 0, context.importing), next);
    });
    checkpoint = next;
  }
  await markPurges(context, checkpoint);
  await sweeps.forgetPass(database.db, checkpoint.passId);
}

const SWEEP_USER = 'hubspot:sweep';

/**
 * Deleted contacts we hold that HubSpot's archived list no longer showed, and that no read finds: purged.
 * Not checkpointed: marking is idempotent and marked rows are not checked again, so a resumed pass redoes
 * only what is left.
 */
async function markPurges(context: SweepContext, checkpoint: FullCheckpoint): Promise<void> {
  for (let after = ''; ; ) {
    context.throwIfStopping();
    const ids = await context.purges.unseenArchived(
      context.database.db,
      checkpoint.passId,
      after,
      BATCH_READ_LIMIT,
      checkpoint.heldBefore,
    );
    const last = ids.at(-1);
    if (last === undefined) return;
    const purged = await purgedAmong(context.hubspot, ids);
    await context.write((tx) => context.purges.markPurged(tx, purged, SWEEP_USER));
    after = last;
  }
}
