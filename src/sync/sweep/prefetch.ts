/**
 * Reads `source` ahead, up to `depth` items, while the consumer works on earlier ones, and hands the consumer
 * everything read so far at once (at least one item). Reading HubSpot's next page then overlaps with writing
 * the last ones to PostgreSQL, and several pages share one transaction when the database is the slower side.
 * Leaving the loop early stops the reading.
 */
export async function* prefetched<T>(source: AsyncIterator<T>, depth: number): AsyncGenerator<T[]> {
  const buffer: T[] = [];
  let finished = false;
  let stopped = false;
  let failure: unknown;
  let itemArrived: (() => void) | undefined;
  let roomFreed: (() => void) | undefined;

  const reader = (async () => {
    try {
      for (;;) {
        while (buffer.length >= depth && !stopped)
          await new Promise<void>((resolve) => (roomFreed = resolve));
        if (stopped) return;
        const next = await source.next();
        if (next.done) return;
        buffer.push(next.value);
        itemArrived?.();
      }
    } catch (error) {
      failure = error;
    } finally {
      finished = true;
      itemArrived?.();
    }
  })();

  try {
    for (;;) {
      while (buffer.length === 0 && !finished) await new Promise<void>((resolve) => (itemArrived = resolve));
      if (buffer.length === 0) {
        if (failure) throw failure;
        return;
      }
      const items = buffer.splice(0, buffer.length);
      roomFreed?.();
      yield items;
    }
  } finally {
    stopped = true;
    roomFreed?.();
    await reader;
    await source.return?.();
  }
}
