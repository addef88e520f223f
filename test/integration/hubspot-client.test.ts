import { afterEach, describe, expect, test } from 'vitest';
import { createHubSpotClient } from '../../src/hubspot/client.ts';
import { createPacer } from '../../src/hubspot/pacer.ts';
import { createLogger } from '../../src/logger.ts';
import { createSimulator, type Simulator } from '../../src/sim/simulator.ts';
import { changesFromRead } from '../../src/sync/fetch/contact-fetcher.ts';

const TOKEN = 'pat-na1-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
const logger = createLogger({ level: 'silent' });
let simulator: Simulator | undefined;

afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

async function start(options: Parameters<typeof createSimulator>[0] = {}) {
  simulator = await createSimulator({ contacts: 50, rateLimit: 'off', logErrors: false, ...options });
  return simulator;
}

const client = (
  sim: Simulator,
  options: { token?: string; maxAttempts?: number; assumedMax?: number; realTime?: boolean } = {},
) =>
  createHubSpotClient({
    basePath: sim.url,
    accessToken: async () => options.token ?? TOKEN,
    logger,
    pacer: createPacer({
      logger,
      ...(options.realTime ? {} : { sleep: async () => {} }),
      maxAttempts: options.maxAttempts ?? 5,
      assumedMax: options.assumedMax ?? 1000,
      assumedIntervalMs: 1000,
    }),
  });

describe('the HubSpot client against the simulator', () => {
  test('a batch read returns the contacts it found and names the ids HubSpot does not know', async () => {
    const sim = await start();
    const first = String(sim.portal.plan.idBase);
    const result = await client(sim).batchReadContacts([first, '999999999'], ['email', 'firstname']);
    expect(result.contacts.map((c) => c.id)).toEqual([first]);
    expect(result.contacts[0]?.properties.email).toMatch(/@/);
    expect(result.missing).toEqual(['999999999']);
  });

  test('reading a merged-away id returns its survivor, and the read says the id was merged into it', async () => {
    const sim = await start();
    const base = sim.portal.plan.idBase;
    const survivor = sim.portal.merge(base + 1, base + 2, { changeSource: 'CRM_UI' } as never);
    const result = await client(sim).batchReadContacts([String(base + 2)], ['email', 'hs_merged_object_ids']);
    expect(result.contacts.map((c) => c.id)).toEqual([String(survivor.id)]);
    const { batch, missing } = changesFromRead(result, [String(base + 2)]);
    expect(missing).toEqual([]);
    expect(batch.get(String(base + 2))).toEqual([
      expect.objectContaining({ kind: 'lifecycle', event: 'mergedAway', survivor: String(survivor.id) }),
    ]);
  });

  test('a token HubSpot refuses is an unauthorized error, not retried', async () => {
    const sim = await start();
    await expect(
      client(sim, { token: 'not-a-token' }).batchReadContacts(['1'], ['email']),
    ).rejects.toMatchObject({
      name: 'HubSpotError',
      kind: 'unauthorized',
      status: 401,
    });
  });

  test('after a 401 the connection is asked for a fresh token, and the call is sent once more with it', async () => {
    const sim = await start();
    let current = 'expired-token';
    const refusedTokens: string[] = [];
    const hubspot = createHubSpotClient({
      basePath: sim.url,
      accessToken: async () => current,
      onUnauthorized: async (token) => {
        refusedTokens.push(token);
        current = TOKEN;
        return current;
      },
      logger,
    });
    const page = await hubspot.listContacts(undefined, ['email'], false);
    expect(page.contacts.length).toBeGreaterThan(0);
    expect(refusedTokens).toEqual(['expired-token']);
    // No fresh token to be had (a revoked grant): the 401 stands, and is not retried in a loop.
    let asked = 0;
    const dead = createHubSpotClient({
      basePath: sim.url,
      accessToken: async () => 'revoked-token',
      onUnauthorized: async () => {
        asked++;
        return undefined;
      },
      logger,
    });
    await expect(dead.listContacts(undefined, ['email'], false)).rejects.toMatchObject({ status: 401 });
    expect(asked).toBe(1);
  });

  test('5xx answers are retried, then surfaced as a server error', async () => {
    const sim = await start();
    await fetch(`${sim.url}/__sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ errorRate: 1 }),
      headers: { 'content-type': 'application/json' },
    });
    await expect(client(sim, { maxAttempts: 2 }).batchReadContacts(['1'], ['email'])).rejects.toMatchObject({
      kind: 'server',
    });
  });

  test('429s from the ten-secondly limit are absorbed, and the limit is learned from the headers', async () => {
    const sim = await start({ rateLimit: '4/1s' });
    const hubspot = client(sim, { maxAttempts: 10, realTime: true });
    const ids = [String(sim.portal.plan.idBase)];
    const reads = await Promise.all(
      Array.from({ length: 12 }, () => hubspot.batchReadContacts(ids, ['email'])),
    );
    expect(reads.every((r) => r.contacts.length === 1)).toBe(true);
    expect(hubspot.pacer.pace).toMatchObject({ max: 4, intervalMs: 1000 });
  });
});
