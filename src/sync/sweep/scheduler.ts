import type { Database } from '../../db/client.ts';
import type { Logger } from '../../logger.ts';
import type { SessionsRepository } from '../sessions/sessions.repository.ts';
import type { Sweeper } from './sweeper.ts';

export interface SchedulerDeps {
  sweeper: Sweeper;
  sessions: SessionsRepository;
  database: Database;
  logger: Logger;
  /** 0 disables the schedule. */
  incrementalEveryMs: number;
  fullEveryMs: number;
  random?: () => number;
}

/**
 * Runs incremental and full sweeps on their periods, each jittered by ±10% so instances started together
 * spread out. A tick that finds a sweep running anywhere just waits for the next one. At start-up it also
 * finishes what a crash interrupted, and runs a first full sweep on a mirror that never had one.
 */
export function createSweepScheduler(deps: SchedulerDeps) {
  const random = deps.random ?? Math.random;
  const timers = new Set<NodeJS.Timeout>();
  let running = false;

  const jittered = (ms: number) => Math.round(ms * (0.9 + random() * 0.2));

  async function tick(mode: 'full' | 'incremental', trigger: 'schedule' | 'startup') {
    const result = await deps.sweeper.start({ mode, trigger }).catch((error) => {
      deps.logger.error({ err: error, mode }, 'scheduled sweep could not start');
      return undefined;
    });
    if (result && 'running' in result)
      deps.logger.debug({ mode }, 'a sweep is already running; skipping this tick');
  }

  function every(mode: 'full' | 'incremental', periodMs: number) {
    if (periodMs <= 0) return;
    const schedule = () => {
      const timer = setTimeout(async () => {
        timers.delete(timer);
        if (!running) return;
        await tick(mode, 'schedule');
        if (running) schedule();
      }, jittered(periodMs));
      timer.unref();
      timers.add(timer);
    };
    schedule();
  }

  /**
   * Finishes what a crash, a deploy or a lost connection interrupted; on a mirror that never had one, runs
   * the first full sweep; otherwise, when `catchUp`, an incremental sweep for what happened meanwhile.
   */
  async function resume(catchUp: boolean): Promise<void> {
    const last = await deps.sessions.latest(deps.database.db);
    const lastFull = await deps.sessions.latest(deps.database.db, { mode: 'full' });
    if (last && last.status !== 'completed') await tick(last.mode, 'startup');
    else if (lastFull?.status !== 'completed' && deps.fullEveryMs > 0) await tick('full', 'startup');
    else if (catchUp && deps.incrementalEveryMs > 0) await tick('incremental', 'startup');
  }

  return {
    async start(): Promise<void> {
      running = true;
      const leftovers = await deps.sweeper.failLeftovers().catch((error) => {
        deps.logger.error({ err: error }, 'could not fail the sessions a stopped instance left');
        return [];
      });
      if (leftovers.length > 0)
        deps.logger.warn(
          { sessions: leftovers.map((session) => session.session_id) },
          'sessions left pending or running by a stopped instance were marked failed',
        );
      await resume(false);
      every('incremental', deps.incrementalEveryMs);
      every('full', deps.fullEveryMs);
    },
    /** After a (re)connection: catch up at once rather than at the next tick. */
    async resume(): Promise<void> {
      if (!running) return;
      await resume(true).catch((error) => deps.logger.error({ err: error }, 'could not resume sweeps'));
    },
    stop(): void {
      running = false;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
    },
  };
}
