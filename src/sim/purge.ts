import type { Clock } from './clock.ts';
import type { Portal } from './portal.ts';

const DAY_MS = 86_400_000;

/**
 * HubSpot keeps a deleted contact in the recycling bin for 90 days, then removes it for good, with no webhook:
 * https://knowledge.hubspot.com/records/restore-deleted-records
 */
export const PURGE_AFTER_MS = 90 * DAY_MS;

export interface PurgerOptions {
  portal: Portal;
  clock: Clock;
  purgeAfterMs?: number;
  /** How often deletions are checked for their 90 days on the simulator's clock. */
  checkEveryMs?: number;
}

/**
 * The purge of deleted contacts. Deletions made while the simulator runs are purged on its clock once 90 days
 * old; `purgeArchivedBefore` purges every deleted contact older than a cutoff at once, seeded ones included,
 * so tests need not wait (or move the clock).
 */
export function createPurger(options: PurgerOptions) {
  const { portal, clock } = options;
  const purgeAfterMs = options.purgeAfterMs ?? PURGE_AFTER_MS;
  const purged = new Set<number>();
  /** Deletions since start-up awaiting their purge, by id, in the order they were made. */
  const waiting = new Map<number, number>();
  let timer: NodeJS.Timeout | undefined;

  portal.onChange((change) => {
    if (change.kind === 'archived') {
      waiting.delete(change.id);
      waiting.set(change.id, change.at);
    } else if (change.kind === 'restored') waiting.delete(change.id);
  });

  function purgeOne(id: number): boolean {
    waiting.delete(id);
    if (!portal.purge(id)) return false;
    purged.add(id);
    return true;
  }

  /** Purges the deletions made since start-up that are now 90 days old; returns how many. */
  function purgeDue(): number {
    const cutoff = clock.now() - purgeAfterMs;
    let count = 0;
    for (const [id, archivedAt] of waiting) {
      if (archivedAt > cutoff) break;
      if (purgeOne(id)) count++;
    }
    return count;
  }

  return {
    purgeDue,

    /** Purges every deleted contact archived before `archivedBefore` (epoch ms); returns their ids. */
    purgeArchivedBefore(archivedBefore: number): number[] {
      const due: number[] = [];
      for (const contact of portal.scan()) {
        const deleted = contact.archived && contact.mergedInto === null && !contact.erased;
        if (deleted && contact.archivedAt !== null && contact.archivedAt < archivedBefore)
          due.push(contact.id);
      }
      return due.filter(purgeOne);
    },

    isPurged: (id: number) => purged.has(id),

    start(): void {
      timer = setInterval(purgeDue, options.checkEveryMs ?? 1000);
      timer.unref();
    },

    stop(): void {
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

export type Purger = ReturnType<typeof createPurger>;
