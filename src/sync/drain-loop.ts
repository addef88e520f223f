import PQueue from 'p-queue';
import type { Logger } from '../logger.ts';

export interface DrainLoopOptions {
  /** Does one unit of work; returns how much it found (0: nothing to do right now). */
  step: () => Promise<number>;
  logger: Logger;
  concurrency?: number;
  /** A safety net for work coming due (retries) and wake-ups lost with a connection; not the hot path. */
  wakeEveryMs?: number;
}

/**
 * Runs `step` back to back, up to `concurrency` at once, while it finds work; then sleeps until `wake()`.
 * A wake-up during a step that found nothing is never lost: the loop only sleeps if none came meanwhile.
 */
export function createDrainLoop(options: DrainLoopOptions) {
  const { step, logger } = options;
  const concurrency = options.concurrency ?? 1;
  const queue = new PQueue({ concurrency });
  let running = false;
  let idle = false;
  let generation = 0;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;

  function pump(): void {
    while (running && !idle && queue.size + queue.pending < concurrency) {
      const seen = generation;
      void queue
        .add(async () => {
          try {
            const found = await step();
            failures = 0;
            if (found === 0 && seen === generation) idle = true;
          } catch (error) {
            failures++;
            logger.error({ err: error }, 'background step failed; retrying');
            idle = true;
            setTimeout(wake, Math.min(30_000, 250 * 2 ** failures)).unref();
          }
        })
        // Only once the step has left the queue is its slot free for the next one.
        .finally(() => setImmediate(pump));
    }
  }

  function wake(): void {
    generation++;
    idle = false;
    pump();
  }

  return {
    start(): void {
      running = true;
      timer = setInterval(wake, options.wakeEveryMs ?? 5_000);
      timer.unref();
      wake();
    },
    wake,
    /** Resolves once a step has found nothing to do and none is running (for tests and benchmarks). */
    async drained(): Promise<void> {
      while (!idle || queue.size + queue.pending > 0) {
        await queue.onIdle();
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    async stop(): Promise<void> {
      running = false;
      if (timer) clearInterval(timer);
      await queue.onIdle();
    },
  };
}

export type DrainLoop = ReturnType<typeof createDrainLoop>;
