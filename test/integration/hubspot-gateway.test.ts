import { afterEach, describe, expect, test } from 'vitest';
import { createHubSpotClient } from '../../src/hubspot/client.ts';
import { HubSpotError } from '../../src/hubspot/errors.ts';
import { createPacer } from '../../src/hubspot/pacer.ts';
import { createLogger } from '../../src/logger.ts';
import type { GatewayPatch } from '../../src/sim/gateway-faults.ts';
import { createSimulator, type Simulator } from '../../src/sim/simulator.ts';

const TOKEN = 'pat-na1-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const TIMEOUT_MS = 300;
const logger = createLogger({ level: 'silent' });
let simulator: Simulator | undefined;

afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

/** A simulator whose gateway fails the next `burst` requests as asked, then lets HubSpot answer again. */
async function gatewayFailing(gateway: GatewayPatch & { burst: number }): Promise<Simulator> {
  simulator = await createSimulator({ contacts: 30, rateLimit: 'off', logErrors: false });
  Object.assign(simulator.faults.gateway, { rate: 0, hangRate: 0, ...gateway, startBurst: true });
  return simulator;
}

/** The service's client, with short timeouts and no real waits between its retries. */
function serviceClient(sim: Simulator, maxAttempts: number) {
  return createHubSpotClient({
    basePath: sim.url,
    accessToken: async () => TOKEN,
    logger,
    timeoutMs: TIMEOUT_MS,
    pacer: createPacer({
      logger,
      sleep: async () => {},
      maxAttempts,
      assumedMax: 1000,
      assumedIntervalMs: 1000,
    }),
  });
}

const MODES: [string, GatewayPatch, { kind: string; status: number | null }][] = [
  ['a 502 with an HTML page', { status: 502, body: 'html' }, { kind: 'server', status: 502 }],
  ['a 504 with an HTML page', { status: 504, body: 'html' }, { kind: 'server', status: 504 }],
  ['a 502 with an empty body', { status: 502, body: 'empty' }, { kind: 'server', status: null }],
  ['a 504 with an empty body', { status: 504, body: 'empty' }, { kind: 'server', status: null }],
  ['an answer that never comes', { hangRate: 1 }, { kind: 'timeout', status: null }],
];

describe('the HubSpot client behind a failing gateway', () => {
  test.each(MODES)(
    '%s is a transient, retryable HubSpot error with a readable message',
    async (_name, mode, expected) => {
      const sim = await gatewayFailing({ ...mode, burst: 1 });
      const started = Date.now();
      const error = await serviceClient(sim, 1)
        .listContacts(undefined, ['email'], false)
        .catch((caught: unknown) => caught);

      expect(error).toBeInstanceOf(HubSpotError);
      const typed = error as HubSpotError;
      expect({ kind: typed.kind, status: typed.status }).toEqual(expected);
      expect(typed.retryable).toBe(true);
      expect(typed.message).toMatch(/^list contacts: /);
      expect(typed.message).not.toContain('<');
      // A hang ends at the client's own timeout, not whenever the socket gives up (the SDK would wait forever).
      if (expected.kind === 'timeout') expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 2_000);
    },
  );

  test.each(MODES)(
    'a burst of %s is retried through: the call succeeds once HubSpot answers again',
    async (_name, mode) => {
      const sim = await gatewayFailing({ ...mode, burst: 2 });
      const page = await serviceClient(sim, 4).listContacts(undefined, ['email'], false);
      expect(page.contacts.length).toBeGreaterThan(0);
      expect(page.contacts[0]?.properties.email).toMatch(/@/);
    },
  );

  test('the timeout also bounds request(...), the entry point for any other HubSpot call', async () => {
    const sim = await gatewayFailing({ hangRate: 1, burst: 1 });
    const client = serviceClient(sim, 1);
    const started = Date.now();
    const error = await client
      .request('read property definitions', 'sweep', (sdk) =>
        sdk.crm.properties.coreApi.getAllWithHttpInfo('contacts'),
      )
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HubSpotError);
    expect((error as HubSpotError).kind).toBe('timeout');
    expect((error as HubSpotError).message).toMatch(/^read property definitions: no answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + 2_000);

    // Another hang, now with a retry to spare: the second attempt gets HubSpot's answer.
    sim.faults.gateway.startBurst = true;
    const retried = await serviceClient(sim, 2).request('read property definitions', 'sweep', (sdk) =>
      sdk.crm.properties.coreApi.getAllWithHttpInfo('contacts'),
    );
    expect(retried.data.results.length).toBeGreaterThan(0);
  });
});
