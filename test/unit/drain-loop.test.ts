import { describe, expect, test } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createDrainLoop } from '../../src/sync/drain-loop.ts';

const logger = createLogger({ level: 'silent' });

describe('the drain loop', () => {
  test('runs its step back to back while it finds work, then sleeps until woken', async () => {
    let backlog = 5;
    let runs = 0;
    const loop = createDrainLoop({
      logger,
      wakeEveryMs: 60_000,
      step: async () => {
        runs++;
        if (backlog === 0) return 0;
        backlog--;
        return 1;
      },
    });
    loop.start();
    await loop.drained();
    expect([backlog, runs]).toEqual([0, 6]);

    backlog = 2;
    loop.wake();
    await loop.drained();
    expect([backlog, runs]).toEqual([0, 9]);
    await loop.stop();
  });

  test('a wake-up during a step that found nothing is not lost', async () => {
    let backlog = 0;
    let loop: ReturnType<typeof createDrainLoop> | undefined;
    let first = true;
    loop = createDrainLoop({
      logger,
      wakeEveryMs: 60_000,
      step: async () => {
        if (first) {
          first = false;
          // New work arrives while this step is looking and finding nothing.
          backlog = 1;
          loop?.wake();
          return 0;
        }
        if (backlog === 0) return 0;
        backlog--;
        return 1;
      },
    });
    loop.start();
    await loop.drained();
    expect(backlog).toBe(0);
    await loop.stop();
  });

  test('a failing step is retried after a backoff', async () => {
    let calls = 0;
    const loop = createDrainLoop({
      logger,
      wakeEveryMs: 60_000,
      step: async () => {
        calls++;
        if (calls === 1) throw new Error('database hiccup');
        return 0;
      },
    });
    loop.start();
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(calls).toBeGreaterThanOrEqual(2);
    await loop.stop();
  });
});
