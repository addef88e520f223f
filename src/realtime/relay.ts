import type { Database } from '../db/client.ts';
import type { Logger } from '../logger.ts';
import { OUTBOX_CHANNEL, type OutboxMessage, type OutboxRepository } from './outbox.ts';

export interface RelayOptions {
  database: Database;
  outbox: OutboxRepository;
  logger: Logger;
  /** Receives every committed event once, in sequence order. */
  deliver: (messages: readonly OutboxMessage[]) => void;
  /** How often to look without a wake-up: the only way where LISTEN is unavailable, a safety net otherwise. */
  pollMs?: number;
  /** The poll interval when LISTEN is unavailable (Supabase's transaction pooler). */
  fallbackPollMs?: number;
  /** How many recent events to keep in memory for reconnecting clients. */
  recentLimit?: number;
  pageSize?: number;
}

/** A gap in the sequence, and the transactions that might still fill it. */
interface Gap {
  seq: number;
  /**
   * A transaction id taken after the gap was seen: any transaction holding the missing number got its id
   * before it took the number (see `appendOutbox`), so below this one. Unset until it has been taken.
   */
  horizon?: bigint;
}

/**
 * Tails the outbox for one instance and hands each committed event, once and in sequence order, to
 * `deliver`. Sequence numbers are taken before commit, so number 11 can become visible while 10's
 * transaction is still running: the relay never passes a gap until every transaction that could hold the
 * missing number has ended. If the gap is still there then, its transaction rolled back.
 *
 * A snapshot's `xmax` cannot bound those transactions (it is the newest *completed* id plus one, and a
 * running transaction may have a higher id without being listed), so the relay takes an id of its own.
 */
export function createOutboxRelay(options: RelayOptions) {
  const { database, outbox, logger, deliver } = options;
  const pollMs = options.pollMs ?? 5_000;
  const fallbackPollMs = options.fallbackPollMs ?? 1_000;
  const recentLimit = options.recentLimit ?? 10_000;
  const pageSize = options.pageSize ?? 1_000;

  // Unknown until the outbox can be read (the database may be down, or not migrated yet, at start-up).
  let head: number | undefined;
  let gap: Gap | undefined;
  const recent: OutboxMessage[] = [];
  let running = false;
  let reading: Promise<void> | undefined;
  let again = false;
  let timer: NodeJS.Timeout | undefined;
  let retry: NodeJS.Timeout | undefined;
  let unlisten: (() => Promise<void>) | undefined;

  function remember(messages: readonly OutboxMessage[]): void {
    recent.push(...messages);
    if (recent.length > recentLimit) recent.splice(0, recent.length - recentLimit);
  }

  /** The events of one page that can be passed on now: the run without an unexplained gap. */
  function deliverable(messages: readonly OutboxMessage[], oldestRunning: bigint): OutboxMessage[] {
    const ready: OutboxMessage[] = [];
    let expected = (head ?? 0) + 1;
    for (const message of messages) {
      if (message.seq !== expected) {
        const settled = gap?.seq === expected && gap.horizon !== undefined && oldestRunning > gap.horizon;
        if (!settled) {
          if (gap?.seq !== expected) gap = { seq: expected };
          break;
        }
        gap = undefined;
      }
      ready.push(message);
      expected = message.seq + 1;
    }
    if (ready.length === messages.length) gap = undefined;
    return ready;
  }

  async function readAll(): Promise<void> {
    head ??= (await outbox.bounds(database.db)).newest;
    for (;;) {
      const { messages, snapshot } = await outbox.after(database.db, head, pageSize);
      const ready = deliverable(messages, snapshot.xmin);
      const last = ready.at(-1);
      if (last) {
        head = last.seq;
        remember(ready);
        deliver(ready);
      }
      if (gap) {
        if (gap.horizon === undefined) gap.horizon = await outbox.newTransactionId(database.db);
        // A rolled-back transaction sends no NOTIFY: look again shortly rather than at the next poll.
        retry ??= setTimeout(() => {
          retry = undefined;
          wake();
        }, 50);
        return;
      }
      if (messages.length < pageSize) return;
    }
  }

  /** Reads now, or right after the read in progress: a wake-up is never lost, and reads never overlap. */
  function wake(): void {
    if (!running) return;
    if (reading) {
      again = true;
      return;
    }
    reading = (async () => {
      do {
        again = false;
        try {
          await readAll();
        } catch (error) {
          logger.warn({ err: error }, 'could not read the outbox; trying again at the next poll');
          return;
        }
      } while (again && running);
    })().finally(() => {
      reading = undefined;
    });
  }

  return {
    /** Starts from the newest event: what came before is for clients that ask with `since`. */
    async start(): Promise<void> {
      head = await outbox.bounds(database.db).then(
        (bounds) => bounds.newest,
        (error) => {
          logger.warn({ err: error }, 'cannot read the outbox yet; the relay starts once it can');
          return undefined;
        },
      );
      running = true;
      unlisten = await database.listen(OUTBOX_CHANNEL, wake).catch((error) => {
        logger.warn({ err: error }, `cannot LISTEN for outbox events; polling every ${fallbackPollMs} ms`);
        return undefined;
      });
      timer = setInterval(wake, unlisten ? pollMs : fallbackPollMs);
      timer.unref();
      wake();
    },
    wake,
    /** The sequence number of the newest event delivered. */
    get head(): number {
      return head ?? 0;
    },
    /**
     * The events after `seq` still held in memory, or undefined when some of them are no longer held (the
     * caller then reads them from the table).
     */
    recentAfter(seq: number): OutboxMessage[] | undefined {
      if (head === undefined) return undefined;
      if (seq >= head) return [];
      const first = recent[0];
      if (!first || first.seq > seq + 1) return undefined;
      return recent.filter((message) => message.seq > seq);
    },
    /** Resolves once the read in progress, if any, is done (for tests). */
    async idle(): Promise<void> {
      while (reading) await reading;
    },
    async stop(): Promise<void> {
      running = false;
      if (timer) clearInterval(timer);
      if (retry) clearTimeout(retry);
      await unlisten?.().catch(() => {});
      await reading;
    },
  };
}

export type OutboxRelay = ReturnType<typeof createOutboxRelay>;
