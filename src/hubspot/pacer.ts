import PQueue from 'p-queue';
import type { Logger } from '../logger.ts';
import { HubSpotError } from './errors.ts';

export type Priority = 'webhook' | 'sweep';

const DAILY_PAUSE_MS = 60 * 60_000;

// p-queue runs higher numbers first: webhook fetch-backs overtake queued sweep pages.
const PRIORITY: Record<Priority, number> = { webhook: 10, sweep: 0 };

export interface RateLimitHeaders {
  max?: number;
  remaining?: number;
  intervalMs?: number;
}

export function readRateLimitHeaders(headers: Record<string, string> | undefined): RateLimitHeaders {
  const lowered = Object.fromEntries(
    Object.entries(headers ?? {}).map(([name, value]) => [name.toLowerCase(), value]),
  );
  const number = (name: string) => {
    const value = lowered[name];
    return value === undefined || value === '' || Number.isNaN(Number(value)) ? undefined : Number(value);
  };
  return {
    max: number('x-hubspot-ratelimit-max'),
    remaining: number('x-hubspot-ratelimit-remaining'),
    intervalMs: number('x-hubspot-ratelimit-interval-milliseconds'),
  };
}

export interface PacerOptions {
  logger: Logger;
  /** Requests in flight at once. */
  concurrency?: number;
  /** Until HubSpot's headers say otherwise: the lowest app limit (Free/Starter private apps: 100 per 10 s). */
  assumedMax?: number;
  assumedIntervalMs?: number;
  /** Share of the limit to use, leaving room for other users of the same app's budget. */
  headroom?: number;
  /**
   * HubSpot's CRM endpoints always advertise their limit; an answer without the headers means there is none
   * to respect (a local simulator with limits off). Search never sends them, so its pacer keeps its pace.
   */
  unlimitedWithoutHeaders?: boolean;
  maxAttempts?: number;
  /** Time and waiting, passed in so tests can run the pacing without real waits. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * One budget for every HubSpot call of the process. Requests are spaced evenly (so no stretch of HubSpot's
 * rolling window can hold more than its share, however the window is aligned), the pace is
 * re-derived from the X-HubSpot-RateLimit-* headers, and a 429 pauses everyone: for a second on
 * TEN_SECONDLY_ROLLING or SECONDLY, while DAILY is surfaced as an error (waiting minutes would not help).
 * https://developers.hubspot.com/docs/api/usage-details#rate-limits
 */
export function createPacer(options: PacerOptions) {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const now = options.now ?? Date.now;
  // 95% of the advertised limit: close to it (HubSpot counts per app, and a sweep should use what it has)
  // with a margin for clock jitter between our spacing and HubSpot's rolling window.
  const headroom = options.headroom ?? 0.95;
  const maxAttempts = options.maxAttempts ?? 5;
  let limit = { max: options.assumedMax ?? 100, intervalMs: options.assumedIntervalMs ?? 10_000 };
  // Whole milliseconds, rounded up: N requests spaced W/N apart could put N + 1 in a window of W.
  let advertised = true;
  const spacingMs = () =>
    advertised ? Math.ceil(limit.intervalMs / Math.max(1, Math.floor(limit.max * headroom))) : 0;
  const queue = new PQueue({ concurrency: options.concurrency ?? 4 });
  let pausedUntil = 0;
  let dailyBlockedUntil = 0;
  let nextSlot = 0;

  async function takeSlot(): Promise<void> {
    const current = now();
    const at = Math.max(current, nextSlot, pausedUntil);
    nextSlot = at + spacingMs();
    if (at > current) await sleep(at - current);
  }

  function observe(headers: RateLimitHeaders): void {
    if (options.unlimitedWithoutHeaders) advertised = headers.max !== undefined;
    if (
      headers.max &&
      headers.intervalMs &&
      (headers.max !== limit.max || headers.intervalMs !== limit.intervalMs)
    ) {
      limit = { max: headers.max, intervalMs: headers.intervalMs };
      options.logger.info(
        { ...limit, spacingMs: spacingMs() },
        'HubSpot rate limit learned from its headers',
      );
    }
    // Someone else is spending the same budget: leave the rest of the window to them.
    if (
      headers.remaining !== undefined &&
      headers.max &&
      headers.remaining < (headers.max * (1 - headroom)) / 2
    ) {
      pausedUntil = Math.max(pausedUntil, now() + Math.ceil(limit.intervalMs / limit.max));
    }
  }

  return {
    observe,
    /** Runs `call` within the budget, retrying rate limits and transient failures with backoff and jitter. */
    async run<T>(priority: Priority, call: () => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        try {
          return (await queue.add(
            async () => {
              await takeSlot();
              if (now() < dailyBlockedUntil) {
                throw new HubSpotError({
                  kind: 'daily_limit',
                  policyName: 'DAILY',
                  message: `HubSpot's daily API limit is used up; the next try is at ${new Date(dailyBlockedUntil).toISOString()}`,
                });
              }
              return call();
            },
            { priority: PRIORITY[priority] },
          )) as T;
        } catch (error) {
          // The daily cap resets at midnight in the portal's time zone, which the API does not tell: calls stop
          // for an hour, then one tries again, rather than spending the error budget on refusals.
          if (error instanceof HubSpotError && error.kind === 'daily_limit' && now() >= dailyBlockedUntil) {
            dailyBlockedUntil = now() + DAILY_PAUSE_MS;
            options.logger.error(
              { until: new Date(dailyBlockedUntil).toISOString() },
              'HubSpot daily API limit reached',
            );
          }
          if (!(error instanceof HubSpotError) || !error.retryable || attempt >= maxAttempts) throw error;
          const backoff = error.kind === 'rate_limited' ? 1000 : Math.min(30_000, 500 * 2 ** attempt);
          const delay = backoff / 2 + Math.random() * backoff;
          if (error.kind === 'rate_limited') pausedUntil = Math.max(pausedUntil, now() + delay);
          options.logger.warn(
            { kind: error.kind, policy: error.policyName, attempt, delay: Math.round(delay) },
            'HubSpot call will be retried',
          );
          await sleep(delay);
        }
      }
    },
    get pace() {
      return { ...limit, spacingMs: spacingMs() };
    },
    /** When HubSpot's daily limit blocks calls, until when (epoch ms); undefined when it does not. */
    get dailyLimitUntil(): number | undefined {
      return now() < dailyBlockedUntil ? dailyBlockedUntil : undefined;
    },
  };
}

export type Pacer = ReturnType<typeof createPacer>;
