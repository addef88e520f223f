import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, inject, test } from 'vitest';
import { chaosSeed } from './seed.ts';
import { CHAOS_PRIVATE_APP_TOKEN } from './service-process.ts';
import { type SweepStack, shiftableClock, startSweepStack } from './sweep-stack.ts';

const DAY_MS = 86_400_000;

let stack: SweepStack | undefined;
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

describe.skipIf(inject('testDatabase').kind !== 'postgres')('HubSpot faults', () => {
  test('a 429 storm (another client spending the same budget) slows or fails the sweep cleanly; the sweep completes once it is over', async () => {
    const seed = chaosSeed();
    stack = await startSweepStack({ seed, contacts: 2000 });
    await stack.control.setFaults({ latencyMs: 20 });
    const id = await stack.startSweep('full');
    await stack.progressed(id, 200);
    await stack.control.setFaults({ rateLimit: '20/10s' });
    // Another integration of the same private app, spending the budget as fast as HubSpot lets it.
    const until = Date.now() + 5_000;
    let refused = 0;
    while (Date.now() < until) {
      const answer = await fetch(`${stack.simulator.url}/crm/v3/objects/contacts?limit=1`, {
        headers: { authorization: `Bearer ${CHAOS_PRIVATE_APP_TOKEN}` },
      });
      await answer.arrayBuffer();
      if (answer.status === 429) refused++;
      await sleep(50);
    }
    const during = await stack.session(id);
    await stack.control.setFaults({ rateLimit: '190/10s', latencyMs: 0 });

    let session = await stack.finished(id);
    const firstOutcome = session.status;
    if (session.status === 'failed') {
      expect(session.error).toMatch(/429|rate limit/i);
      session = await stack.finished(await stack.startSweep('full'));
    }
    const retried = stack.retriesLogged('rate_limited');
    console.info(
      `429 storm seed=${seed} 429s to the other client=${refused} service retries=${retried} first sweep ${firstOutcome}`,
    );
    expect(refused).toBeGreaterThan(0);
    expect(during.status).toBe('running');
    expect(retried).toBeGreaterThan(0);
    expect(session).toMatchObject({ status: 'completed', error: null });
    expect(await stack.differences()).toEqual([]);
  }, 120_000);

  test("HubSpot's daily limit fails the sweep with a session that says so, pauses further calls, and a sweep after the reset resumes and completes", async () => {
    const seed = chaosSeed();
    const clock = shiftableClock();
    stack = await startSweepStack({ seed, contacts: 1500, dailyLimit: 20, clock });
    const id = await stack.startSweep('full');
    const failed = await stack.finished(id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/daily/i);

    // Within the pause the service does not spend requests on refusals: the next sweep fails without asking.
    const again = await stack.finished(await stack.startSweep('full'));
    expect(again).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/daily API limit is used up/),
    });

    // Each new day at HubSpot the sweep goes on from its checkpoint. The service's pause is its own (an hour),
    // so an operator restarts it; the restarted service resumes the interrupted sweep by itself.
    let resumed = again;
    let days = 0;
    while (resumed.status === 'failed' && days < 15) {
      expect(resumed.error).toMatch(/daily/i);
      clock.shift(DAY_MS);
      days++;
      await stack.restart();
      resumed = await stack.finished(await stack.startSweep('full'));
    }
    console.info(`daily limit seed=${seed} first error="${failed.error}" days to complete=${days}`);
    expect(resumed).toMatchObject({ status: 'completed', error: null });
    expect(await stack.differences()).toEqual([]);
  }, 120_000);

  test('a private-app token revoked mid-sweep fails the sweep with a session that says why; with a new token a sweep resumes and completes', async () => {
    const seed = chaosSeed();
    stack = await startSweepStack({ seed, contacts: 2000 });
    await stack.control.setFaults({ latencyMs: 20 });
    const id = await stack.startSweep('full');
    const before = await stack.progressed(id, 300);
    await stack.control.revokePrivateApp(CHAOS_PRIVATE_APP_TOKEN);
    const failed = await stack.finished(id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/401|unauthori[sz]ed|token/i);

    await stack.control.setFaults({ latencyMs: 0 });
    await stack.restartWithToken('pat-na1-c4a05000-5555-6666-7777-888888888888');
    const resumed = await stack.finished(await stack.startSweep('full'));
    console.info(
      `token revoked seed=${seed} seen before revoke=${before.progress.seen} failed with "${failed.error}" resumed seen=${resumed.progress.seen}`,
    );
    expect(resumed).toMatchObject({ status: 'completed', error: null });
    expect(await stack.differences()).toEqual([]);
  }, 120_000);
});
