import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { Clock } from './clock.ts';
import type { WebhookEvent } from './webhooks/events.ts';

/**
 * The Webhooks Journal (2026-03): every event the portal produced, in the order it happened, kept 3 days
 * ("query for changes that occurred for your subscriptions over the past 3 days",
 * https://developers.hubspot.com/docs/api-reference/latest/webhooks-journal/journal-entries/guide).
 *
 * How HubSpot cuts events into entries is not documented. The plainest reading, and the one that keeps an
 * offset meaning the same thing forever, is that an entry holds the events of one write and never changes
 * once it can be read: here an entry is the events one portal change produced.
 */
export const JOURNAL_RETENTION_MS = 3 * 24 * 60 * 60 * 1000;

/**
 * How long a file link works. The docs call it "a temporary, pre-signed URL" with an `expiresAt` and give no
 * length (https://developers.hubspot.com/docs/api-reference/2027-03-beta/webhooks-journal/journal-entries/local/get-journal-local-next):
 * 15 minutes, the usual life of a pre-signed object-store link.
 */
export const JOURNAL_FILE_TTL_MS = 15 * 60 * 1000;

export interface JournalEntry {
  /** `currentOffset`: a UUID, as JournalFetchResponse types it. */
  offset: string;
  portalId: number;
  recordedAt: number;
  events: readonly WebhookEvent[];
}

export type NextResult =
  | { kind: 'entries'; entries: JournalEntry[] }
  /** The offset is known but nothing newer exists yet. */
  | { kind: 'end' }
  /** Never issued, or dropped with the entries older than 3 days. */
  | { kind: 'unknown' };

export interface JournalOptions {
  clock: Clock;
  retentionMs?: number;
  fileTtlMs?: number;
}

export function createJournal(options: JournalOptions) {
  const { clock } = options;
  const retentionMs = options.retentionMs ?? JOURNAL_RETENTION_MS;
  const fileTtlMs = options.fileTtlMs ?? JOURNAL_FILE_TTL_MS;
  const entries: JournalEntry[] = [];
  const positions = new Map<string, number>();
  /** Sequence number of entries[0]: positions hold sequence numbers, so pruning never renumbers. */
  let first = 0;
  const signingKey = randomBytes(32);

  function prune(): void {
    const horizon = clock.now() - retentionMs;
    let drop = 0;
    while (drop < entries.length && (entries[drop] as JournalEntry).recordedAt <= horizon) drop++;
    for (const entry of entries.splice(0, drop)) positions.delete(entry.offset);
    first += drop;
  }

  const live = (portalId: number | undefined) => {
    prune();
    return portalId === undefined ? entries : entries.filter((entry) => entry.portalId === portalId);
  };

  function find(offset: string, portalId?: number): JournalEntry | undefined {
    prune();
    const position = positions.get(offset);
    const entry = position === undefined ? undefined : entries[position - first];
    return entry && (portalId === undefined || entry.portalId === portalId) ? entry : undefined;
  }

  const sign = (offset: string, expires: number) =>
    createHmac('sha256', signingKey).update(`${offset}:${expires}`).digest('base64url');

  return {
    /** Records the events of one change; called before webhook delivery, so lost deliveries are still here. */
    record(portalId: number, events: readonly WebhookEvent[]): void {
      if (events.length === 0) return;
      prune();
      const offset = randomUUID();
      positions.set(offset, first + entries.length);
      entries.push({ offset, portalId, recordedAt: clock.now(), events: [...events] });
    },

    earliest(count: number, portalId?: number): JournalEntry[] {
      return live(portalId).slice(0, count);
    },

    /** The newest `count` entries, oldest first. */
    latest(count: number, portalId?: number): JournalEntry[] {
      const all = live(portalId);
      return all.slice(Math.max(0, all.length - count));
    },

    next(offset: string, count: number, portalId?: number): NextResult {
      prune();
      const position = positions.get(offset);
      const from = position === undefined ? undefined : entries[position - first];
      if (position === undefined || !from || (portalId !== undefined && from.portalId !== portalId))
        return { kind: 'unknown' };
      const newer = entries
        .slice(position - first + 1)
        .filter((entry) => portalId === undefined || entry.portalId === portalId)
        .slice(0, count);
      return newer.length === 0 ? { kind: 'end' } : { kind: 'entries', entries: newer };
    },

    find,

    /** A pre-signed link to an entry's file: the path and query to serve it under, and when it stops working. */
    fileLink(entry: JournalEntry): { path: string; expiresAt: number } {
      const expires = clock.now() + fileTtlMs;
      const query = new URLSearchParams({ expires: String(expires), signature: sign(entry.offset, expires) });
      return { path: `/webhooks-journal-files/${entry.offset}.json?${query}`, expiresAt: expires };
    },

    /** Checks a file link: the entry's events, or why the link does not work. */
    openFile(
      offset: string,
      expires: string | undefined,
      signature: string | undefined,
    ): { kind: 'file'; events: readonly WebhookEvent[] } | { kind: 'forbidden' | 'expired' | 'gone' } {
      const at = Number(expires);
      if (!Number.isSafeInteger(at) || !signature) return { kind: 'forbidden' };
      const expected = Buffer.from(sign(offset, at));
      const given = Buffer.from(signature);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { kind: 'forbidden' };
      if (at <= clock.now()) return { kind: 'expired' };
      const entry = find(offset);
      return entry ? { kind: 'file', events: entry.events } : { kind: 'gone' };
    },
  };
}

export type Journal = ReturnType<typeof createJournal>;
