import { describe, expect, test } from 'vitest';
import { HubSpotError } from '../../src/hubspot/errors.ts';
import { createPacer, readRateLimitHeaders } from '../../src/hubspot/pacer.ts';
import { createLogger } from '../../src/logger.ts';

/** A clock that only moves when the pacer sleeps, so pacing is measured exactly and instantly. */
function fakeTime() {
  let now = 1_000_000;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

const logger = createLogger({ level: 'silent' });

describe('the HubSpot pacer', () => {
  test('spaces requests so no rolling window ever holds more than 95% of the limit', async () => {
    const time = fakeTime();
    const pacer = createPacer({ logger, concurrency: 1, ...time });
    pacer.observe({ max: 190, intervalMs: 10_000, remaining: 189 });
    const startedAt: number[] = [];
    for (let i = 0; i < 400; i++) await pacer.run('sweep', async () => startedAt.push(time.now()));
    const busiestWindow = Math.max(
      ...startedAt.map((t) => startedAt.filter((s) => s >= t && s < t + 10_000).length),
    );
    expect(busiestWindow).toBeLessThanOrEqual(180);
    expect(busiestWindow).toBeGreaterThanOrEqual(175);
  });

  test('an endpoint that advertises no limit is not paced, until it advertises one again', async () => {
    const time = fakeTime();
    const pacer = createPacer({ logger, concurrency: 1, unlimitedWithoutHeaders: true, ...time });
    pacer.observe({});
    const start = time.now();
    for (let i = 0; i < 100; i++) await pacer.run('sweep', async () => {});
    expect(time.now() - start).toBe(0);
    pacer.observe({ max: 100, intervalMs: 10_000, remaining: 99 });
    for (let i = 0; i < 10; i++) await pacer.run('sweep', async () => {});
    expect(time.now() - start).toBeGreaterThanOrEqual(9 * 106);
  });

  test('webhook fetch-backs overtake queued sweep requests', async () => {
    const time = fakeTime();
    const pacer = createPacer({ logger, concurrency: 1, ...time });
    const order: string[] = [];
    const runs = [
      pacer.run('sweep', async () => order.push('sweep-1')),
      pacer.run('sweep', async () => order.push('sweep-2')),
      pacer.run('sweep', async () => order.push('sweep-3')),
      pacer.run('webhook', async () => order.push('webhook')),
    ];
    await Promise.all(runs);
    expect(order.indexOf('webhook')).toBeLessThan(order.indexOf('sweep-3'));
  });

  test('a 429 on the ten-secondly limit is retried, and the daily limit is surfaced at once', async () => {
    const time = fakeTime();
    const pacer = createPacer({ logger, concurrency: 1, ...time });
    let calls = 0;
    const answer = await pacer.run('webhook', async () => {
      calls++;
      if (calls < 3)
        throw new HubSpotError({
          kind: 'rate_limited',
          status: 429,
          policyName: 'TEN_SECONDLY_ROLLING',
          message: '429',
        });
      return 'ok';
    });
    expect([answer, calls]).toEqual(['ok', 3]);

    let dailyCalls = 0;
    const daily = pacer.run('sweep', async () => {
      dailyCalls++;
      throw new HubSpotError({ kind: 'daily_limit', status: 429, policyName: 'DAILY', message: 'daily' });
    });
    await expect(daily).rejects.toMatchObject({ kind: 'daily_limit' });
    expect(dailyCalls).toBe(1);
    // Further calls are refused without reaching HubSpot for an hour, then one goes through.
    await expect(pacer.run('webhook', async () => 'never')).rejects.toMatchObject({ kind: 'daily_limit' });
    expect(pacer.dailyLimitUntil).toBeGreaterThan(time.now());
    await time.sleep(60 * 60_000);
    expect(await pacer.run('webhook', async () => 'again')).toBe('again');
  });

  test('gives up on a failure that keeps coming after the last attempt', async () => {
    const pacer = createPacer({ logger, concurrency: 1, maxAttempts: 3, ...fakeTime() });
    let calls = 0;
    await expect(
      pacer.run('webhook', async () => {
        calls++;
        throw new HubSpotError({ kind: 'server', status: 502, message: 'bad gateway' });
      }),
    ).rejects.toMatchObject({ kind: 'server' });
    expect(calls).toBe(3);
  });

  test('reads the rate-limit headers in any case, ignoring absent ones', () => {
    expect(
      readRateLimitHeaders({
        'X-HubSpot-RateLimit-Max': '190',
        'x-hubspot-ratelimit-remaining': '7',
        'x-hubspot-ratelimit-interval-milliseconds': '10000',
      }),
    ).toEqual({ max: 190, remaining: 7, intervalMs: 10_000 });
    expect(readRateLimitHeaders({})).toEqual({ max: undefined, remaining: undefined, intervalMs: undefined });
  });
});
