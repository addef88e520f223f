import type { WebhookEvent } from '../../hubspot/webhook-events.ts';
import type { JournalClient } from './journal-client.ts';

export interface JournalPage {
  events: WebhookEvent[];
  /** Entries read in this page. */
  entries: number;
  /** Events left out (kinds this service does not apply). */
  skipped: number;
  /** The offset of the page's last entry: where the next read starts. */
  lastOffset: string;
}

/** Entry files downloaded at once: each is a small JSON file behind its own link. */
const DOWNLOADS_AT_ONCE = 4;

/**
 * Reads the journal forward from `offset` (exclusive; null: from its earliest entry) to its end, a page of
 * entries at a time, each page's events in journal order. Throws `JournalOffsetExpired` when the offset is no
 * longer kept.
 */
export async function* readJournalFrom(
  journal: JournalClient,
  offset: string | null,
): AsyncGenerator<JournalPage> {
  let from = offset;
  for (;;) {
    const positions = from === null ? await journal.earliest() : await journal.next(from);
    const last = positions.at(-1);
    if (!last) return;
    const files: Awaited<ReturnType<JournalClient['download']>>[] = [];
    for (let i = 0; i < positions.length; i += DOWNLOADS_AT_ONCE) {
      const slice = positions.slice(i, i + DOWNLOADS_AT_ONCE);
      files.push(...(await Promise.all(slice.map((position) => journal.download(position)))));
    }
    yield {
      events: files.flatMap((file) => file.events),
      entries: positions.length,
      skipped: files.reduce((sum, file) => sum + file.skipped, 0),
      lastOffset: last.offset,
    };
    from = last.offset;
  }
}
