import { afterEach, describe, expect, test, vi } from 'vitest';
import { HubSpotError } from '../../src/hubspot/errors.ts';
import { createPacer } from '../../src/hubspot/pacer.ts';
import { createLogger } from '../../src/logger.ts';

const logger = createLogger({ level: 'silent' });

/** A clock that only moves when the pacer sleeps; every sleep is recorded. */
function fakeTime() {
  let now = 1_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
  };
}

const rateLimited = () =>
  new HubSpotError({ kind: 'rate_limited', status: 429, policyName: 'TEN_SECONDLY_ROLLING', message: '429' });
const serverError = () => new HubSpotError({ kind: 'server', status: 502, message: 'bad gateway' });

/** Runs a call that fails `failures` times with `error()`, returning when each attempt started. */
async function attemptTimes(time: ReturnType<typeof fakeTime>, failures: number, error: () => Error) {
  // No advertised limit: the pacer adds no spacing, so every wait recorded is a retry's.
  const pacer = createPacer({
    logger,
    concurrency: 1,
    unlimitedWithoutHeaders: true,
    maxAttempts: 10,
    ...time,
  });
  pacer.observe({});
  const startedAt: number[] = [];
  await pacer.run('sweep', async () => {
    startedAt.push(time.now());
    if (startedAt.length <= failures) throw error();
    return 'ok';
  });
  return startedAt.slice(1).map((t, i) => t - (startedAt[i] ?? 0));
}

describe('the pacer waits before retrying, per its policy', () => {
  afterEach(() => vi.restoreAllMocks());

  test('a 429 waits about a second (0.5 s to 1.5 s with jitter) before each retry', async () => {
    for (const random of [0, 0.5, 0.999]) {
      vi.spyOn(Math, 'random').mockReturnValue(random);
      const time = fakeTime();
      const gaps = await attemptTimes(time, 3, rateLimited);
      expect(gaps).toHaveLength(3);
      for (const gap of gaps) {
        expect(gap).toBeGreaterThanOrEqual(500);
        expect(gap).toBeLessThan(1500);
        expect(gap).toBeCloseTo(500 + random * 1000, 0);
      }
    }
  });

  test('a 5xx backs off exponentially from 1 s, with jitter, capped at 30 s', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const gaps = await attemptTimes(fakeTime(), 7, serverError);
    // 500 ms × 2^attempt, then ×(0.5 + random): exactly the backoff at random = 0.5.
    expect(gaps).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
  });

  test('the jitter stays within half to one and a half of the backoff', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(await attemptTimes(fakeTime(), 2, serverError)).toEqual([500, 1_000]);
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const gaps = await attemptTimes(fakeTime(), 2, serverError);
    expect(gaps[0]).toBeCloseTo(1_499, 0);
    expect(gaps[1]).toBeCloseTo(2_998, 0);
  });
});
