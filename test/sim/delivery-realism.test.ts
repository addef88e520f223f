import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { createRandom } from '../../src/sim/random.ts';
import { SEEDED_ID_BASE } from '../../src/sim/seed.ts';
import type { Simulator, SimulatorOptions } from '../../src/sim/simulator.ts';
import {
  createRetrySchedule,
  RETRY_WINDOW_MS,
  timeScaleForFirstRetry,
} from '../../src/sim/webhooks/retry-schedule.ts';
import { type Receiver, sdkClient, startReceiver, startSimulator } from './helpers.ts';

const SECRET = 'delivery-realism-secret';
const CONTACT = String(SEEDED_ID_BASE);
let simulator: Simulator | undefined;
let receiver: Receiver | undefined;

afterEach(async () => {
  await simulator?.stop();
  await receiver?.close();
  simulator = undefined;
  receiver = undefined;
});

/** A simulator delivering to a fresh receiver; `retryBaseMs` is left out so the given schedule applies. */
async function setUp(options: SimulatorOptions = {}): Promise<{ sim: Simulator; hooks: Receiver }> {
  receiver = await startReceiver();
  simulator = await startSimulator({
    contacts: 20,
    clientSecret: SECRET,
    webhookUrl: receiver.url,
    retryBaseMs: undefined,
    ...options,
  });
  return { sim: simulator, hooks: receiver };
}

const control = (sim: Simulator, path: string, body?: unknown) =>
  fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });

async function drain(sim: Simulator) {
  const response = await control(sim, '/__sim/webhooks/drain');
  return (await response.json()) as { delivered: number; failed: number; pending: number };
}

