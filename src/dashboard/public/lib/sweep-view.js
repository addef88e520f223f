const TERMINAL = new Set(['completed', 'failed']);

/**
 * One shape for a sweep, whether it came from REST (a session) or from the socket (a `sync:*` event):
 * `{ id, sessionId, mode, trigger, status, counts, phase, total, percent, ratePerSecond, etaSeconds, startTime,
 * endTime, error }`.
 */
export function sweepFromSession(session) {
  if (!session) return null;
  const { progress = {} } = session;
  return {
    id: session.id,
    sessionId: session.sessionId,
    mode: session.mode,
    trigger: session.trigger,
    status: session.status,
    counts: {
      seen: progress.seen ?? 0,
      created: progress.created ?? 0,
      updated: progress.updated ?? 0,
      archived: progress.archived ?? 0,
      unchanged: progress.unchanged ?? 0,
      drift: progress.drift ?? 0,
      errors: session.errorCount ?? 0,
    },
    phase: progress.phase ?? null,
    total: progress.total ?? null,
    percent: progress.percent ?? null,
    ratePerSecond: progress.ratePerSecond ?? null,
    etaSeconds: progress.etaSeconds ?? null,
    startTime: session.startTime ?? null,
    endTime: session.endTime ?? null,
    error: session.error ?? null,
  };
}

/** Folds a `sync:*` event into what is known of the same sweep (REST fills the times the events lack). */
export function sweepFromEvent(event, known) {
  const data = event.data ?? {};
  const same = known && known.id === data.id ? known : null;
  const status =
    data.status ??
    (event.type === 'sync:complete' ? 'completed' : event.type === 'sync:error' ? 'failed' : 'running');
  return {
    id: data.id,
    sessionId: data.sessionId ?? same?.sessionId,
    mode: data.mode ?? same?.mode,
    trigger: data.trigger ?? same?.trigger,
    status,
    counts: { ...same?.counts, ...data.counts },
    phase: data.phase ?? data.checkpoint?.phase ?? same?.phase ?? null,
    total: 'total' in data ? data.total : (same?.total ?? null),
    percent: 'percent' in data ? data.percent : (same?.percent ?? null),
    ratePerSecond: 'ratePerSecond' in data ? data.ratePerSecond : (same?.ratePerSecond ?? null),
    etaSeconds: 'etaSeconds' in data ? data.etaSeconds : (same?.etaSeconds ?? null),
    startTime: same?.startTime ?? (event.type === 'sync:start' ? event.at : null),
    endTime: same?.endTime ?? (TERMINAL.has(status) ? event.at : null),
    error: data.error ?? same?.error ?? null,
  };
}

/**
 * Which of two views of the same sweep is further along. Counts only grow and a finished sweep stays
 * finished, so an older answer arriving late never moves the bar backwards.
 */
export function furtherAlong(a, b) {
  if (!a) return b;
  if (!b) return a;
  if (TERMINAL.has(a.status) !== TERMINAL.has(b.status)) return TERMINAL.has(a.status) ? a : b;
  const aSeen = a.counts?.seen ?? 0;
  const bSeen = b.counts?.seen ?? 0;
  const later = bSeen >= aSeen ? b : a;
  const other = later === a ? b : a;
  // Keep the times and totals only one of them knows.
  return {
    ...later,
    startTime: later.startTime ?? other.startTime,
    endTime: later.endTime ?? other.endTime,
    total: later.total ?? other.total,
  };
}

export function isFinished(sweep) {
  return TERMINAL.has(sweep?.status);
}

// A full sweep also reads the archived list, so it can pass its total before it ends: stop short of full.
const UNFINISHED_MAX = 0.99;

/** 0…1, or null while the total is unknown (an incremental sweep, say). Only a completed sweep is at 1. */
export function sweepFraction(sweep) {
  if (!sweep) return null;
  if (sweep.status === 'completed') return 1;
  if (typeof sweep.percent === 'number') return Math.min(sweep.percent / 100, UNFINISHED_MAX);
  if (!sweep.total) return null;
  return Math.min((sweep.counts?.seen ?? 0) / sweep.total, UNFINISHED_MAX);
}
