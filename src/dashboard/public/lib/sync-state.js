import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { useLiveMessages } from './hooks.js';
import { furtherAlong, sweepFromEvent, sweepFromSession } from './sweep-view.js';

const POLL_MS = 5000;
// sync:progress can come several times a second; the status behind it need not be asked for as often.
const EVENT_REFRESH_GAP_MS = 1000;

/**
 * The page's shared state: `GET /api/sync/status` polled every few seconds and on `sync:*` events, the sweep as
 * the socket reports it, the HubSpot connection, and the role the socket's hello tells.
 * `syncTick` rises when a sweep starts or ends (lists reload), `pollTick` with every poll.
 */
export function useSyncState({ api, live }) {
  const [status, setStatus] = useState(null);
  const [statusError, setStatusError] = useState(null);
  const [updatedAt, setUpdatedAt] = useState(null);
  const [sweep, setSweep] = useState(null);
  const [liveConnection, setLiveConnection] = useState(null);
  const [role, setRole] = useState(null);
  const [syncTick, setSyncTick] = useState(0);
  const [pollTick, setPollTick] = useState(0);
  const lastSweepEventAt = useRef(0);
  const refreshTimer = useRef(0);
  const lastRefreshAt = useRef(0);
  const greeted = useRef(false);

  const refreshStatus = useCallback(async () => {
    const askedAt = performance.now();
    lastRefreshAt.current = askedAt;
    try {
      const next = await api.get('/api/sync/status');
      setStatus(next);
      setStatusError(null);
      setUpdatedAt(new Date().toISOString());
      const polled = sweepFromSession(next.running ?? next.last);
      setSweep((shown) => {
        if (!polled) return shown;
        if (shown && shown.id === polled.id) return furtherAlong(shown, polled);
        // Another sweep: news from the socket that came after this question was asked is newer than the answer.
        if (shown && askedAt < lastSweepEventAt.current) return shown;
        return polled;
      });
    } catch (error) {
      if (error.status !== 401) setStatusError(error);
    }
  }, [api]);

  const refreshSoon = useCallback(() => {
    if (refreshTimer.current) return;
    const wait = Math.max(0, lastRefreshAt.current + EVENT_REFRESH_GAP_MS - performance.now());
    refreshTimer.current = setTimeout(() => {
      refreshTimer.current = 0;
      refreshStatus();
    }, wait);
  }, [refreshStatus]);

  useEffect(() => {
    refreshStatus();
    const timer = setInterval(() => {
      refreshStatus();
      setPollTick((tick) => tick + 1);
    }, POLL_MS);
    return () => {
      clearInterval(timer);
      clearTimeout(refreshTimer.current);
    };
  }, [refreshStatus]);

  useLiveMessages(live, (batch) => {
    let sweepsChanged = false;
    let statusChanged = false;
    for (const message of batch) {
      if (message.type === 'hello') {
        setRole(message.data?.role ?? null);
        // After a reconnection: what happened while away may not all come back as events.
        if (greeted.current) sweepsChanged = true;
        greeted.current = true;
      } else if (message.type === 'reset') {
        sweepsChanged = true;
      } else if (message.type === 'connection:status') {
        setLiveConnection(message.data ?? null);
        statusChanged = true;
      } else if (message.type.startsWith('sync:')) {
        lastSweepEventAt.current = performance.now();
        setSweep((shown) => {
          const reported = sweepFromEvent(message, shown);
          return shown && shown.id === reported.id ? furtherAlong(shown, reported) : reported;
        });
        statusChanged = true;
        if (message.type !== 'sync:progress') sweepsChanged = true;
      }
    }
    if (sweepsChanged) {
      setSyncTick((tick) => tick + 1);
      refreshStatus();
    } else if (statusChanged) {
      refreshSoon();
    }
  });

  return { status, statusError, updatedAt, sweep, liveConnection, role, syncTick, pollTick, refreshStatus };
}
