import { setTimeout as sleep } from 'node:timers/promises';
import { createSimulator } from '../../src/sim/simulator.ts';
import { createScratchDatabase } from '../helpers/database.ts';
import { freePort } from '../helpers/process.ts';
import { acknowledgedButNotApplied, inboxCounts, settledDifferences } from './mirror.ts';
import { createRecordingProxy } from './recording-proxy.ts';
import { seededRandom } from './seed.ts';
import { CHAOS_PORTAL, CHAOS_SECRET, createServiceProcess } from './service-process.ts';
import { type DrainReport, simulatorControl } from './simulator-control.ts';

export interface CrashScenario {
  seed: number;
  kills: number;
  /** Portal changes made while the service is being killed. */
  changes: number;
  perSecond: number;
}

export interface CrashOutcome {
  drain: DrainReport;
  /** Distinct events the service answered 2xx for. */
  acknowledged: number;
  /** Acknowledged events that are not in the inbox as applied. */
  lost: string[];
  /** Distinct events the service stored. */
  stored: number;
  parked: number;
  kills: number;
  /** The slowest restart, kill to ready (ms). */
  slowestRestartMs: number;
  differences: string[];
}

/**
 * The service as a child process, SIGKILLed at random moments while the simulator streams a portal's activity
 * to it with duplicates and reordering, and started again on the same port each time. No sweep runs: only the
 * webhooks (and HubSpot's retries of the ones a dead process never answered) can bring the mirror level.
 */
export async function runCrashScenario(scenario: CrashScenario): Promise<CrashOutcome> {
  const random = seededRandom(scenario.seed);
  const simulator = await createSimulator({
    contacts: 0,
    seed: scenario.seed,
    rateLimit: 'off',
    // HubSpot's schedule scaled down: ten attempts over about a minute, far longer than a restart.
    retryBaseMs: 100,
    clientSecret: CHAOS_SECRET,
    portalId: CHAOS_PORTAL,
    logErrors: false,
  });
  const scratch = await createScratchDatabase();
  const database = await scratch.open();
  if (!scratch.url) throw new Error('the crash scenario needs a real PostgreSQL (TEST_DATABASE_URL)');
  // A recording proxy in front of the service keeps its every answer: what it acknowledged is known event by event.
  const port = await freePort();
  const proxy = await createRecordingProxy(`http://127.0.0.1:${port}`);
  const webhookUrl = `${proxy.url}/webhooks/hubspot`;
  const service = await createServiceProcess({
    port,
    databaseUrl: scratch.url,
    hubspotApiBase: simulator.url,
    env: { WEBHOOK_PUBLIC_URL: webhookUrl },
  });
  try {
    await service.start();
    simulator.setWebhookUrl(webhookUrl);
    const control = simulatorControl(simulator.url);
    await control.setFaults({ duplicateRate: 0.2, reorderWindowMs: 300 });

    const activity = control.activity(scenario.changes, scenario.perSecond);
    // Awaited below; should the scenario fail first, stopping the simulator ends the call, and that is no news.
    activity.catch(() => {});
    const activitySeconds = scenario.changes / scenario.perSecond;
    // Kills spread over the stream, each at a random moment of its slice of it.
    const sliceMs = (activitySeconds * 1000) / (scenario.kills + 1);
    let slowestRestartMs = 0;
    for (let kill = 0; kill < scenario.kills; kill++) {
      await sleep(random.between(Math.round(sliceMs * 0.3), Math.round(sliceMs)));
      const killedAt = Date.now();
      await service.kill();
      await sleep(random.between(0, 500));
      await service.start();
      slowestRestartMs = Math.max(slowestRestartMs, Date.now() - killedAt);
    }
    await activity;
    const drain = await control.drain(90_000);
    const differences = await settledDifferences(simulator, database);
    const { stored, parked } = await inboxCounts(database);
    const { acknowledged, lost } = await acknowledgedButNotApplied(database, proxy.deliveries);
    return {
      drain,
      acknowledged,
      lost,
      stored,
      parked,
      kills: scenario.kills,
      slowestRestartMs,
      differences,
    };
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- service output ---\n${service.output().slice(-4000)}`, {
      cause: error,
    });
  } finally {
    // Its shutdown is not under test here; a kill is quicker.
    await service.kill();
    await proxy.close();
    await simulator.stop();
    await database.close();
    await scratch.drop();
  }
}
