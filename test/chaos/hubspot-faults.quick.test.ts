import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, inject, test } from 'vitest';
import { chaosSeed } from './seed.ts';
import { type SweepStack, startSweepStack } from './sweep-stack.ts';

let stack: SweepStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe.skipIf(inject('testDatabase').kind !== 'postgres')('HubSpot faults (quick)', () => {
  test('a burst of 5xx answers mid-sweep slows the sweep down; it still completes and the mirror equals HubSpot', async () => {
    const seed = chaosSeed();
    stack = await startSweepStack({ seed, contacts: 800 });
    await stack.control.setFaults({ latencyMs: 20 });
    const id = await stack.startSweep('full');
    await stack.progressed(id, 200);
    const gateway = 'gateway' in (await stack.control.faults());
    await stack.control.setFaults({
      errorRate: 1,
      ...(gateway ? { gateway: { startBurst: true, burst: 3, hangRate: 0 } } : {}),
    });
    await sleep(1_500);
    await stack.control.setFaults({ errorRate: 0, latencyMs: 0 });

    const session = await stack.finished(id);
    const retried = stack.retriesLogged('server');
    console.info(`5xx burst seed=${seed} retried calls=${retried} gateway faults=${gateway}`);
    expect(session).toMatchObject({ status: 'completed', error: null });
    expect(retried).toBeGreaterThan(0);
    expect(await stack.differences()).toEqual([]);
  }, 60_000);
});
