import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'vitest';
import { createDatabase } from '../../src/db/client.ts';
import { createSimulator } from '../../src/sim/simulator.ts';
import { freePort, waitFor } from '../helpers/process.ts';
import { acknowledgedButNotApplied, inboxCounts, settledDifferences } from './mirror.ts';
import type { PostgresCluster } from './postgres-cluster.ts';
import { createRecordingProxy } from './recording-proxy.ts';
import { seededRandom } from './seed.ts';
import { CHAOS_PORTAL, CHAOS_SECRET, createServiceProcess } from './service-process.ts';
import { type DrainReport, simulatorControl } from './simulator-control.ts';

export interface OutageScenario {
  seed: number;
  /** A cluster of the test's own, running; it is stopped and started again mid-stream. */
  cluster: PostgresCluster;
  stopMode: 'fast' | 'immediate';
  outageMs: number;
  changes: number;
  perSecond: number;
}

export interface OutageOutcome {
  drain: DrainReport;
  /** The service's answers to deliveries made while the database was down. */
  answersWhileDown: number[];
  /** Distinct reasons the service logged for deliveries it could not store, to tell a 500 from a 503. */
  notStoredReasons: string[];
  /** /readyz while the database was down: status code and body. */
  readinessWhileDown: { status: number; body: unknown }[];
  /** Events answered 2xx at any time. */
  acknowledged: number;
  /** Acknowledged events that are not in the inbox as applied. */
  lost: string[];
  parked: number;
  /** From the database's restart to /readyz 200, and to the first acknowledged delivery (ms). */
  readyAfterMs: number;
  acceptingAfterMs: number;
  differences: string[];
}

/** /readyz's answer; status 0 when nothing answered. */
async function readiness(url: string): Promise<{ status: number; body: unknown }> {
  try {
    const response = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: await response.json() };
  } catch (error) {
    return { status: 0, body: (error as Error).message };
  }
}

function notStoredReasons(log: string): string[] {
  const reasons = new Set<string>();
  for (const line of log.split('\n')) {
    if (!line.includes('webhook delivery not stored')) continue;
    try {
      const entry = JSON.parse(line) as { errorType?: string; reason?: string };
      reasons.add(`${entry.errorType}: ${entry.reason}`.replace(/127\.0\.0\.1:\d+/g, 'HOST'));
    } catch {
      // A line cut short by a SIGKILL.
    }
  }
  return [...reasons];
}

/**
 * The service on a PostgreSQL cluster that goes away for a few seconds in the middle of a webhook stream and
 * comes back, the service itself never restarted. A recording proxy between the simulator and the service
 * keeps every answer, so what was acknowledged is known event by event.
 */
export async function runOutageScenario(scenario: OutageScenario): Promise<OutageOutcome> {
  const random = seededRandom(scenario.seed);
  const began = Date.now();
  const timeline: string[] = [];
  const mark = (what: string) => timeline.push(`${what} ${((Date.now() - began) / 1000).toFixed(1)}s`);
  const simulator = await createSimulator({
    contacts: 0,
    seed: scenario.seed,
    rateLimit: 'off',
    retryBaseMs: 100,
    clientSecret: CHAOS_SECRET,
    portalId: CHAOS_PORTAL,
    logErrors: false,
  });
  const databaseUrl = await scenario.cluster.createDatabase();
  const port = await freePort();
  const proxy = await createRecordingProxy(`http://127.0.0.1:${port}`);
  const webhookUrl = `${proxy.url}/webhooks/hubspot`;
  const service = await createServiceProcess({
    port,
    databaseUrl,
    hubspotApiBase: simulator.url,
    env: { WEBHOOK_PUBLIC_URL: webhookUrl },
  });
  const database = await createDatabase({ url: databaseUrl, maxConnections: 2 });
  try {
    await service.start();
    mark('service ready');
    simulator.setWebhookUrl(webhookUrl);
    const control = simulatorControl(simulator.url);
    await control.setFaults({ duplicateRate: 0.1, reorderWindowMs: 200 });
    const activity = control.activity(scenario.changes, scenario.perSecond);
    // Awaited below; should the scenario fail first, stopping the simulator ends the call, and that is no news.
    activity.catch(() => {});

    await sleep(random.between(800, 1500));
    await scenario.cluster.stop(scenario.stopMode);
    const downAt = Date.now();
    mark('database down');
    const readinessWhileDown: { status: number; body: unknown }[] = [];
    while (Date.now() - downAt < scenario.outageMs) {
      readinessWhileDown.push(await readiness(service.url));
      await sleep(Math.min(500, Math.max(0, scenario.outageMs - (Date.now() - downAt))));
    }
    if (!service.running()) throw new Error('the service process died while the database was down');
    const restartingAt = Date.now();
    await scenario.cluster.start();
    const upAt = Date.now();
    mark('database up');
    await waitFor(async () => ((await readiness(service.url)).status === 200 ? true : undefined), 30_000);
    const readyAfterMs = Date.now() - upAt;
    mark('service ready again');

    await activity;
    mark('activity done');
    const drain = await control.drain(90_000);
    mark('webhooks drained');
    const differences = await settledDifferences(simulator, database);
    mark('mirror settled');

    // In-flight requests may finish either way at the edges: only answers well inside the outage count.
    const answersWhileDown = proxy.deliveries
      .filter((d) => d.at > downAt + 250 && d.at < restartingAt)
      .map((d) => d.status);
    const firstAcknowledged = proxy.deliveries.find((d) => d.at >= upAt && d.status >= 200 && d.status < 300);
    const { acknowledged, lost } = await acknowledgedButNotApplied(database, proxy.deliveries);
    const { parked } = await inboxCounts(database);
    return {
      drain,
      answersWhileDown,
      notStoredReasons: notStoredReasons(service.output()),
      readinessWhileDown,
      acknowledged,
      lost,
      parked,
      readyAfterMs,
      acceptingAfterMs: firstAcknowledged ? firstAcknowledged.at - upAt : Number.NaN,
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
    mark('cleaned up');
    console.info(`outage timeline: ${timeline.join(', ')}`);
  }
}

/** 503s and not ready while the database was down; afterwards every acknowledged event applied and the mirror level. */
export function expectRecovered(outcome: OutageOutcome) {
  expect(outcome.answersWhileDown.length).toBeGreaterThan(0);
  expect(new Set(outcome.answersWhileDown), outcome.notStoredReasons.join('\n')).toEqual(new Set([503]));
  expect(outcome.readinessWhileDown.length).toBeGreaterThan(0);
  for (const answer of outcome.readinessWhileDown)
    expect(answer).toEqual({
      status: 503,
      body: expect.objectContaining({ status: 'not_ready', database: 'down' }),
    });
  expect(outcome.drain).toMatchObject({ failed: 0, pending: 0 });
  expect(outcome.lost).toEqual([]);
  expect(outcome.parked).toBe(0);
  expect(outcome.differences).toEqual([]);
}
