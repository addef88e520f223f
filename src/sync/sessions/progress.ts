/** Where a sweep stands, for people watching it: how far, how fast, and how long still to go. */
export interface SweepProgress {
  phase: string | null;
  /** Contacts read from HubSpot so far. */
  done: number;
  /** How many the sweep expects to read (HubSpot's count when it began); null when unknown. */
  total: number | null;
  /** 0–100; null when the total is unknown. */
  percent: number | null;
  ratePerSecond: number | null;
  etaSeconds: number | null;
}

export interface ProgressInput {
  status: string;
  startTime: string;
  endTime: string | null;
  seen: number;
  total: number | null;
  phase: string | null;
}

// Under a second in, a rate says more about start-up than about the sweep.
const MIN_ELAPSED_MS = 1_000;

/**
 * The rate is the sweep's average so far; the ETA is what remains of the total at that rate. A sweep can
 * read more than its total (contacts created meanwhile, or the archived list in a full sweep's second
 * phase), so the percentage stops short of 100 until the sweep completes.
 */
export function progressOf(input: ProgressInput, now: number): SweepProgress {
  const end = input.endTime ? Date.parse(input.endTime) : now;
  const elapsedMs = end - Date.parse(input.startTime);
  const rate = elapsedMs >= MIN_ELAPSED_MS ? input.seen / (elapsedMs / 1000) : null;
  const finished = input.status === 'completed';
  const running = input.status === 'running' || input.status === 'pending';
  let percent: number | null = null;
  if (finished) percent = 100;
  else if (input.total !== null && input.total > 0) percent = Math.min(99, (100 * input.seen) / input.total);
  else if (input.total === 0) percent = 99;
  let eta: number | null = null;
  if (finished) eta = 0;
  else if (running && input.total !== null && rate && rate > 0)
    eta = Math.max(0, (input.total - input.seen) / rate);
  return {
    phase: input.phase,
    done: input.seen,
    total: input.total,
    percent: percent === null ? null : Math.round(percent * 10) / 10,
    ratePerSecond: rate === null ? null : Math.round(rate * 10) / 10,
    etaSeconds: eta === null ? null : Math.ceil(eta),
  };
}
