/** What every bench needs around its run: cleanup that always happens, an overall deadline, CPU readings. */
import { readFileSync } from 'node:fs';

export const round = (value: number, digits = 1) => Math.round(value * 10 ** digits) / 10 ** digits;

export interface Guard {
  /** Registers a cleanup; they run last-registered first. */
  onCleanup(label: string, run: () => Promise<void>): void;
  /** Runs every cleanup once (later calls wait for the first). */
  cleanup(): Promise<void>;
  /** Runs the bench: a failure sets a non-zero exit code, and the cleanups run either way. */
  run(main: () => Promise<void>): Promise<void>;
}

/**
 * Cleans up on success, failure, Ctrl-C or SIGTERM, and gives up (cleaning up) after `timeoutMs`, so a
 * bench never leaves a child process or a database behind and always stops by itself.
 */
export function guardRun(name: string, timeoutMs: number): Guard {
  const cleanups: { label: string; run: () => Promise<void> }[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = (): Promise<void> => {
    cleaning ??= (async () => {
      for (const { label, run } of cleanups.reverse()) {
        try {
          await run();
        } catch (error) {
          console.error(`cleanup (${label}) failed: ${(error as Error).message}`);
        }
      }
    })();
    return cleaning;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  setTimeout(() => {
    console.error(`${name}: still running after ${timeoutMs} ms, giving up`);
    void cleanup().finally(() => process.exit(1));
  }, timeoutMs).unref();
  return {
    onCleanup: (label, run) => cleanups.push({ label, run }),
    cleanup,
    async run(main) {
      try {
        await main();
      } catch (error) {
        console.error(error);
        process.exitCode = 1;
      } finally {
        await cleanup();
      }
    },
  };
}

/** Machine-wide busy and total CPU time (jiffies) from /proc/stat. */
export function cpuTimes(): { busy: number; total: number } {
  const [, ...fields] = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/);
  const values = fields.map(Number);
  const total = values.reduce((sum, v) => sum + v, 0);
  const idle = (values[3] ?? 0) + (values[4] ?? 0);
  return { busy: total - idle, total };
}

/** Share of the machine's CPU time spent busy between two readings. */
export const busyShare = (from: ReturnType<typeof cpuTimes>, to: ReturnType<typeof cpuTimes>) =>
  round((to.busy - from.busy) / Math.max(1, to.total - from.total), 2);
