import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.ts';
import { api, assertMatchesSchema, type Json, sdkClient, startSimulator } from './helpers.ts';

let simulator: Simulator;

beforeAll(async () => {
  simulator = await startSimulator({ contacts: 10 });
});
afterAll(async () => {
  await simulator.stop();
});
beforeEach(async () => {
  await setGateway({ rate: 0, burst: 5, hangRate: 0, body: 'mixed', status: 'mixed' });
});

async function setGateway(gateway: Record<string, unknown>): Promise<{ status: number; body: Json }> {
  const response = await fetch(`${simulator.url}/__sim/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ gateway }),
  });
  return { status: response.status, body: await response.json() };
}

/** What the official SDK throws for one call, or `answered` when the call went through. */
async function sdkOutcome(): Promise<Json> {
  try {
    await sdkClient(simulator).crm.contacts.basicApi.getPage(5);
    return 'answered';
  } catch (error) {
    return error;
  }
}

describe('gateway faults, as the official SDK meets them', () => {
  test('a 502 with an HTML page: ApiException with the status and the page as its body', async () => {
    await setGateway({ rate: 1, burst: 1, body: 'html', status: 502 });
    const raw = await api(simulator, 'GET', '/crm/v3/objects/contacts?limit=5').catch((error) => error);
    // Not JSON at all: the helper's JSON.parse fails on the page.
    expect(raw).toBeInstanceOf(SyntaxError);

    await setGateway({ rate: 1, burst: 1, body: 'html', status: 502 });
    const error = await sdkOutcome();
    expect(error.code).toBe(502);
    expect(String(error.body)).toMatch(/^<!DOCTYPE html>/);
    expect(error.headers['content-type']).toMatch(/^text\/html/);
  });

  test('a 504 with an empty body: a bare Error without any status', async () => {
    await setGateway({ rate: 1, burst: 1, body: 'empty', status: 504 });
    const response = await fetch(`${simulator.url}/crm/v3/objects/contacts?limit=5`);
    expect(response.status).toBe(504);
    expect(response.headers.get('content-type')).toBeNull();
    expect(await response.text()).toBe('');

    await setGateway({ rate: 1, burst: 1, body: 'empty', status: 504 });
    const error = await sdkOutcome();
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBeUndefined();
    expect(error.message).toMatch(/Cannot parse content/);
  });

  test('a hang: no answer ever comes, and the SDK has no timeout of its own', async () => {
    await setGateway({ rate: 1, burst: 1, hangRate: 1 });
    const outcome = await Promise.race([
      sdkOutcome(),
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 700)),
    ]);
    expect(outcome).toBe('still waiting');
  });

  test('failures come in bursts, then HubSpot answers again in its own shapes; /__sim/ stays reachable', async () => {
    const status = async () => {
      const response = await fetch(`${simulator.url}/crm/v3/objects/contacts?limit=5`, {
        headers: { authorization: 'Bearer pat-na1-11111111-2222-3333-4444-555555555555' },
      });
      await response.arrayBuffer();
      return response.status;
    };
    await setGateway({ startBurst: true, burst: 3 });
    const statuses = [await status()];
    // The control API answers in the middle of a burst.
    expect((await fetch(`${simulator.url}/__sim/faults`)).status).toBe(200);
    statuses.push(await status(), await status(), await status());
    expect(statuses.slice(0, 3).every((code) => code === 502 || code === 504)).toBe(true);
    expect(statuses[3]).toBe(200);

    const page = await sdkClient(simulator).crm.contacts.basicApi.getPage(5);
    assertMatchesSchema(
      'crm-contacts-v3',
      'CollectionResponseSimplePublicObjectWithAssociationsForwardPaging',
      {
        ...page,
        results: page.results.map((contact) => ({
          ...contact,
          createdAt: contact.createdAt.toISOString(),
          updatedAt: contact.updatedAt.toISOString(),
        })),
      },
    );
  });

  test('a rate below 1 starts bursts at random: some requests fail, most go through', async () => {
    await setGateway({ rate: 0.05, burst: 4, body: 'empty' });
    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) {
      const response = await fetch(`${simulator.url}/crm/v3/objects/contacts?limit=1`, {
        headers: { authorization: 'Bearer pat-na1-11111111-2222-3333-4444-555555555555' },
      });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    const failed = statuses.filter((status) => status !== 200).length;
    expect(failed).toBeGreaterThan(0);
    expect(failed).toBeLessThan(150);
    // Failures cluster: a failed request is usually followed by another.
    const runs = statuses.filter((status, i) => status !== 200 && statuses[i - 1] === 200).length;
    expect(runs).toBeLessThan(failed);
  });

  test('GET /__sim/faults shows the gateway settings, and bad ones are refused in HubSpot’s error shape', async () => {
    const current = (await (await fetch(`${simulator.url}/__sim/faults`)).json()) as Json;
    expect(current.gateway).toEqual({
      rate: 0,
      burst: 5,
      hangRate: 0,
      body: 'mixed',
      status: 'mixed',
      startBurst: false,
    });

    for (const [bad, field] of [
      [{ rate: 1.5 }, 'rate'],
      [{ burst: 0 }, 'burst'],
      [{ status: 500 }, 'status'],
      [{ body: 'xml' }, 'body'],
      [{ hangs: 1 }, 'hangs'],
    ] as const) {
      const refused = await setGateway(bad);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
      expect(refused.body.message).toContain(field);
      assertMatchesSchema('crm-contacts-v3', 'Error', refused.body);
    }
    const after = (await (await fetch(`${simulator.url}/__sim/faults`)).json()) as Json;
    expect(after.gateway.rate).toBe(0);
  });
});
