import { describe, expect, inject, test } from 'vitest';
import { runCrashScenario } from './crash-scenario.ts';
import { chaosSeed } from './seed.ts';

describe.skipIf(inject('testDatabase').kind !== 'postgres')('crashes (quick)', () => {
  test('a service SIGKILLed mid-stream and restarted mirrors HubSpot exactly, from webhooks alone', async () => {
    const seed = chaosSeed();
    const outcome = await runCrashScenario({ seed, kills: 1, changes: 120, perSecond: 40 });
    console.info(
      `crash quick seed=${seed} kills=${outcome.kills} deliveries acknowledged=${outcome.drain.delivered} distinct events acknowledged=${outcome.acknowledged} stored=${outcome.stored} slowest restart=${outcome.slowestRestartMs} ms`,
    );
    expect(outcome.drain).toMatchObject({ failed: 0, pending: 0 });
    expect(outcome.lost).toEqual([]);
    expect(outcome.parked).toBe(0);
    expect(outcome.differences).toEqual([]);
  }, 60_000);
});
