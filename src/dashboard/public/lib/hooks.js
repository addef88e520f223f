import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/**
 * A cursor-paged list: `reload()` starts again from the first page, `refresh()` folds the first page into
 * what is shown (new rows on top, known rows updated, pages already loaded kept), `more()` adds the next page.
 * `load(cursor)` must answer `{ data, nextCursor }`; the list reloads whenever `load` changes.
 */
export function usePagedList(load) {
  const [rows, setRows] = useState([]);
  const [nextCursor, setNextCursor] = useState(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState(null);
  // Answers to an older `load` (a search typed over) must not land in the newer list.
  const generation = useRef(0);
  const loadedPages = useRef(0);

  const fetchPage = useCallback(
    async (cursor, apply) => {
      const mine = generation.current;
      setLoading(true);
      try {
        const page = await load(cursor);
        if (mine !== generation.current) return;
        apply(page);
        setError(null);
      } catch (failure) {
        if (mine === generation.current) setError(failure);
      } finally {
        if (mine === generation.current) setLoading(false);
      }
    },
    [load],
  );

  const reload = useCallback(() => {
    generation.current += 1;
    return fetchPage(undefined, (page) => {
      loadedPages.current = 1;
      setRows(page.data);
      setNextCursor(page.nextCursor);
    });
  }, [fetchPage]);

  const refresh = useCallback(
    () =>
      fetchPage(undefined, (page) => {
        if (loadedPages.current <= 1) {
          loadedPages.current = 1;
          setRows(page.data);
          setNextCursor(page.nextCursor);
          return;
        }
        setRows((shown) => {
          const fresh = new Map(page.data.map((row) => [row.id, row]));
          const known = new Set(shown.map((row) => row.id));
          return [
            ...page.data.filter((row) => !known.has(row.id)),
            ...shown.map((row) => fresh.get(row.id) ?? row),
          ];
        });
      }),
    [fetchPage],
  );

  const more = useCallback(() => {
    if (!nextCursor) return Promise.resolve();
    return fetchPage(nextCursor, (page) => {
      loadedPages.current += 1;
      setRows((shown) => {
        const known = new Set(shown.map((row) => row.id));
        return [...shown, ...page.data.filter((row) => !known.has(row.id))];
      });
      setNextCursor(page.nextCursor);
    });
  }, [fetchPage, nextCursor]);

  useEffect(() => {
    reload();
  }, [reload]);

  return { rows, setRows, nextCursor, loading, error, reload, refresh, more };
}

/** `value`, once it has stopped changing for `delayMs`. */
export function useDebounced(value, delayMs) {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setSettled(value), delayMs);
    return () => clearTimeout(timer);
  }, [value, delayMs]);
  return settled;
}

/** The current time, ticking every `everyMs` while `active` (a running sweep's elapsed time). */
export function useNow(everyMs, active = true) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(Date.now()), everyMs);
    return () => clearInterval(timer);
  }, [everyMs, active]);
  return now;
}

/** Calls the latest `handler` with each batch of socket messages. */
export function useLiveMessages(live, handler) {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    if (!live) return;
    return live.onBatch((batch) => latest.current(batch));
  }, [live]);
}
