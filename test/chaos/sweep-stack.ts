import { setTimeout as sleep } from 'node:timers/promises';
import type { Database } from '../../src/db/client.ts';
import type { Clock } from '../../src/sim/clock.ts';
import { createSimulator, type Simulator } from '../../src/sim/simulator.ts';
import { createScratchDatabase, type ScratchDatabase } from '../helpers/database.ts';
import { mirrorDifferences } from '../helpers/stack.ts';
import {
  CHAOS_ADMIN_TOKEN,
  CHAOS_PORTAL,
  CHAOS_SECRET,
  createServiceProcess,
  type ServiceProcess,
} from './service-process.ts';
import { type SimulatorControl, simulatorControl } from './simulator-control.ts';

export interface SessionView {
  id: string;
  status: 'pending' | 'running' | 'completed' | 'failed';
  error: string | null;
  progress: { seen: number; phase: string | null };
  logs: unknown[];
}

export interface SweepStackOptions {
  seed: number;
  contacts: number;
  /** HubSpot's daily cap per private app (null: none). */
  dailyLimit?: number | null;
  /** The simulator's clock, to move it to another day. */
  clock?: Clock;
}

/** A clock that runs with the real one and can be moved forward (to let HubSpot's daily limit reset). */
export function shiftableClock() {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    shift(ms: number) {
      offsetMs += ms;
    },
  };
}

/**
 * A seeded portal, the service as a child process with no sweep schedule and no webhooks: every change to the
 * mirror comes from sweeps the test starts through the admin API.
 */
export async function startSweepStack(options: SweepStackOptions) {
  const simulator: Simulator = await createSimulator({
    contacts: options.contacts,
    seed: options.seed,
    // HubSpot's real limits (190 a 10 s per private app, 5 searches a second), and the daily cap when asked.
    rateLimit: '190/10s',
    dailyLimit: options.dailyLimit ?? null,
    clientSecret: CHAOS_SECRET,
    portalId: CHAOS_PORTAL,
    logErrors: false,
    ...(options.clock ? { clock: options.clock } : {}),
  });
  const scratch: ScratchDatabase = await createScratchDatabase();
  const database: Database = await scratch.open();
  if (!scratch.url) throw new Error('the chaos suite needs a real PostgreSQL (TEST_DATABASE_URL)');
  const databaseUrl = scratch.url;
  let service: ServiceProcess = await createServiceProcess({ databaseUrl, hubspotApiBase: simulator.url });
  await service.start();
  const control: SimulatorControl = simulatorControl(simulator.url);

  const api = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${CHAOS_ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  return {
    simulator,
    control,
    database,
    get service() {
      return service;
    },
    /**
     * Starts a sweep through the admin API; answers its session id. A restarted service resumes an interrupted
     * sweep by itself at start-up: that one's id, when it is the one running.
     */
    async startSweep(mode: 'full' | 'incremental' = 'full'): Promise<string> {
      const answer = await api('POST', '/api/contacts/sync', { mode });
      const running = answer.body.session as { id?: string; trigger?: string } | null | undefined;
      if (answer.status === 409 && running?.trigger === 'startup' && running.id) return running.id;
      if (answer.status !== 202)
        throw new Error(`POST /api/contacts/sync answered ${answer.status}: ${JSON.stringify(answer.body)}`);
      return String(answer.body.id);
    },
    async session(id: string): Promise<SessionView> {
      const answer = await api('GET', `/api/sync/sessions/${id}`);
      if (answer.status !== 200) throw new Error(`GET /api/sync/sessions/${id} answered ${answer.status}`);
      return answer.body as unknown as SessionView;
    },
    /** Polls the session until it has completed or failed. */
    async finished(id: string, timeoutMs = 120_000): Promise<SessionView> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const view = await this.session(id);
        if (view.status === 'completed' || view.status === 'failed') return view;
        if (Date.now() > deadline)
          throw new Error(`session ${id} still ${view.status} after ${timeoutMs} ms`);
        await sleep(200);
      }
    },
    /** Waits until the session has read at least `seen` contacts. */
    async progressed(id: string, seen: number, timeoutMs = 60_000): Promise<SessionView> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const view = await this.session(id);
        if (view.progress.seen >= seen || view.status === 'completed' || view.status === 'failed')
          return view;
        if (Date.now() > deadline) throw new Error(`session ${id} read only ${view.progress.seen} contacts`);
        await sleep(50);
      }
    },
    /** The operator's fix for a dead token: a new one in the environment, and a restart. */
    async restartWithToken(token: string) {
      await service.stop();
      service = await createServiceProcess({
        databaseUrl,
        hubspotApiBase: simulator.url,
        env: { HUBSPOT_ACCESS_TOKEN: token },
      });
      await service.start();
    },
    async restart() {
      await service.kill();
      await service.start();
    },
    differences: () => mirrorDifferences({ simulator, database }),
    /** How often the service's log says a HubSpot call failed with `kind` and is being retried. */
    retriesLogged(kind: string): number {
      return service
        .output()
        .split('\n')
        .filter((line) => line.includes('HubSpot call will be retried') && line.includes(`"kind":"${kind}"`))
        .length;
    },
    async stop() {
      await service.kill();
      await simulator.stop();
      await database.close();
      await scratch.drop();
    },
  };
}

export type SweepStack = Awaited<ReturnType<typeof startSweepStack>>;
