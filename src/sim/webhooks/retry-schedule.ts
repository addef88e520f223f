import type { Random } from '../random.ts';

/**
 * HubSpot retries a failed webhook delivery up to 10 times over about 24 hours, each delay "a random length
 * between the previous delay and the maximum delay length"
 * (https://developers.hubspot.com/changelog/2018-12-10-updated-webhook-retry-logic). HubSpot publishes no exact
 * numbers, so the ceilings here double (c, 2c, 4c, …) and together add up to the 24-hour window: with 10 attempts
 * (9 retries) c = 24 h / 511 ≈ 169 s, and the last retry comes at most 24 h after the first failure.
 */
export const RETRY_WINDOW_MS = 24 * 60 * 60 * 1000;

export interface RetryScheduleOptions {
  /** Attempts in all, the first one included (HubSpot: 10). */
  maxAttempts: number;
  /** Multiplies every delay: 0.001 turns the 24 hours into about 86 seconds. */
  timeScale: number;
  random: Random;
}

/** The ceiling of the first retry's delay, unscaled. */
export function firstCeilingMs(maxAttempts: number): number {
  const retries = Math.max(1, maxAttempts - 1);
  return RETRY_WINDOW_MS / (2 ** retries - 1);
}

/**
 * The time scale that makes the first retry come no sooner than `retryBaseMs` (CONTRACT.md: "scaled so that its
 * first retry comes after --retry-base-ms"): the first delay is drawn from half its ceiling up to the ceiling.
 */
export function timeScaleForFirstRetry(retryBaseMs: number, maxAttempts: number): number {
  return retryBaseMs / (firstCeilingMs(maxAttempts) / 2);
}

export function createRetrySchedule(options: RetryScheduleOptions) {
  const first = firstCeilingMs(options.maxAttempts) * options.timeScale;
  const ceiling = (retry: number) => first * 2 ** (retry - 1);

  return {
    /** Whether an event that has just failed its `attempt`-th try (1-based count of tries made) gets another. */
    hasAnotherAttempt(attemptsMade: number): boolean {
      return attemptsMade < options.maxAttempts;
    },
    /** The wait before retry number `retry` (1 for the first retry), randomised between the two ceilings. */
    delayMs(retry: number): number {
      const high = ceiling(retry);
      const low = high / 2;
      return low + options.random.next() * (high - low);
    },
    /** The most the whole schedule can take, every retry at its ceiling. */
    get totalMs(): number {
      let total = 0;
      for (let retry = 1; retry < options.maxAttempts; retry++) total += ceiling(retry);
      return total;
    },
  };
}

export type RetrySchedule = ReturnType<typeof createRetrySchedule>;