describe("HubSpot's retry schedule", () => {
  test('up to 10 attempts whose growing, randomised delays fit in about 24 hours', () => {
    const schedule = createRetrySchedule({ maxAttempts: 10, timeScale: 1, random: createRandom(7) });
    expect(schedule.totalMs).toBeCloseTo(RETRY_WINDOW_MS, -3);
    // The ceilings double and the nine of them add up to the window.
    const ceiling = (retry: number) => (RETRY_WINDOW_MS / 511) * 2 ** (retry - 1);
    let total = 0;
    for (let retry = 1; retry <= 9; retry++) {
      const delay = schedule.delayMs(retry);
      // Each wait lies between the previous ceiling and its own: random, yet growing.
      expect(delay).toBeGreaterThanOrEqual(ceiling(retry) / 2);
      expect(delay).toBeLessThanOrEqual(ceiling(retry));
      total += delay;
    }
    expect(total).toBeGreaterThan(RETRY_WINDOW_MS / 2);
    expect(total).toBeLessThanOrEqual(RETRY_WINDOW_MS);
    expect(schedule.hasAnotherAttempt(9)).toBe(true);
    expect(schedule.hasAnotherAttempt(10)).toBe(false);
  });

  test('a time scale of 0.001 compresses the 24 hours into about 86 seconds', () => {
    const schedule = createRetrySchedule({ maxAttempts: 10, timeScale: 0.001, random: createRandom(1) });
    expect(schedule.totalMs).toBeCloseTo(86_400, -1);
  });

  test('retryBaseMs sets the scale so that the first retry comes after it', () => {
    const timeScale = timeScaleForFirstRetry(250, 10);
    const schedule = createRetrySchedule({ maxAttempts: 10, timeScale, random: createRandom(3) });
    for (let i = 0; i < 50; i++) {
      const first = schedule.delayMs(1);
      expect(first).toBeGreaterThanOrEqual(250);
      expect(first).toBeLessThanOrEqual(500);
    }
  });

  test('every 4xx is retried like a 5xx, on the growing schedule, until the attempts run out', async () => {
    // 24 h × 0.00001 ≈ 0.86 s for the whole schedule.
    const { sim, hooks } = await setUp({ retryTimeScale: 0.00001 });
    sim.faults.reorderWindowMs = 0;
    hooks.respondWith(() => 401);
    await sdkClient(sim).crm.contacts.basicApi.update(CONTACT, { properties: { jobtitle: 'Refused' } });
    const stats = await drain(sim);

    expect(stats).toMatchObject({ delivered: 0, failed: 1, pending: 0 });
    expect(hooks.deliveries.map((delivery) => delivery.events[0]?.attemptNumber)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    const times = hooks.deliveries.map((delivery) => delivery.receivedAt);
    const gaps = times.slice(1).map((time, index) => time - (times[index] as number));
    // The last waits are the long ones: together they take most of the window.
    expect((gaps[8] as number) + (gaps[7] as number)).toBeGreaterThan(
      (gaps[0] as number) + (gaps[1] as number),
    );
    expect((times.at(-1) as number) - (times[0] as number)).toBeLessThan(2_000);
  });

  test("a 429's Retry-After is waited out before the next attempt", async () => {
    const arrivals: number[] = [];
    const server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        arrivals.push(Date.now());
        if (arrivals.length === 1) response.writeHead(429, { 'retry-after': '1' });
        else response.writeHead(204);
        response.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const { sim } = await setUp({ retryTimeScale: 0.00001, webhookUrl: `http://127.0.0.1:${port}/hook` });
      sim.faults.reorderWindowMs = 0;
      await sdkClient(sim).crm.contacts.basicApi.update(CONTACT, { properties: { jobtitle: 'Later' } });
      const stats = await drain(sim);
      expect(stats).toMatchObject({ delivered: 1, failed: 0 });
      expect(arrivals).toHaveLength(2);
      // Without the header the first retry would come within about 0.17 s.
      expect((arrivals[1] as number) - (arrivals[0] as number)).toBeGreaterThanOrEqual(1000);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('natural reordering', () => {
  const steps = (hooks: Receiver) =>
    hooks
      .events()
      .filter((event) => event.propertyName === 'jobtitle')
      .map((event) => Number(String(event.propertyValue).replace('Step ', '')));

  async function twentyEdits(sim: Simulator): Promise<void> {
    const client = sdkClient(sim);
    for (let i = 0; i < 20; i++)
      await client.crm.contacts.basicApi.update(CONTACT, { properties: { jobtitle: `Step ${i}` } });
  }

  test('is on by default: events arrive out of order, and drain still waits for every one', async () => {
    const { sim, hooks } = await setUp();
    const faults = (await (await fetch(`${sim.url}/__sim/faults`)).json()) as { reorderWindowMs: number };
    expect(faults.reorderWindowMs).toBeGreaterThanOrEqual(200);

    await twentyEdits(sim);
    const stats = await drain(sim);
    expect(stats.pending).toBe(0);
    const arrival = steps(hooks);
    expect([...arrival].sort((a, b) => a - b)).toEqual([...Array(20).keys()]);
    expect(arrival).not.toEqual([...Array(20).keys()]);
    // Shuffled across requests, not only inside one.
    expect(hooks.deliveries.length).toBeGreaterThan(1);
  });

  test('reorderWindowMs 0 turns it off', async () => {
    const { sim, hooks } = await setUp();
    expect((await control(sim, '/__sim/faults', { reorderWindowMs: 0 })).status).toBe(200);
    await twentyEdits(sim);
    await drain(sim);
    expect(steps(hooks)).toEqual([...Array(20).keys()]);
  });
});

describe('signatures behind a proxy', () => {
  test('signedUrl is what the signatures name, while the POST goes to webhookUrl', async () => {
    const publicUrl = 'https://hooks.example.com/webhooks/hubspot?portal=62515';
    const { sim, hooks } = await setUp({ signedUrl: publicUrl, retryBaseMs: 20 });
    await sdkClient(sim).crm.contacts.basicApi.update(CONTACT, { properties: { jobtitle: 'Proxied' } });
    await drain(sim);
    const delivery = hooks.deliveries[0];
    expect(delivery).toBeDefined();
    const timestamp = delivery?.headers['x-hubspot-request-timestamp'] as string;
    const over = (uri: string) =>
      createHmac('sha256', SECRET).update(`POST${uri}${delivery?.rawBody}${timestamp}`).digest('base64');
    expect(delivery?.headers['x-hubspot-signature-v3']).toBe(over(publicUrl));
    expect(delivery?.headers['x-hubspot-signature-v3']).not.toBe(over(hooks.url));
  });
});

describe('batches that mix portals', () => {
  test('foreignPortalRate interleaves events of other installing portals into the batches', async () => {
    const { sim, hooks } = await setUp({ retryBaseMs: 20 });
    expect((await control(sim, '/__sim/faults', { foreignPortalRate: 1, reorderWindowMs: 0 })).status).toBe(
      200,
    );
    await sdkClient(sim).crm.contacts.basicApi.update(CONTACT, {
      properties: { jobtitle: 'Mixed', city: 'Lyon' },
    });
    await drain(sim);
    const events = hooks.events();
    const ours = events.filter((event) => event.portalId === 62515);
    const foreign = events.filter((event) => event.portalId !== 62515);
    expect(ours).toHaveLength(2);
    expect(foreign).toHaveLength(2);
    // Same app and subscriptions, another portal; in the same request as ours.
    expect(foreign.every((event) => event.appId === 54321)).toBe(true);
    expect(new Set(foreign.map((event) => event.subscriptionId))).toEqual(
      new Set(ours.map((event) => event.subscriptionId)),
    );
    expect(hooks.deliveries.some((d) => new Set(d.events.map((e) => e.portalId)).size > 1)).toBe(true);
  });

  test('bad fault values are refused with a HubSpot-shaped 400 naming the field', async () => {
    const { sim } = await setUp();
    const response = await control(sim, '/__sim/faults', { foreignPortalRate: 2 });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { status: string; category: string; message: string };
    expect(body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    expect(body.message).toContain('foreignPortalRate');
  });
});
