import { afterEach, describe, expect, test } from 'vitest';
import type { Simulator } from '../../src/sim/simulator.ts';
import { api, type Json, manualClock, sdkClient, startSimulator } from './helpers.ts';

let simulator: Simulator | undefined;
afterEach(async () => {
  await simulator?.stop();
  simulator = undefined;
});

describe('the ten-secondly rolling limit', () => {
  test('remaining counts down in the headers and the call over the limit is a 429 TEN_SECONDLY_ROLLING through the SDK', async () => {
    const clock = manualClock();
    simulator = await startSimulator({ clock, contacts: 5, rateLimit: '4/10s' });
    const client = sdkClient(simulator);
    const remaining: string[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await client.crm.contacts.basicApi.getPageWithHttpInfo(1);
      expect(response.headers['x-hubspot-ratelimit-max']).toBe('4');
      expect(response.headers['x-hubspot-ratelimit-interval-milliseconds']).toBe('10000');
      remaining.push(response.headers['x-hubspot-ratelimit-remaining'] as string);
    }
    expect(remaining).toEqual(['3', '2', '1', '0']);
    const error = (await client.crm.contacts.basicApi.getPage(1).catch((e: unknown) => e)) as {
      code: number;
      body: Json;
      headers: Record<string, string>;
    };
    expect(error.code).toBe(429);
    const body = typeof error.body === 'string' ? JSON.parse(error.body) : error.body;
    expect(body).toMatchObject({
      status: 'error',
      errorType: 'RATE_LIMIT',
      policyName: 'TEN_SECONDLY_ROLLING',
    });
    expect(error.headers['x-hubspot-ratelimit-remaining']).toBe('0');

    // The window rolls: requests older than 10 s stop counting.
    clock.advance(10_001);
    expect((await client.crm.contacts.basicApi.getPageWithHttpInfo(1)).httpStatusCode).toBe(200);
  });

  test('private apps see daily headers and hit the DAILY cap; OAuth apps have no daily headers', async () => {
    simulator = await startSimulator({ contacts: 5, rateLimit: '100/10s', dailyLimit: 2 });
    const first = await api(simulator, 'GET', '/crm/v3/objects/contacts');
    expect(first.headers.get('x-hubspot-ratelimit-daily')).toBe('2');
    expect(first.headers.get('x-hubspot-ratelimit-daily-remaining')).toBe('1');
    await api(simulator, 'GET', '/crm/v3/objects/contacts');
    const capped = await api(simulator, 'GET', '/crm/v3/objects/contacts');
    expect(capped.status).toBe(429);
    expect(capped.body.policyName).toBe('DAILY');
    // A different private app has its own budget.
    expect((await api(simulator, 'GET', '/crm/v3/objects/contacts', undefined, 'pat-na1-other')).status).toBe(
      200,
    );
  });

  test('POST /__sim/faults changes the rate limit at run time and off removes it', async () => {
    simulator = await startSimulator({ contacts: 5, rateLimit: '190/10s' });
    const faults = await fetch(`${simulator.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rateLimit: '2/1s' }),
    });
    expect(faults.status).toBe(200);
    const statuses = [];
    for (let i = 0; i < 3; i++)
      statuses.push((await api(simulator, 'GET', '/crm/v3/objects/contacts')).status);
    expect(statuses).toEqual([200, 200, 429]);
    await fetch(`${simulator.url}/__sim/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ rateLimit: 'off' }),
    });
    const open = await api(simulator, 'GET', '/crm/v3/objects/contacts');
    expect(open.status).toBe(200);
    expect(open.headers.get('x-hubspot-ratelimit-max')).toBeNull();
  });
});
